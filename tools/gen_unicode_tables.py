#!/usr/bin/env python3
"""Generate include/bytepiece/detail/unicode_tables.hpp from the Unicode
Character Database files shipped by Debian's `unicode-data` package.

Usage:
    tools/gen_unicode_tables.py [UCD_DIR] [-o OUTPUT]

UCD_DIR defaults to /usr/share/unicode and must contain UnicodeData.txt,
CompositionExclusions.txt and DerivedNormalizationProps.txt.  OUTPUT defaults
to include/bytepiece/detail/unicode_tables.hpp relative to the repository root.

The output depends only on the input files, so re-running the script on the
same Unicode version reproduces the committed header byte for byte.
"""

import argparse
import os
import re
import sys

MAX_CP = 0x110000

# Hangul syllables are decomposed and composed arithmetically by the
# normalizer, so they are kept out of the tables.
S_BASE, S_COUNT = 0xAC00, 11172

# Bits of the NFC quick-check class table.  Zero means "ccc 0 and NFC_QC=Yes",
# i.e. a code point that starts a segment normalization can treat on its own.
QC_MAYBE = 1
QC_NO = 2
QC_NONZERO_CCC = 4


def die(msg):
    sys.stderr.write("gen_unicode_tables.py: error: " + msg + "\n")
    sys.exit(1)


def read_lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except OSError as e:
        die("cannot read %s: %s" % (path, e))


def file_version(lines):
    """Version from a header line such as '# DerivedNormalizationProps-15.0.0.txt'."""
    for line in lines[:5]:
        m = re.match(r"#\s*[A-Za-z]+-(\d+\.\d+\.\d+)\.txt", line)
        if m:
            return m.group(1)
    return None


def parse_range(field):
    field = field.strip()
    if ".." in field:
        lo, hi = field.split("..")
        return int(lo, 16), int(hi, 16)
    cp = int(field, 16)
    return cp, cp


def parse_unicode_data(lines):
    ccc = {}
    decomp = {}  # canonical single-level mappings only
    nd = set()
    range_first = None
    for line in lines:
        if not line.strip():
            continue
        fields = line.split(";")
        if len(fields) < 15:
            die("malformed UnicodeData.txt line: %r" % line)
        cp = int(fields[0], 16)
        name = fields[1]
        gc = fields[2]
        c = int(fields[3])
        dm = fields[5].strip()
        if name.endswith(", First>"):
            range_first = cp
            continue
        if name.endswith(", Last>"):
            if range_first is None:
                die("range end without start at %04X" % cp)
            cps = range(range_first, cp + 1)
            range_first = None
        else:
            cps = [cp]
        for x in cps:
            if c:
                ccc[x] = c
            if gc == "Nd":
                nd.add(x)
        if dm and not dm.startswith("<"):
            if len(cps) != 1:
                die("decomposition on a range at %04X" % cp)
            decomp[cp] = [int(t, 16) for t in dm.split()]
    return ccc, decomp, nd


def parse_composition_exclusions(lines):
    excl = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        lo, hi = parse_range(line)
        excl.update(range(lo, hi + 1))
    return excl


def parse_derived_normalization_props(lines):
    nfc_qc = {}
    fce = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(";")]
        lo, hi = parse_range(fields[0])
        if fields[1] == "NFC_QC":
            value = fields[2]
            if value not in ("N", "M"):
                die("unexpected NFC_QC value %r" % value)
            for x in range(lo, hi + 1):
                nfc_qc[x] = value
        elif fields[1] == "Full_Composition_Exclusion":
            fce.update(range(lo, hi + 1))
    if not nfc_qc or not fce:
        die("DerivedNormalizationProps.txt lacks NFC_QC or Full_Composition_Exclusion")
    return nfc_qc, fce


def full_decomposition(cp, decomp):
    if cp not in decomp:
        return [cp]
    out = []
    for x in decomp[cp]:
        out.extend(full_decomposition(x, decomp))
    return out


