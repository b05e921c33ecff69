#!/usr/bin/env bash
# Install test of the nut-rs .deb, run by CI after scripts/build-deb:
#
#   packaging/test-deb.sh target/debian/nut-rs_<version>_<arch>.deb
#
# The package replaces Debian's nut-server/nut-client (same unit and program names), and
# those are installed on the CI machine as reference peers for the other tests. So the whole
# test runs in private mount and PID namespaces with the system directories (/etc, /usr,
# /var, /run) behind throw-away overlays: dpkg really removes Debian's NUT, installs, runs and
# purges nut-rs, but every change vanishes with the namespace. Afterwards the script checks
# that the machine is exactly as it found it. Needs root, unshare(1) and overlayfs; anything
# missing is a failure, never a skip.
#
# Inside, two scenarios:
#  A. over Debian's NUT (removed, its configuration kept): nut-rs installs without touching
#     the existing /etc/nut files, and its purge leaves them;
#  B. on a machine that never had NUT (no nut user, no /etc/nut): postinst creates the user,
#     0640 root:nut sample configs and /run/nut (0770 root:nut); the installed units verify;
#     the generator finds the ups.conf section; dummy-ups and upsd from the package, started
#     with their units' command lines, answer upsc; stop leaves nothing; purge removes
#     every file of the package and everything postinst created.
set -euo pipefail

