#!/usr/bin/env bash
# Installs every third-party NUT client the compatibility tests drive (tests/compat/tests/clients_real.rs)
# and the tools scripts/bench-upsd uses. Idempotent: a second run only verifies. Any failure is fatal and
# says what is missing; the tests themselves never install anything, they fail and point here.
#
#   Debian:  nut-client + nut-server (the reference peers), monitoring-plugins-basic (check_ups),
#            libups-nut-perl (UPS::Nut), hyperfine and valgrind (benchmarks: scripts/bench-instructions
#            counts upsd's instructions per GET VAR with callgrind), nodejs + npm if absent
#   PyPI:    pynutclient + aionut in a venv at $REPO/target/peers-venv
#   npm:     node-nut in tests/compat/peers/node/node_modules (from its package-lock.json)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$REPO/target/peers-venv"
NODE_DIR="$REPO/tests/compat/peers/node"
PY_PINS=(pynutclient==2.8.5 aionut==4.3.4)

say() { printf 'peers.sh: %s\n' "$*"; }
die() { printf 'peers.sh: ERROR: %s\n' "$*" >&2; exit 1; }

# ---- Debian packages --------------------------------------------------------------------------------
apt_updated=0
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$apt_updated" -eq 0 ]; then
        say "apt-get update"
        apt-get update -qq || die "apt-get update failed"
        apt_updated=1
    fi
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
}

apt_install nut-client nut-server monitoring-plugins-basic libups-nut-perl hyperfine valgrind
command -v node >/dev/null 2>&1 || apt_install nodejs
command -v npm >/dev/null 2>&1 || apt_install npm

# ---- Python venv --------------------------------------------------------------------------------------
# aionut uses asyncio.timeout, so the venv needs Python >= 3.11.
pick_python() {
    local candidate
    for candidate in "${PEERS_PYTHON:-}" python3 /usr/bin/python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || continue
        echo "$candidate"
        return 0
    done
    return 1
}

venv_ok() {
    [ -x "$VENV/bin/python" ] || return 1
    "$VENV/bin/python" - "${PY_PINS[@]}" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    if version(name) != want:
        sys.exit(1)
import PyNUTClient, aionut  # noqa: F401  (import check)
EOF
}

if ! venv_ok; then
    PY=$(pick_python) || die "no python3 >= 3.11 found (set PEERS_PYTHON)"
    if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
        apt_install python3-venv
        PY=/usr/bin/python3
    fi
    say "creating venv $VENV with $PY"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PY" -m venv "$VENV" || die "python venv creation failed"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PINS[@]}" \
        || die "pip install ${PY_PINS[*]} failed"
    venv_ok || die "venv at $VENV does not import PyNUTClient/aionut at ${PY_PINS[*]}"
fi

# ---- npm --------------------------------------------------------------------------------------------
node_ok() { (cd "$NODE_DIR" && node -e 'require("node-nut")') >/dev/null 2>&1; }
if ! node_ok; then
    say "npm ci in $NODE_DIR"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci (node-nut) failed"
    node_ok || die "node-nut does not load from $NODE_DIR"
fi

# ---- final check: every peer the tests call -----------------------------------------------------------
for bin in /usr/bin/upsc /usr/bin/upscmd /usr/bin/upsrw /usr/bin/upslog /lib/nut/upsmon /lib/nut/upsd \
           /lib/nut/dummy-ups /usr/lib/nagios/plugins/check_ups; do
    [ -x "$bin" ] || die "$bin missing after install"
done
perl -MUPS::Nut -e 1 2>/dev/null || die "perl module UPS::Nut missing after install"
command -v hyperfine >/dev/null 2>&1 || die "hyperfine missing after install"
command -v valgrind >/dev/null 2>&1 || die "valgrind missing after install"
say "all peers present (venv: $VENV, node: $NODE_DIR/node_modules)"