def build_two_stage(values, elem_size):
    """Smallest two-stage table for a dict cp -> value (absent means 0).

    Returns (shift, limit, stage1, stage2, stage1_size).  Code points at or
    above `limit` map to 0 without touching the table.
    """
    top = max(values) + 1 if values else 1
    best = None
    for shift in range(4, 11):
        size = 1 << shift
        nblocks = (top + size - 1) >> shift
        blocks = {}
        stage1 = []
        stage2 = []
        for b in range(nblocks):
            base = b << shift
            blk = tuple(values.get(base + i, 0) for i in range(size))
            idx = blocks.get(blk)
            if idx is None:
                idx = len(blocks)
                blocks[blk] = idx
                stage2.extend(blk)
            stage1.append(idx)
        s1_size = 1 if len(blocks) <= 256 else 2
        total = len(stage1) * s1_size + len(stage2) * elem_size
        if best is None or total < best[0]:
            best = (total, shift, nblocks << shift, stage1, stage2, s1_size)
    return best[1:]


def build_composition_hash(pairs):
    """Linear-probing hash table over packed composition pairs.

    The table size is the smallest power of two keeping the load factor at or
    below one half; among a fixed list of odd multipliers the one with the
    shortest worst-case probe sequence wins (first in list order on ties), so
    the result is deterministic.
    """
    bits = 1
    while (1 << bits) < 2 * len(pairs):
        bits += 1
    size = 1 << bits
    mask64 = (1 << 64) - 1
    candidates = [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                  0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53,
                  0x94D049BB133111EB, 0xBF58476D1CE4E5B9]
    best = None
    for mult in candidates:
        slots = [0] * size
        worst = 0
        for entry in pairs:
            key = entry >> 21
            slot = ((key * mult) & mask64) >> (64 - bits)
            probe = 0
            while slots[slot]:
                slot = (slot + 1) & (size - 1)
                probe += 1
            slots[slot] = entry
            worst = max(worst, probe)
        if best is None or worst < best[2]:
            best = (bits, mult, worst, slots)
    return best


def c_array(ctype, name, data, hexw=0):
    if hexw:
        items = ["0x%0*X" % (hexw, v) for v in data]
    else:
        items = [str(v) for v in data]
    lines = []
    cur = "   "
    for it in items:
        piece = " " + it + ","
        if len(cur) + len(piece) > 100:
            lines.append(cur)
            cur = "   "
        cur += piece
    if cur.strip():
        lines.append(cur)
    body = "\n".join(lines)
    return "inline constexpr %s %s[%d] = {\n%s\n};\n" % (ctype, name, len(data), body)


def uint_type(size):
    return {1: "std::uint8_t", 2: "std::uint16_t", 4: "std::uint32_t", 8: "std::uint64_t"}[size]


