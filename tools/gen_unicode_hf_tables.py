#!/usr/bin/env python3
"""Generate include/bytepiece/detail/unicode_hf_tables.hpp: the character data the HF
tokenizers normalizers need, from the Unicode Character Database files of Debian's
`unicode-data` package.

Usage:
    tools/gen_unicode_hf_tables.py [UCD_DIR] [-o OUTPUT]

UCD_DIR defaults to /usr/share/unicode (UnicodeData.txt, DerivedAge.txt,
DerivedNormalizationProps.txt, SpecialCasing.txt, PropList.txt,
auxiliary/GraphemeBreakProperty.txt, emoji/emoji-data.txt).

HF tokenizers normalizes (NFC/NFD/NFKC/NFKD) and strips accents with the tables of
unicode-normalization-alignments, which are Unicode 9.0. Code points assigned after 9.0 are
unknown there: no decomposition, combining class 0, not a mark. Decompositions and classes of
assigned characters never change (Unicode stability policy), so restricting the current data
to characters of age 9.0 or older reproduces those tables. Lowercase (Rust's char), White_Space
and grapheme breaks use the current data of UCD_DIR.

The output depends only on the input files: re-running it reproduces the header byte for byte.
"""

import argparse
import os
import re
import sys

MAX_CP = 0x110000
HF_NORMALIZATION_AGE = (9, 0)
S_BASE, S_COUNT = 0xAC00, 11172

# Bits of the property word (see the header's comment).
CCC_MASK = 0xFF
P_MARK = 1 << 8
P_WHITE_SPACE = 1 << 9
P_CANONICAL = 1 << 10
P_COMPAT = 1 << 11
P_SECOND = 1 << 12
P_LOWER = 1 << 13
GCB_SHIFT = 16

GCB_NAMES = ["Other", "CR", "LF", "Control", "Extend", "ZWJ", "Regional_Indicator", "Prepend",
             "SpacingMark", "L", "V", "T", "LV", "LVT", "Extended_Pictographic"]


def die(msg):
    sys.stderr.write("gen_unicode_hf_tables.py: error: " + msg + "\n")
    sys.exit(1)


def read_lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except OSError as e:
        die("cannot read %s: %s" % (path, e))


def parse_range(field):
    field = field.strip()
    if ".." in field:
        lo, hi = field.split("..")
        return int(lo, 16), int(hi, 16)
    v = int(field, 16)
    return v, v


def property_file(lines):
    """Yields (lo, hi, value) of a `range ; value # comment` file."""
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(";")]
        lo, hi = parse_range(fields[0])
        yield lo, hi, fields[1]