say() { printf 'test-deb: %s\n' "$*"; }
die() { printf 'test-deb: FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"

if [ "${1:-}" != --inside ]; then
    DEB=$(realpath "${1:?usage: test-deb.sh <nut-rs.deb>}")
    [ -f "$DEB" ] || die "$DEB does not exist (run scripts/build-deb first)"
    command -v unshare >/dev/null || die "unshare(1) is missing (util-linux)"
    grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
    grep -qw overlay /proc/filesystems || die "the kernel has no overlayfs"

    # What must be the same afterwards.
    snapshot() {
        dpkg-query -W -f='${Package} ${Version} ${Status}\n' | sort
        getent passwd nut || true
        getent group nut || true
        # /run/nut's contents change whenever a test runs a daemon; its existence and mode do not.
        stat -c '%n %a %U:%G' /run/nut 2>&1 || true
        for d in /etc/nut /usr/lib/nut-rs /var/lib/nut-rs /etc/systemd/system; do
            if [ -e "$d" ]; then
                find "$d" -printf '%p %m %u:%g %l\n' | sort
                find "$d" -type f -exec sha256sum {} + 2>/dev/null | sort
            else
                echo "absent $d"
            fi
        done
        ls -l /usr/sbin/upsd /usr/sbin/upsmon /usr/bin/upsc /usr/lib/nut/dummy-ups 2>&1 || true
    }
    BEFORE=$(mktemp)
    AFTER=$(mktemp)
    SCRATCH=$(mktemp -d)
    trap 'rm -rf "$BEFORE" "$AFTER" "$SCRATCH"' EXIT
    snapshot > "$BEFORE"

    say "running the install scenarios in private namespaces"
    unshare --mount --propagation private --pid --fork --mount-proc \
        bash "$(realpath "$0")" --inside "$DEB" "$SCRATCH"

    snapshot > "$AFTER"
    if ! diff -u "$BEFORE" "$AFTER"; then
        die "the machine changed (diff above)"
    fi
    say "OK: installed, served upsc, purged cleanly; the machine is as it was"
    exit 0
fi

# ---- inside the namespaces ------------------------------------------------------------------
DEB=$2
SCRATCH=$3
mount -t tmpfs tmpfs "$SCRATCH"
mkdir -p "$SCRATCH/saved"
for top in etc usr var run; do
    # Mounts below the directory (e.g. /etc/hosts in containers) would be hidden by the
    # overlay: keep them reachable and put them back on top.
    mapfile -t submounts < <(findmnt -rn -o TARGET | grep "^/$top/" || true)
    i=0
    for m in "${submounts[@]}"; do
        i=$((i + 1))
        if [ -d "$m" ]; then mkdir -p "$SCRATCH/saved/$top.$i"; else touch "$SCRATCH/saved/$top.$i"; fi
        mount --bind "$m" "$SCRATCH/saved/$top.$i"
    done
    mkdir -p "$SCRATCH/$top/upper" "$SCRATCH/$top/work"
    mount -t overlay overlay \
        -o "lowerdir=/$top,upperdir=$SCRATCH/$top/upper,workdir=$SCRATCH/$top/work" "/$top"
    i=0
    for m in "${submounts[@]}"; do
        i=$((i + 1))
        [ -e "$m" ] || { if [ -d "$SCRATCH/saved/$top.$i" ]; then mkdir -p "$m"; else touch "$m"; fi; }
        mount --bind "$SCRATCH/saved/$top.$i" "$m"
    done
done
# Nothing here may reach the machine's service manager or init scripts.
rm -rf /run/systemd/system
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
export DEBIAN_FRONTEND=noninteractive

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

wait_for() { # <seconds> <description> <command...>
    local deadline=$(($(date +%s) + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || die "timed out waiting for $what"
        sleep 0.2
    done
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
stat_is() { # <path> <mode> <owner:group>
    local got
    got=$(stat -c '%a %U:%G' "$1") || die "$1 is missing"
    [ "$got" = "$2 $3" ] || die "$1 is $got, want $2 $3"
}

say "A: over Debian's NUT"
for pkg in nut-server nut-client; do
    installed "$pkg" || die "Debian's $pkg is not installed (bash .ci/run installs the peers)"
done
# A typo in the kept upssched.conf: postinst reports it (upssched -t) and installs anyway.
echo 'AT ONBAT * EXECUTE typo' >> /etc/nut/upssched.conf
declare -A KEPT
for f in /etc/nut/*; do KEPT[$f]=$(sha256sum < "$f"); done
dpkg --remove --force-depends nut-server nut-client >/dev/null
dpkg_err=$(dpkg -i "$DEB" 2>&1 >/dev/null) || die "dpkg -i over Debian's (removed) NUT failed: $dpkg_err"
case "$dpkg_err" in
    *"upssched.conf has errors"*"upssched skips those rules"*) ;;
    *) die "postinst did not report the bad upssched.conf line: $dpkg_err" ;;
esac
installed nut-rs || die "nut-rs is not installed"
for f in "${!KEPT[@]}"; do
    [ "$(sha256sum < "$f")" = "${KEPT[$f]}" ] || die "postinst changed the existing $f"
done
dpkg --purge nut-rs >/dev/null || die "purge (A) failed"
for f in "${!KEPT[@]}"; do
    [ -f "$f" ] || die "purging nut-rs removed $f, which was not its own"
done

say "B: on a machine without NUT"
dpkg --purge nut-server nut-client >/dev/null
userdel nut 2>/dev/null || true
groupdel nut 2>/dev/null || true
rm -rf /etc/nut /run/nut /var/lib/nut
dpkg -i "$DEB" >/dev/null || die "dpkg -i on a fresh machine failed"
getent passwd nut >/dev/null || die "postinst did not create the nut user"
getent group nut >/dev/null || die "postinst did not create the nut group"
stat_is /etc/nut 755 root:nut
for f in nut.conf ups.conf upsd.conf upsd.users upsmon.conf upssched.conf hosts.conf; do
    stat_is "/etc/nut/$f" 640 root:nut
done
stat_is /run/nut 770 root:nut
for unit in nut.target nut-server.service nut-monitor.service nut-sleep.service; do
    [ -n "$(find /etc/systemd/system -lname "*/$unit")" ] || die "$unit was not enabled"
done
[ -L /etc/systemd/system/upsd.service ] || die "the upsd.service alias is missing"
# nut-web is installed disabled: it needs hosts.conf first.
[ -z "$(find /etc/systemd/system -lname '*/nut-web.service')" ] || die "nut-web.service was enabled"
stat_is /usr/lib/systemd/system/nut-web.service 644 root:root
stat_is /usr/lib/nut-rs/bin/nut-web 755 root:root
[ "$(readlink /usr/sbin/nut-web)" = ../lib/nut-rs/bin/nut-web ] || die "/usr/sbin/nut-web link"
web_version=$(/usr/sbin/nut-web -V) || die "nut-web -V exited with $?"
case "$web_version" in "nut-web "*) ;; *) die "nut-web -V said: $web_version" ;; esac
[ -L /etc/systemd/system/sleep.target.wants/nut-sleep.service ] \
    || die "nut-sleep.service is not wanted by sleep.target"
# usbhid-ups under NUT's path, and the udev rules generated from the USB drivers' tables under
# the name of Debian nut-server's (so USB UPSes are the nut group's): a HID and a Q1 device.
stat_is /usr/lib/nut-rs/bin/usbhid-ups 755 root:root
[ "$(readlink /usr/lib/nut/usbhid-ups)" = ../nut-rs/bin/usbhid-ups ] || die "/usr/lib/nut/usbhid-ups link"
hid_help=$(/lib/nut/usbhid-ups -h 2>&1) || true
case "$hid_help" in *"Generic HID driver"*) ;; *) die "usbhid-ups -h said: $hid_help" ;; esac
stat_is /usr/lib/udev/rules.d/62-nut-usbups.rules 644 root:root
grep -qx 'ATTR{idVendor}=="051d", ATTR{idProduct}=="0002", MODE="664", GROUP="nut"' \
    /usr/lib/udev/rules.d/62-nut-usbups.rules || die "udev rules: no APC Back-UPS entry"
