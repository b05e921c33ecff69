#!/bin/bash
# record.sh FAKEUSB_SO [SPEC...]: records what Debian's NUT 2.8.0 usbhid-ups does with each spec
# (default: every *.spec here), through the libusb stand-in tests/rig/usb/fakeusb.c:
#   <name>.debian  sorted lines after `-d 1` (initialisation and the first, quick, update):
#                  VAR name: value, CMD (every ADDCMD), FLAGS/AUX/ENUM (SETFLAGS/SETAUX/ADDENUM),
#                  SHUT <id>: bytes (the SET_REPORTs of `-k`)
#   <name>.cmdlog  the SET_REPORTs the spec's "# commands:" (INSTCMD/SET lines, sent to the
#                  driver socket one by one, each confirmed by PING/PONG) produce, in order
#   <name>.intr    ups.status after start-up and after each interrupt-IN report of the spec's
#                  "# interrupts:" line (hex reports separated by |; each is queued through
#                  FAKEUSB_EVENTS, then the driver, polling every second, gets 2.5 s)
set -eu
so=$1; shift
cd "$(dirname "$0")"
specs=("$@"); [ ${#specs[@]} -gt 0 ] || specs=(*.spec)
for spec in "${specs[@]}"; do
  name=${spec%.spec}
  args=$(sed -n 's/^# debian-args: *//p' "$spec")
  d=$(mktemp -d)
  run() { FAKEUSB_SPEC=$PWD/$spec LD_PRELOAD=$so timeout 60 /lib/nut/usbhid-ups -s t -x port=auto $args -u root "$@"; }
  run -DDDDD -d 1 > "$d/out" 2> "$d/err"
  FAKEUSB_LOG=$d/log run -k > /dev/null 2>&1 || true
  {
    echo "# Debian NUT 2.8.0 /lib/nut/usbhid-ups -s t -x port=auto $args -u root -DDDDD -d 1 (and -k) through tests/rig/usb/fakeusb.c with $spec"
    {
      grep -v '^driver\.\|^Network UPS\|^USB communication' "$d/out" | sed 's/^/VAR /'
      grep -o 'send_to_all: ADDCMD .*' "$d/err" | awk '{print "CMD " $3}'
      grep -o 'send_to_all: SETFLAGS .*' "$d/err" | sed 's/send_to_all: SETFLAGS /FLAGS /'
      grep -o 'send_to_all: SETAUX .*' "$d/err" | sed 's/send_to_all: SETAUX /AUX /'
      grep -o 'send_to_all: ADDENUM .*' "$d/err" | sed 's/send_to_all: ADDENUM /ENUM /; s/"//g'
      grep '^set_report' "$d/log" | sed 's/^set_report 3 /SHUT /' || true
    } | LC_ALL=C sort -u
  } > "$name.debian"
  cmds=$(sed -n 's/^# commands: *//p' "$spec")
  if [ -n "$cmds" ]; then
    mkdir "$d/state"
    FAKEUSB_LOG=$d/cmdlog NUT_STATEPATH=$d/state FAKEUSB_SPEC=$PWD/$spec LD_PRELOAD=$so \
      timeout 60 /lib/nut/usbhid-ups -s t -x port=auto $args -u root -D > "$d/drv" 2>&1 &
    drv=$!
    for _ in $(seq 200); do [ -S "$d/state/usbhid-ups-t" ] && break; sleep 0.1; done
    python3 - "$d/state/usbhid-ups-t" "$cmds" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(10)
buf = b""
for c in sys.argv[2].split(";"):
    s.sendall((c.strip() + "\nPING\n").encode())
    while b"PONG" not in buf:
        buf += s.recv(65536)
    buf = buf.split(b"PONG", 1)[1]
PY
    kill "$drv"; wait "$drv" || true
    { echo "# SET_REPORTs of Debian NUT 2.8.0 usbhid-ups $args for: $cmds"; grep '^set_report' "$d/cmdlog" || true; } > "$name.cmdlog"
  fi
  intrs=$(sed -n 's/^# interrupts: *//p' "$spec")
  if [ -n "$intrs" ]; then
    mkdir -p "$d/istate"; : > "$d/events"
    FAKEUSB_EVENTS=$d/events NUT_STATEPATH=$d/istate FAKEUSB_SPEC=$PWD/$spec LD_PRELOAD=$so \
      timeout 120 /lib/nut/usbhid-ups -s t -x port=auto $args -u root -D -i 1 > "$d/idrv" 2>&1 &
    drv=$!
    for _ in $(seq 200); do [ -S "$d/istate/usbhid-ups-t" ] && break; sleep 0.1; done
    python3 - "$d" "$intrs" > "$name.intr" <<'PY'
import socket, sys, time
d, reports = sys.argv[1], sys.argv[2].split("|")
def status():
    s = socket.socket(socket.AF_UNIX)
    s.connect(d + "/istate/usbhid-ups-t")
    s.settimeout(10)
    s.sendall(b"DUMPALL\n")
    buf = b""
    while b"DUMPDONE" not in buf:
        buf += s.recv(65536)
    s.close()
    for line in buf.decode().splitlines():
        if line.startswith("SETINFO ups.status "):
            return line.split(" ", 2)[2].strip('"')
print("# ups.status of Debian NUT 2.8.0 usbhid-ups after start-up, then after each interrupt report")
print("start " + status())
for r in reports:
    with open(d + "/events", "a") as f:
        f.write("intr " + r.strip() + "\n")
    time.sleep(2.5)
    print(r.strip() + " -> " + status())
PY
    kill "$drv"; wait "$drv" || true
  fi
  rm -rf "$d"
  echo "recorded $name"
done
