#!/usr/bin/env python3
"""Generate the -log(c) table of include/bytepiece/detail/numpy_log.hpp.

Usage:
    tools/gen_numpy_log_table.py            print the C++ initializer
    tools/gen_numpy_log_table.py --check    compare it with the committed header

numpy_log() reduces x = 2^e * m with a reciprocal c = q/32 (q = 16..32) of the
mantissa and needs -log(c). Like the SVML routine it reproduces, it bumps the
exponent when c < 0.75 and then needs -log(2c) = -log(q/16) instead, so the
entry for q is -log(q/16) for q < 24 and -log(q/32) otherwise, rounded to the
nearest double.  Only the standard library is used (decimal's ln() at 60
digits, far more than the 17 needed for a correctly rounded double).
"""

import argparse
import os
import re
import sys
from decimal import Decimal, getcontext

HEADER = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "include", "bytepiece", "detail",
                                       "numpy_log.hpp"))


def table():
    """The 17 entries as Python floats, index q - 16."""
    getcontext().prec = 60
    out = []
    for q in range(16, 33):
        den = 16 if q < 24 else 32
        # float(Decimal) rounds correctly; the 60-digit ln leaves no room for double rounding.
        out.append(float(-(Decimal(q) / Decimal(den)).ln()) + 0.0)
    return out


def literal(v):
    """C++17 hexadecimal floating literal for v, the form the header uses."""
    return "0x0p+0" if v == 0.0 else v.hex()


def initializer():
    lines = ["inline constexpr double neg_log_rcp[17] = {"]
    for q, v in zip(range(16, 33), table()):
        lines.append("    %-24s // q = %d" % (literal(v) + ",", q))
    lines.append("};")
    return "\n".join(lines)


def check():
    try:
        with open(HEADER, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        sys.exit("gen_numpy_log_table.py: cannot read %s: %s" % (HEADER, e))
    m = re.search(r"neg_log_rcp\[17\] = \{(.*?)\};", text, re.S)
    if not m:
        sys.exit("gen_numpy_log_table.py: neg_log_rcp not found in " + HEADER)
    found = [float.fromhex(s) for s in re.findall(r"(-?0x[0-9a-fA-F.]+p[+-]?\d+)", m.group(1))]
    want = table()
    if found != want:
        for q, (a, b) in enumerate(zip(found, want), start=16):
            if a != b:
                print("q = %d: header has %s, expected %s" % (q, literal(a), literal(b)))
        if len(found) != len(want):
            print("header has %d entries, expected %d" % (len(found), len(want)))
        sys.exit(1)
    print("neg_log_rcp matches (%d entries)" % len(want))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed header instead of printing")
    args = ap.parse_args()
    if args.check:
        check()
    else:
        print(initializer())


if __name__ == "__main__":
    main()
