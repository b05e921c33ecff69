#!/bin/sh
# build.sh OUTDIR - build the USB stand-in into OUTDIR/fakeusb.so (fake libusb-1.0 serving one device
# spec; no libusb headers needed). Needs only a C compiler (CC, default cc) and libc headers; CFLAGS is
# honoured. Origin: ../shared/tools/hwrig/build.sh (which also builds fakemodem.so, not needed here).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
SRC=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
CC=${CC:-cc}
FLAGS="-shared -fPIC ${CFLAGS:--O2 -Wall -Wextra}"
# shellcheck disable=SC2086
$CC $FLAGS -o "$OUT/fakeusb.so" "$SRC/fakeusb.c"
echo "$OUT/fakeusb.so"
