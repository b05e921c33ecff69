#!/usr/bin/env python3
"""mkspec.py HEX VID PID OUT.spec MODE [--args "DRIVER ARGS"] [--commands "CMD;CMD"] [--note TEXT]
[--no-serial] [--no-product] [--vendor TEXT]

A device spec (tests/rig/usb/README.md) for a report descriptor, with synthesised reports:
MODE zero (all fields 0), ones (first data byte 1, rest 0) or a number (seeded random bytes,
biased to status-like values). The report lengths come from Debian's usbhid-ups object dump of
the descriptor (env FAKEUSB_SO: the rig's fakeusb.so). Header lines carry the Debian driver
arguments and the command sequence record.sh replays.
"""
import argparse, os, random, re, subprocess

ap = argparse.ArgumentParser()
for a in ("hex", "vid", "pid", "out", "mode"):
    ap.add_argument(a)
ap.add_argument("--args", default="")
ap.add_argument("--commands", default="")
ap.add_argument("--note", action="append", default=[])
ap.add_argument("--no-serial", action="store_true")
ap.add_argument("--no-product", action="store_true")
ap.add_argument("--vendor", default="ACME Power")
a = ap.parse_args()
desc = open(a.hex).read().split()


def write(features, unknown):
    with open(a.out, "w") as f:
        f.write(f"# synthetic spec: descriptor {os.path.basename(a.hex)}, reports mode {a.mode} (mkspec.py)\n")
        for n in a.note:
            f.write(f"# note: {n}\n")
        f.write(f"# debian-args: {a.args}\n")
        if a.commands:
            f.write(f"# commands: {a.commands}\n")
        f.write(f"vid {a.vid}\npid {a.pid}\nbcd 0100\n")
        f.write(f"imanufacturer 1\niproduct {0 if a.no_product else 2}\niserial {0 if a.no_serial else 3}\n")
        f.write(f"string 1 {a.vendor}\nstring 2 Model X 1000\nstring 3 SER0001\nstring 4 PbAc\n")
        for i in range(0, len(desc), 16):
            f.write("desc " + " ".join(desc[i:i + 16]) + "\n")
        for rid, data in sorted(features.items()):
            f.write(f"feature {rid:02x} " + " ".join(f"{b:02x}" for b in data) + "\n")
        if unknown:
            f.write(f"unknown {unknown}\n")


write({}, "zero")
env = dict(os.environ, FAKEUSB_SPEC=os.path.abspath(a.out), LD_PRELOAD=os.environ["FAKEUSB_SO"])
r = subprocess.run(["/lib/nut/usbhid-ups", "-s", "t", "-x", "port=auto", "-x", "productid=" + a.pid,
                    "-u", "root", "-DDDDD", "-d", "1"], env=env, capture_output=True, text=True, timeout=60)
lens = {}
for m in re.finditer(r"ReportID: 0x([0-9a-f]+), Offset: (\d+), Size: (\d+)", r.stderr):
    rid, off, size = int(m[1], 16), int(m[2]), int(m[3])
    lens[rid] = max(lens.get(rid, 0), (off + size + 7) // 8)
assert lens, r.stderr[-2000:]
if a.mode == "zero":
    feats = {rid: [rid] + [0] * n for rid, n in lens.items()}
elif a.mode == "ones":
    feats = {rid: [rid, 1] + [0] * (n - 1) for rid, n in lens.items()}
else:
    rnd = random.Random(int(a.mode))
    feats = {rid: [rid] + [rnd.choice([0, 1, 2, 3, 5, 0x10, 0x18, 0x40, 0x80, rnd.randrange(256)])
                           for _ in range(n)] for rid, n in lens.items()}
write(feats, None)