def file_version(lines):
    for line in lines[:5]:
        m = re.match(r"#\s*[A-Za-z]+-(\d+\.\d+\.\d+)\.txt", line)
        if m:
            return m.group(1)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ucd", nargs="?", default="/usr/share/unicode")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("-o", "--output",
                    default=os.path.join(here, "..", "include", "bytepiece", "detail", "unicode_hf_tables.hpp"))
    args = ap.parse_args()
    ucd = args.ucd

    age_lines = read_lines(os.path.join(ucd, "DerivedAge.txt"))
    version = file_version(age_lines) or die("no version in DerivedAge.txt")
    old = bytearray(MAX_CP)  # 1 = assigned in Unicode 9.0 or earlier
    for lo, hi, v in property_file(age_lines):
        major, minor = (int(x) for x in v.split("."))
        if (major, minor) <= HF_NORMALIZATION_AGE:
            for cp in range(lo, hi + 1):
                old[cp] = 1

    ccc = [0] * MAX_CP
    gc = {}
    decomp = {}  # cp -> (is_compat, [cps])
    lower = {}
    for line in read_lines(os.path.join(ucd, "UnicodeData.txt")):
        f = line.split(";")
        cp = int(f[0], 16)
        gc[cp] = f[2]
        ccc[cp] = int(f[3])
        if f[5]:
            parts = f[5].split()
            compat = parts[0].startswith("<")
            if compat:
                parts = parts[1:]
            decomp[cp] = (compat, [int(x, 16) for x in parts])
        if f[13]:
            lower[cp] = [int(f[13], 16)]
    for line in read_lines(os.path.join(ucd, "SpecialCasing.txt")):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = [x.strip() for x in line.split(";")]
        if len(f) > 4 and f[4]:
            continue  # conditional mappings: Rust's char::to_lowercase ignores them
        cp = int(f[0], 16)
        mapped = [int(x, 16) for x in f[1].split()]
        if mapped == [cp]:
            lower.pop(cp, None)
        else:
            lower[cp] = mapped

    exclusions = set()
    for lo, hi, v in property_file(read_lines(os.path.join(ucd, "DerivedNormalizationProps.txt"))):
        if v == "Full_Composition_Exclusion":
            exclusions.update(range(lo, hi + 1))

    white = set()
    for lo, hi, v in property_file(read_lines(os.path.join(ucd, "PropList.txt"))):
        if v == "White_Space":
            white.update(range(lo, hi + 1))

    gcb = [0] * MAX_CP
    for lo, hi, v in property_file(read_lines(os.path.join(ucd, "auxiliary", "GraphemeBreakProperty.txt"))):
        if v not in GCB_NAMES:
            die("unknown Grapheme_Cluster_Break value " + v)
        for cp in range(lo, hi + 1):
            gcb[cp] = GCB_NAMES.index(v)
    for lo, hi, v in property_file(read_lines(os.path.join(ucd, "emoji", "emoji-data.txt"))):
        if v == "Extended_Pictographic":
            for cp in range(lo, hi + 1):
                if gcb[cp] != 0:
                    die("U+%04X is Extended_Pictographic and has a Grapheme_Cluster_Break value" % cp)
                gcb[cp] = GCB_NAMES.index("Extended_Pictographic")

    # Unicode 9.0 view of the normalization data.
    def ccc9(cp):
        return ccc[cp] if old[cp] else 0

    def full(cp, compat):
        d = decomp.get(cp) if old[cp] else None
        if d is None or (d[0] and not compat):
            return [cp]
        out = []
        for x in d[1]:
            out.extend(full(x, compat))
        return out

    canonical_map = {}
    compat_map = {}
    for cp in decomp:
        if not old[cp]:
            continue
        c = full(cp, False)
        if c != [cp]:
            canonical_map[cp] = c
        k = full(cp, True)
        if k != [cp]:
            compat_map[cp] = k
    pairs = []
    for cp, (is_compat, parts) in decomp.items():
        if is_compat or not old[cp] or len(parts) != 2 or cp in exclusions:
            continue
        pairs.append((parts[0], parts[1], cp))
    pairs.sort()
    seconds = {p[1] for p in pairs}

    props = [0] * MAX_CP
    for cp in range(MAX_CP):
        v = ccc9(cp)
        if old[cp] and gc.get(cp, "Cn") in ("Mn", "Mc", "Me"):
            v |= P_MARK
        if cp in white:
            v |= P_WHITE_SPACE
        if cp in canonical_map:
            v |= P_CANONICAL
        if cp in compat_map:
            v |= P_COMPAT
        if cp in seconds:
            v |= P_SECOND
        if cp in lower:
            v |= P_LOWER
        v |= gcb[cp] << GCB_SHIFT
        props[cp] = v
    # Hangul: algorithmic decompositions and compositions, recorded as flags only.
    for cp in range(S_BASE, S_BASE + S_COUNT):
        props[cp] |= P_CANONICAL | P_COMPAT
    for cp in list(range(0x1161, 0x1161 + 21)) + list(range(0x11A8, 0x11A8 + 27)):
        props[cp] |= P_SECOND

    out = []
    w = out.append
    w("// generated by tools/gen_unicode_hf_tables.py from Unicode %s; do not edit" % version)
    w("// SPDX-License-Identifier: Apache-2.0")
    w("#pragma once")
    w("")
    w("#include <cstddef>")
    w("#include <cstdint>")
    w("")
    w('#include "bytepiece/version.hpp"')
    w("")
    w("BYTEPIECE_NAMESPACE_BEGIN")
    w("namespace detail::unicode_hf {")
    w("")
    w('inline constexpr char unicode_version[] = "%s";' % version)
    w('// Normalization data (classes, decompositions, compositions, marks) only covers code points')
    w('// assigned by this version, as HF tokenizers\' unicode-normalization-alignments does.')
    w('inline constexpr char normalization_version[] = "%d.%d.0";' % HF_NORMALIZATION_AGE)
    w("")
    w("// Property word of a code point: bits 0-7 Canonical_Combining_Class, then flags, and the")
    w("// Grapheme_Cluster_Break value (Extended_Pictographic as one more value) from bit %d." % GCB_SHIFT)
    w("inline constexpr std::uint32_t ccc_mask = 0x%X;" % CCC_MASK)
    for name, bit in (("mark", P_MARK), ("white_space", P_WHITE_SPACE), ("canonical", P_CANONICAL),
                      ("compat", P_COMPAT), ("second", P_SECOND), ("lower", P_LOWER)):
        w("inline constexpr std::uint32_t p_%s = 0x%X;" % (name, bit))
    w("inline constexpr unsigned gcb_shift = %d;" % GCB_SHIFT)
    for i, n in enumerate(GCB_NAMES):
        w("inline constexpr unsigned gcb_%s = %d;" % (n.lower(), i))
    w("")

    def two_stage(name, values, ctype, shift, doc):
        block = 1 << shift
        limit = MAX_CP
        while limit > 0 and values[limit - 1] == 0:
            limit -= 1
        limit = (limit + block - 1) // block * block
        blocks = {}
        stage1 = []
        stage2 = []
        for b in range(0, limit, block):
            chunk = tuple(values[b:b + block])
            if chunk not in blocks:
                blocks[chunk] = len(stage2) // block
                stage2.extend(chunk)
            stage1.append(blocks[chunk])
        s1type = "std::uint8_t" if max(stage1) < 256 else "std::uint16_t"
        w("// " + doc)
        w("inline constexpr unsigned %s_shift = %d;" % (name, shift))
        w("inline constexpr char32_t %s_limit = 0x%X;" % (name, limit))
        emit(s1type, name + "_stage1", stage1)
        emit(ctype, name + "_stage2", stage2)
        w("inline %s %s(char32_t cp) noexcept {" % (ctype.replace("std::", "std::"), name))
        w("    if (cp >= %s_limit) return 0;" % name)
        w("    return %s_stage2[(static_cast<std::size_t>(%s_stage1[cp >> %s_shift]) << %s_shift) |"
          % (name, name, name, name))
        w("                     (cp & ((1u << %s_shift) - 1))];" % name)
        w("}")
        w("")

    def emit(ctype, name, data):
        w("inline constexpr %s %s[%d] = {" % (ctype, name, len(data)))
        line = "   "
        for v in data:
            item = " 0x%X," % v if v > 9 else " %d," % v
            if len(line) + len(item) > 100:
                w(line)
                line = "   "
            line += item
        w(line)
        w("};")

    two_stage("props", props, "std::uint32_t", 7, "Property word of every code point.")

    def mapping(name, table, doc):
        data = []
        index = [0] * MAX_CP
        seen = {}
        for cp in sorted(table):
            seq = tuple(table[cp])
            if seq not in seen:
                seen[seq] = len(data)
                data.extend(seq)
            if len(seq) >= 32:
                die("mapping too long")
            index[cp] = (seen[seq] << 5) | len(seq)
        w("// " + doc + " Index entries are (offset << 5) | length into %s_data." % name)
        emit("char32_t", name + "_data", data if data else [0])
        typ = "std::uint16_t" if max(index) < 65536 else "std::uint32_t"
        two_stage(name + "_index", index, typ, 6, "Index of " + name + " by code point.")

    mapping("canonical", canonical_map, "Full canonical decompositions (Unicode 9.0, Hangul excluded).")
    mapping("compat", compat_map, "Full compatibility decompositions (Unicode 9.0, Hangul excluded).")
    mapping("lower", lower, "Lowercase mappings of Rust's char::to_lowercase (unconditional SpecialCasing).")
    w("// Primary composites (Unicode 9.0), sorted: (first << 42) | (second << 21) | composite.")
    emit("std::uint64_t", "compositions", [(a << 42) | (b << 21) | c for a, b, c in pairs])
    w("")
    w("}  // namespace detail::unicode_hf")
    w("BYTEPIECE_NAMESPACE_END")
    with open(args.output, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