def emit_two_stage(out, prefix, table, elem_size, doc):
    shift, limit, stage1, stage2, s1_size = table
    out.append("// %s\n" % doc)
    out.append("inline constexpr unsigned %s_shift = %d;\n" % (prefix, shift))
    out.append("inline constexpr char32_t %s_limit = 0x%X;\n" % (prefix, limit))
    out.append(c_array(uint_type(s1_size), prefix + "_stage1", stage1))
    out.append(c_array(uint_type(elem_size), prefix + "_stage2", stage2))
    out.append("\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(
        os.path.join(here, "..", "include", "bytepiece", "detail", "unicode_tables.hpp"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ucd_dir", nargs="?", default="/usr/share/unicode")
    ap.add_argument("-o", "--output", default=default_out)
    args = ap.parse_args()

    ud_lines = read_lines(os.path.join(args.ucd_dir, "UnicodeData.txt"))
    ce_lines = read_lines(os.path.join(args.ucd_dir, "CompositionExclusions.txt"))
    dnp_lines = read_lines(os.path.join(args.ucd_dir, "DerivedNormalizationProps.txt"))

    versions = {v for v in (file_version(ce_lines), file_version(dnp_lines)) if v}
    if len(versions) > 1:
        die("input files disagree on the Unicode version: %s" % ", ".join(sorted(versions)))
    version = versions.pop() if versions else "unknown"

    ccc, decomp, nd = parse_unicode_data(ud_lines)
    exclusions = parse_composition_exclusions(ce_lines)
    nfc_qc, fce = parse_derived_normalization_props(dnp_lines)

    # Full_Composition_Exclusion must be exactly the listed exclusions plus
    # singletons plus non-starter decompositions; a mismatch means the inputs
    # are inconsistent and the composition table would be wrong.
    derived = set(exclusions)
    for cp, d in decomp.items():
        if len(d) == 1 or ccc.get(cp, 0) or ccc.get(d[0], 0):
            derived.add(cp)
    if derived != fce:
        die("Full_Composition_Exclusion disagrees with CompositionExclusions.txt + "
            "singletons + non-starter decompositions (%d vs %d code points)"
            % (len(fce), len(derived)))

    # --- canonical combining class ---
    ccc_table = build_two_stage(ccc, 1)

    # --- NFC quick-check class ---
    quick = {}
    for cp in range(MAX_CP):
        v = 0
        q = nfc_qc.get(cp)
        if q == "M":
            v |= QC_MAYBE
        elif q == "N":
            v |= QC_NO
        if ccc.get(cp, 0):
            v |= QC_NONZERO_CCC
        if v:
            quick[cp] = v
    quick_table = build_two_stage(quick, 1)
    first_nontrivial = min(quick)

    # --- full canonical decompositions ---
    flat = []
    decomp_index = {}
    max_len = 0
    for cp in sorted(decomp):
        if S_BASE <= cp < S_BASE + S_COUNT:
            continue
        full = full_decomposition(cp, decomp)
        max_len = max(max_len, len(full))
        if len(full) > 7 or len(flat) >= (1 << 13):
            die("decomposition index no longer fits 16 bits (offset 13 bits, length 3 bits)")
        decomp_index[cp] = (len(flat) << 3) | len(full)
        flat.extend(full)
    decomp_table = build_two_stage(decomp_index, 2)

    # --- primary composites ---
    pairs = []
    for cp in sorted(decomp):
        d = decomp[cp]
        if len(d) != 2 or cp in fce:
            continue
        if S_BASE <= cp < S_BASE + S_COUNT:
            continue
        if ccc.get(cp, 0):
            die("primary composite %04X is not a starter" % cp)
        if nfc_qc.get(d[1]) != "M":
            die("second element %04X of a composition is not NFC_QC=Maybe" % d[1])
        pairs.append((d[0] << 42) | (d[1] << 21) | cp)
    pairs.sort()
    for i in range(1, len(pairs)):
        if pairs[i] >> 21 == pairs[i - 1] >> 21:
            die("duplicate composition pair")
    comp_hash = build_composition_hash(pairs)

    # --- decimal digits ---
    nd_ranges = []
    for cp in sorted(nd):
        if nd_ranges and nd_ranges[-1][1] + 1 == cp:
            nd_ranges[-1][1] = cp
        else:
            nd_ranges.append([cp, cp])

    out = []
    out.append("// generated by tools/gen_unicode_tables.py from Unicode %s; do not edit\n" % version)
    out.append("// SPDX-License-Identifier: Apache-2.0\n")
    out.append("#pragma once\n\n")
    out.append("#include <cstddef>\n#include <cstdint>\n\n")
    out.append('#include "bytepiece/version.hpp"\n\n')
    out.append("BYTEPIECE_NAMESPACE_BEGIN\n")
    out.append("namespace detail::unicode {\n\n")
    out.append('inline constexpr char unicode_version[] = "%s";\n\n' % version)

    emit_two_stage(out, "ccc", ccc_table, 1, "Canonical_Combining_Class of every code point.")

    out.append("// NFC quick-check class, a set of flags: quick_maybe (NFC_QC=Maybe), quick_no\n")
    out.append("// (NFC_QC=No) and quick_nonzero_ccc (Canonical_Combining_Class != 0).\n")
    out.append("// Zero marks a code point that is unaffected by anything before it, so text\n")
    out.append("// can be cut in front of it and normalized piecewise.\n")
    out.append("inline constexpr std::uint8_t quick_maybe = %d;\n" % QC_MAYBE)
    out.append("inline constexpr std::uint8_t quick_no = %d;\n" % QC_NO)
    out.append("inline constexpr std::uint8_t quick_nonzero_ccc = %d;\n" % QC_NONZERO_CCC)
    out.append("// Every code point below this has quick-check class 0.\n")
    out.append("inline constexpr char32_t quick_first_nontrivial = 0x%X;\n" % first_nontrivial)
    emit_two_stage(out, "quick", quick_table, 1, "Quick-check class of every code point.")

    out.append("// Full canonical decompositions (Hangul syllables excluded).  An index entry\n")
    out.append("// is (offset << 3) | length into decomposition_data; 0 means none.\n")
    out.append("inline constexpr std::size_t max_decomposition_length = %d;\n" % max_len)
    out.append(c_array("char32_t", "decomposition_data", flat, hexw=4))
    emit_two_stage(out, "decomposition", decomp_table, 2, "Decomposition index of every code point.")

    bits, multiplier, max_probe, slots = comp_hash
    out.append("// Primary composites in an open-addressing hash table (linear probing), keyed\n")
    out.append("// by (first << 21) | second. Entries are (key << 21) | composite; 0 is empty.\n")
    out.append("inline constexpr unsigned composition_hash_bits = %d;\n" % bits)
    out.append("inline constexpr std::uint64_t composition_hash_multiplier = 0x%016X;\n" % multiplier)
    out.append("// Longest probe sequence of any stored pair, beyond its home slot.\n")
    out.append("inline constexpr unsigned composition_max_probe = %d;\n" % max_probe)
    out.append(c_array("std::uint64_t", "composition_table", slots, hexw=1))
    out.append("\n")

    out.append("// Code point ranges of General_Category Nd, sorted, inclusive.\n")
    out.append(c_array("char32_t", "decimal_digit_ranges", [v for r in nd_ranges for v in r], hexw=4))
    out.append("\n")

    out.append("""\
inline constexpr std::uint8_t ccc(char32_t cp) noexcept {
    if (cp >= ccc_limit) return 0;
    return ccc_stage2[(static_cast<std::size_t>(ccc_stage1[cp >> ccc_shift]) << ccc_shift) |
                      (cp & ((1u << ccc_shift) - 1))];
}

inline constexpr std::uint8_t quick_class(char32_t cp) noexcept {
    if (cp >= quick_limit) return 0;
    return quick_stage2[(static_cast<std::size_t>(quick_stage1[cp >> quick_shift]) << quick_shift) |
                        (cp & ((1u << quick_shift) - 1))];
}

struct decomposition_ref {
    const char32_t* data;
    std::size_t size;  // 0 when the code point has no canonical decomposition
};

inline constexpr decomposition_ref decomposition(char32_t cp) noexcept {
    if (cp >= decomposition_limit) return {nullptr, 0};
    const std::uint16_t e =
        decomposition_stage2[(static_cast<std::size_t>(decomposition_stage1[cp >> decomposition_shift])
                              << decomposition_shift) |
                             (cp & ((1u << decomposition_shift) - 1))];
    return {decomposition_data + (e >> 3), static_cast<std::size_t>(e & 7u)};
}

// Primary composite of a starter and a following character, or 0.  Hangul
// syllables are not covered.
inline constexpr char32_t compose_pair(char32_t first, char32_t second) noexcept {
    if (first >= 0x110000 || second >= 0x110000) return 0;
    const std::uint64_t key = (static_cast<std::uint64_t>(first) << 21) | second;
    const std::size_t mask = (std::size_t{1} << composition_hash_bits) - 1;
    std::size_t slot =
        static_cast<std::size_t>((key * composition_hash_multiplier) >> (64 - composition_hash_bits));
    for (unsigned probe = 0; probe <= composition_max_probe; ++probe) {
        const std::uint64_t e = composition_table[slot];
        if (e == 0) return 0;
        if ((e >> 21) == key) return static_cast<char32_t>(e & 0x1FFFFF);
        slot = (slot + 1) & mask;
    }
    return 0;
}

// True for General_Category Nd (decimal digits of any script).
inline constexpr bool is_decimal_digit(char32_t cp) noexcept {
    if (cp < 0x80) return cp >= U'0' && cp <= U'9';
    std::size_t lo = 0;
    std::size_t hi = sizeof(decimal_digit_ranges) / sizeof(decimal_digit_ranges[0]) / 2;
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (decimal_digit_ranges[2 * mid + 1] < cp) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < sizeof(decimal_digit_ranges) / sizeof(decimal_digit_ranges[0]) / 2 &&
           decimal_digit_ranges[2 * lo] <= cp;
}

}  // namespace detail::unicode
BYTEPIECE_NAMESPACE_END
""")

    text = "".join(out)
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, args.output)
    sys.stderr.write("wrote %s (%d bytes, Unicode %s, %d decompositions, %d composition pairs)\n"
                     % (args.output, len(text), version, len(decomp_index), len(pairs)))


if __name__ == "__main__":
    main()