grep -qx 'ATTR{idVendor}=="0665", ATTR{idProduct}=="5161", MODE="664", GROUP="nut"' \
    /usr/lib/udev/rules.d/62-nut-usbups.rules || die "udev rules: no Voltronic (nutdrv_qx) entry"
stat_is /usr/lib/systemd/system/nut-sleep.service 644 root:root
HOOK=/usr/lib/systemd/system-shutdown/nutshutdown
stat_is "$HOOK" 755 root:root
# With the sample nut.conf (MODE=none) the late-shutdown hook does nothing, silently.
hook_out=$(sh "$HOOK" 2>&1) || die "nutshutdown with MODE=none exited with $?: $hook_out"
[ -z "$hook_out" ] || die "nutshutdown with MODE=none said: $hook_out"
FILES=$(mktemp)
dpkg -L nut-rs > "$FILES"

# The installed units are valid (programs at their real paths), and every manual page
# they point to is installed.
systemd-analyze verify --man=no /usr/lib/systemd/system/nut*.service \
    /usr/lib/systemd/system/nut*.target > "$SCRATCH/verify" 2>&1 || true
[ ! -s "$SCRATCH/verify" ] || { cat "$SCRATCH/verify"; die "systemd-analyze verify"; }
for page in $(grep -ho 'man:[^ ]*' /usr/lib/systemd/system/nut*); do
    name=${page#man:}
    section=${name##*(}
    section=${section%)}
    [ -e "/usr/share/man/man$section/${name%(*}.$section.gz" ] || die "missing manual page $name"
done

# Configure a simulated UPS, as an administrator would.
printf 'MODE=standalone\n' > /etc/nut/nut.conf
printf '[test]\n\tdriver = dummy-ups\n\tport = test.dev\n\tdesc = "deb test"\n' > /etc/nut/ups.conf
printf 'ups.status: OL\nbattery.charge: 87\n' > /etc/nut/test.dev
printf 'LISTEN 127.0.0.1 %s\n' "$PORT" > /etc/nut/upsd.conf
chgrp nut /etc/nut/test.dev

GEN=$SCRATCH/gen
/usr/lib/systemd/system-generators/nut-driver-generator "$GEN" "$GEN.early" "$GEN.late" \
    || die "the generator failed"
[ -L "$GEN/nut-driver.target.wants/nut-driver@test.service" ] || die "no nut-driver@test.service"
grep -q 'NUT_DRIVER_PATH=/usr/lib/nut-rs/bin/dummy-ups' "$GEN/nut-driver@test.service.d/50-nut-driver.conf" \
    || die "the driver drop-in does not name dummy-ups"
/usr/sbin/nut-systemd mode-allows server || die "MODE=standalone must allow upsd"
# Configured, but upsmon wrote no power-down flag (an ordinary shutdown): nothing to do.
hook_out=$(sh "$HOOK" 2>&1) || die "nutshutdown without the flag exited with $?: $hook_out"
[ -z "$hook_out" ] || die "nutshutdown without the flag said: $hook_out"

# setpriv(1) options for a unit's CapabilityBoundingSet= and NoNewPrivileges=: the part of
# its sandbox that can take away what a daemon needs at start-up (docs/systemd.md).
unit_bounds() { # <unit file>
    local caps opts="" cap
    caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$1" | tail -n 1)
    if [ -n "$caps" ]; then
        opts="--bounding-set=-all"
        for cap in $caps; do
            cap=${cap#CAP_}
            opts="$opts,+$(printf '%s' "$cap" | tr 'A-Z' 'a-z')"
        done
    fi
    if grep -qx 'NoNewPrivileges=yes' "$1"; then opts="$opts --no-new-privs"; fi
    printf '%s\n' "$opts"
}
UNITS=/usr/lib/systemd/system
DRIVER_BOUNDS=$(unit_bounds "$UNITS/nut-driver@.service")
SERVER_BOUNDS=$(unit_bounds "$UNITS/nut-server.service")
[ -n "$DRIVER_BOUNDS" ] && [ -n "$SERVER_BOUNDS" ] || die "the driver and server units lost their sandbox"

# Start them with their units' command lines (no systemd here), inside their units'
# capability bounds.
# shellcheck disable=SC2086 # setpriv options, split on purpose
NUT_DRIVER_PATH=/usr/lib/nut-rs/bin/dummy-ups setpriv $DRIVER_BOUNDS \
    /bin/sh -c 'exec "${NUT_DRIVER_PATH}" -FF -a "$1"' nut-driver test > "$SCRATCH/driver.log" 2>&1 &
DRIVER=$!
wait_for 30 "dummy-ups' socket" test -S /run/nut/dummy-ups-test
# shellcheck disable=SC2086
setpriv $SERVER_BOUNDS /usr/sbin/upsd -FF > "$SCRATCH/upsd.log" 2>&1 &
UPSD=$!
wait_for 30 "upsc to answer" sh -c "upsc test@127.0.0.1:$PORT ups.status | grep -qx OL"
[ "$(upsc "test@127.0.0.1:$PORT" battery.charge)" = 87 ] || die "upsc battery.charge"
upsc -l "127.0.0.1:$PORT" | grep -qx test || die "upsc -l does not list test"
[ "$(cat /run/nut/upsd.pid)" = "$UPSD" ] || die "upsd.pid does not hold upsd's PID"
# ExecReload= runs as root inside the same bounds and signals the nut-owned daemons.
# shellcheck disable=SC2086
setpriv $SERVER_BOUNDS /usr/sbin/upsd -c reload -P "$UPSD" >/dev/null 2>&1 \
    || die "upsd -c reload inside nut-server.service's bounds failed"
# shellcheck disable=SC2086
setpriv $DRIVER_BOUNDS /usr/lib/nut-rs/bin/dummy-ups -a test -c reload -P "$DRIVER" >/dev/null 2>&1 \
    || die "dummy-ups -c reload inside nut-driver@.service's bounds failed"

# nut-web as its unit runs it (ExecStart, as User=nut), reading the 0640 root:nut hosts.conf.
WEB_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'MONITOR test@127.0.0.1:%s "deb test"\n' "$PORT" >> /etc/nut/hosts.conf
web_start=$(sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/nut-web.service)
[ "$web_start" = "/usr/lib/nut-rs/bin/nut-web -f /etc/nut/hosts.conf" ] || die "nut-web ExecStart: $web_start"
# shellcheck disable=SC2086 # the unit's command line, split like systemd does for it
setpriv --reuid nut --regid nut --init-groups $web_start -l "127.0.0.1:$WEB_PORT" \
    > "$SCRATCH/web.log" 2>&1 &
WEB=$!
metrics() {
    python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
        "http://127.0.0.1:$WEB_PORT/metrics"
}
web_deadline=$(($(date +%s) + 30))
until metrics 2>/dev/null | grep -q '^network_ups_tools_battery_charge{.*} 87$'; do
    if [ "$(date +%s)" -ge "$web_deadline" ] || ! kill -0 "$WEB" 2>/dev/null; then
        die "nut-web does not serve battery.charge 87 on /metrics; its log: $(cat "$SCRATCH/web.log")"
    fi
    sleep 0.2
done
kill -TERM "$WEB"
wait "$WEB" || die "nut-web exited with $? on SIGTERM (log: $(cat "$SCRATCH/web.log"))"

/usr/sbin/upsd -c stop >/dev/null 2>&1 || die "upsd -c stop"
/usr/lib/nut/dummy-ups -a test -c exit >/dev/null 2>&1 || kill "$DRIVER" 2>/dev/null || true
wait_for 30 "upsd to exit" sh -c "! kill -0 $UPSD"
wait_for 30 "dummy-ups to exit" sh -c "! kill -0 $DRIVER"
wait "$UPSD" || die "upsd exited with $? (log: $(cat "$SCRATCH/upsd.log"))"
leftovers=$(ls -A /run/nut)
[ -z "$leftovers" ] || die "left in /run/nut after stop: $leftovers"

dpkg --purge nut-rs >/dev/null || die "purge (B) failed"
# The administrator's own file stays (dpkg never deletes files it does not know); the
# rest of /etc/nut was created by postinst and goes.
[ "$(ls -A /etc/nut)" = test.dev ] || die "/etc/nut after purge: $(ls -A /etc/nut)"
rm /etc/nut/test.dev
rmdir /etc/nut
installed nut-rs && die "nut-rs still installed"
while read -r path; do
    [ "$path" = /. ] && continue
    if [ -e "$path" ] || [ -L "$path" ]; then
        # Shared directories (/usr/bin, …) stay; nothing else may.
        [ -d "$path" ] && [ ! -L "$path" ] && [ -n "$(ls -A "$path")" ] && continue
        die "$path is still there after purge"
    fi
done < "$FILES"
for path in /var/lib/nut-rs /run/nut; do
    [ ! -e "$path" ] || die "$path is still there after purge"
done
LEFT=$(find /etc/systemd/system \( -name "nut*" -o -name upsd.service -o -name upsmon.service \) -print)
[ -z "$LEFT" ] \
    || die "unit links left in /etc/systemd/system: $LEFT"
say "inside: both scenarios passed"
