#!/usr/bin/env python3
"""mkdesc.py OUT.hex belkin|liebert: a synthetic HID report descriptor (hex) with the paths a
subdriver table reads; every field gets its own report id.

belkin:  the Belkin vendor tree (page 0x86) as NUT's belkin-hid.c names it, plus PowerSummary.
liebert: standard PowerSummary/Input/Output paths whose voltages carry a unit exponent of -7
         (the broken exponent of some Liebert firmware).
"""
import sys

out = []
rid = [0]


def item(tag, value, size=None):
    if size is None:
        if value == 0 or -128 <= value <= 127 or (tag in (0x04, 0x08) and value < 256):
            size = 1
        elif -32768 <= value <= 32767 or (tag in (0x04, 0x08) and value < 65536):
            size = 2
        else:
            size = 4
    out.append(tag | {1: 1, 2: 2, 4: 3}[size])
    out.extend((value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))


def usage(full):
    item(0x04, full >> 16)
    item(0x08, full & 0xffff)


def field(full, bits=16, lmin=0, lmax=None, kind=0xb0, exp=0):
    if lmax is None:
        lmax = (1 << bits) - 1 if lmin >= 0 else (1 << (bits - 1)) - 1
    rid[0] += 1
    item(0x84, rid[0])
    usage(full)
    item(0x74, bits)
    item(0x94, 1)
    item(0x14, lmin, 4 if lmin < 0 else None)
    item(0x24, lmax, 4 if lmax > 32767 else None)
    item(0x54, exp & 0x0f, 1)
    item(0x64, 0, 1)
    item(kind, 0x02, 1)


def coll(full, kind, body):
    usage(full)
    item(0xa0, kind, 1)
    body()
    out.append(0xc0)


B = lambda u: 0x00860000 | u
P = lambda u: 0x00840000 | u
S = lambda u: 0x00850000 | u


def belkin():
    coll(B(0x26), 0x00, lambda: [field(B(u)) for u in (0x40, 0x42, 0x43, 0x44, 0x45, 0x53, 0x54, 0x5b, 0x5c, 0x5d, 0x5e)])

    def controls():
        for u in (0x50, 0x51, 0x52):
            field(B(u), 8)
        for u in (0x55, 0x56, 0x57):
            field(B(u), 16, -1, 32767)
        field(B(0x58), 8)
        field(B(0x5a), 8, 1, 3)

    coll(B(0x27), 0x00, controls)
    coll(B(0x29), 0x00, lambda: [field(B(u), 8) for u in (0x74, 0x75, 0x76, 0x7c)])

    def power():
        coll(B(0x1a), 0x00, lambda: (field(B(0x30)), field(B(0x32))))
        coll(B(0x1c), 0x00, lambda: (field(B(0x30)), field(B(0x32)), field(B(0x34)), field(B(0x35), 8)))

    coll(B(0x2a), 0x00, power)
    coll(B(0x10), 0x00, lambda: [field(B(u)) for u in (0x30, 0x36, 0x39, 0x6c)])
    coll(B(0x28), 0x00, lambda: (field(B(0x22), 8), field(B(0x21))))

    def summary():
        field(S(0x29), 8)
        field(S(0x8c), 8)
        field(S(0x68))
        field(S(0x89), 8)
        field(S(0x85))
        field(P(0xff), 8)

    coll(P(0x24), 0x00, summary)


def liebert():
    def summary():
        field(P(0x30), exp=-7)
        field(P(0x40), exp=-7)
        field(S(0x66), 8)
        for u in (S(0xd0), S(0x44), S(0x45), P(0x69)):
            field(u, 8)
        coll(P(0x02), 0x00, lambda: [field(u, 8) for u in (S(0xd0), S(0x44), S(0x45), S(0x4b), S(0x42), P(0x69))])

    coll(P(0x24), 0x00, summary)
    coll(P(0x1a), 0x00, lambda: (field(P(0x30), exp=-7), field(P(0x32))))
    coll(P(0x1c), 0x00, lambda: (field(P(0x30), exp=-7), field(P(0x35), 8)))


coll(P(0x04), 0x01, {"belkin": belkin, "liebert": liebert}[sys.argv[2]])
text = " ".join(f"{b:02x}" for b in out)
open(sys.argv[1], "w").write("\n".join(text[i:i + 48].strip() for i in range(0, len(text), 48)) + "\n")
