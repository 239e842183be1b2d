#!/usr/bin/python3
"""Generate tests/numpy_log_vectors.hpp: inputs and numpy's float64 np.log of them.

Usage (Debian's python3-numpy 1.24 is installed for /usr/bin/python3 only):
    /usr/bin/python3 tools/gen_numpy_log_vectors.py [-o OUTPUT]

The vectors pin down bytepiece::detail::numpy_log, which reproduces numpy
1.24's np.log on x86-64 CPUs with AVX512_SKX (there numpy runs Intel SVML's
__svml_log8).  The script therefore refuses to run anywhere else: on another
numpy or CPU np.log computes something else and the vectors would be wrong.

Selection (fixed seed, so a rerun on such a machine reproduces the file byte
for byte): mostly inputs where numpy's result is NOT the correctly rounded
logarithm, since those are the ones a libm log gets wrong; then inputs around
each step of the VRCP14PD-based reduction, powers of two and their
neighbours, subnormals, and integers of the size of piece counts and their
totals.  Only positive finite inputs are written; special values are checked
in the test itself.
"""

import argparse
import os
import random
import sys
from decimal import Decimal, getcontext

try:
    import numpy as np
except ImportError:
    sys.exit("gen_numpy_log_vectors.py: numpy not found; run it with /usr/bin/python3 (Debian's python3-numpy)")

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "numpy_log_vectors.hpp"))

# Top-16-fraction-bit prefixes where the rounded VRCP14PD reciprocal steps down
# (the same values as numpy_log_data::rcp_steps in the header).
RCP_STEPS = [1039, 3223, 5556, 8048, 10726, 13603, 16707, 20063,
             23705, 27669, 32007, 36764, 42010, 47824, 54300, 61568]


def require_reference_numpy():
    if not np.__version__.startswith("1.24."):
        sys.exit("gen_numpy_log_vectors.py: needs numpy 1.24.x, found %s" % np.__version__)
    try:
        from numpy.core._multiarray_umath import __cpu_features__ as feats
    except ImportError:
        feats = {}
    if not feats.get("AVX512_SKX"):
        sys.exit("gen_numpy_log_vectors.py: this CPU lacks AVX512_SKX, so np.log would not run SVML")


def from_bits(u):
    return float(np.array([u], dtype=np.uint64).view(np.float64)[0])


def to_bits(x):
    return int(np.array([x], dtype=np.float64).view(np.uint64)[0])


def correctly_rounded_log(x):
    # 60 digits leave no room for double rounding on the way to binary64.
    return float(Decimal(x).ln())


def np_log(xs):
    return np.log(np.array(xs, dtype=np.float64))


def pick_inexact(candidates, count):
    """Up to `count` candidates, in order, whose numpy log is not correctly rounded."""
    ys = np_log(candidates)
    out = []
    for x, y in zip(candidates, ys):
        if float(y) != correctly_rounded_log(x):
            out.append(x)
            if len(out) == count:
                break
    return out


def select(rng):
    xs = []
    # Integers, where piece counts live: small ones exhaustively, then random up to 2^53.
    xs += pick_inexact([float(i) for i in range(2, 20000)], 500)
    xs += pick_inexact([float(rng.randrange(20000, 10**7)) for _ in range(4000)], 300)
    xs += pick_inexact([float(rng.randrange(10**7, 2**53)) for _ in range(4000)], 300)
    # Totals of a whole model are around 2^35; the scores subtract their log from every count's.
    xs += pick_inexact([float(rng.randrange(2**34, 2**37)) for _ in range(2000)], 100)
    # Arbitrary positive normal numbers (random bit patterns) and subnormals.
    xs += pick_inexact([from_bits(rng.randrange(0x0010000000000000, 0x7FF0000000000000)) for _ in range(4000)], 300)
    xs += pick_inexact([from_bits(rng.randrange(1, 0x0010000000000000)) for _ in range(1000)], 60)
    # Both sides of every reciprocal step, at a few binades.
    for step in RCP_STEPS:
        for prefix in (step - 1, step):
            for low in (0, (1 << 36) - 1, rng.randrange(1 << 36)):
                for biased in (1023, 1023 + 30, 1023 - 7):
                    xs.append(from_bits((biased << 52) | (prefix << 36) | low))
    # Powers of two and their neighbours across the range, and the extremes.
    for e in list(range(-1074, 1024, 37)) + [-1022, -1, 0, 1, 52, 53, 1023]:
        p = to_bits(float(np.ldexp(1.0, e)))
        for d in (-1, 0, 1):
            if 0 < p + d < 0x7FF0000000000000:
                xs.append(from_bits(p + d))
    xs += [from_bits(1), from_bits(0x000FFFFFFFFFFFFF), from_bits(0x0010000000000000), from_bits(0x7FEFFFFFFFFFFFFF)]
    # Keep first occurrences only, in a stable order.
    seen = set()
    unique = []
    for x in xs:
        if x > 0.0 and x not in seen:
            seen.add(x)
            unique.append(x)
    return unique


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", default=OUT)
    args = ap.parse_args()
    require_reference_numpy()
    getcontext().prec = 60

    xs = select(random.Random(20240601))
    ys = np_log(xs)
    inexact = sum(1 for x, y in zip(xs, ys) if float(y) != correctly_rounded_log(x))

    lines = [
        "// SPDX-License-Identifier: Apache-2.0",
        "// Generated by tools/gen_numpy_log_vectors.py with numpy %s on an AVX512_SKX CPU; do not edit." % np.__version__,
        "// {x, np.log(x)} for %d positive inputs; numpy's result is not the correctly rounded" % len(xs),
        "// logarithm for %d of them." % inexact,
        "#pragma once",
        "",
        "namespace numpy_log_vectors {",
        "",
        "struct entry {",
        "    double x;",
        "    double log_x;",
        "};",
        "",
        "inline constexpr entry all[] = {",
    ]
    for x, y in zip(xs, ys):
        lines.append("    {%s, %s}," % (float(x).hex(), float(y).hex()))
    lines += ["};", "", "}  // namespace numpy_log_vectors", ""]
    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines))
    print("wrote %d vectors (%d not correctly rounded) to %s" % (len(xs), inexact, args.output))


if __name__ == "__main__":
    main()
