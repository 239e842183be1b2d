#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs bytepiece_bench and prints the README's benchmark section as Markdown on stdout.

usage: scripts/bench_table.py PATH/TO/bytepiece_bench [BENCHMARK ARGS...]
   e.g. scripts/bench_table.py build/main/bench/bytepiece_bench --benchmark_filter='mixed|load/'

Every row `<op>/<model>/<corpus>/bytepiece` is paired with `<op>/<model>/<corpus>/sentencepiece`
(MB/s, MB = 10^6 bytes, and ours/theirs); below the table come the derived figures: batch
scaling (2 threads over 1), the shares of encode time spent in NFC plus chunking and in the
automaton scan, and for SentencePiece models (`sp_encode/...` rows, our
sentencepiece_tokenizer against libsentencepiece on the same lines) the normalizer's share.
   e.g. scripts/bench_table.py build/rel/bench/bytepiece_bench --benchmark_filter='^sp_'
   for ALBERT 30k-clean on every corpus file (their ratio is ours/SentencePiece per file).
The machine (CPU from /proc/cpuinfo), the compiler (from the binary's .comment section, else
`c++ --version`), the date and the exact command are named, so a table is never separated
from what produced it. Only the standard library is used.
"""

import datetime
import json
import os
import platform
import shlex
import struct
import subprocess
import sys
import tempfile

OURS, THEIRS = "/bytepiece", "/sentencepiece"


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def elf_comments(path):
    """The strings of an ELF file's .comment section (compilers that built it), or []."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit ELF only
        return []
    end = "<" if data[5] == 1 else ">"
    shoff = struct.unpack_from(end + "Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
    if not shoff or shstrndx >= shnum:
        return []

    def section(i):
        base = shoff + i * shentsize
        name = struct.unpack_from(end + "I", data, base)[0]
        offset, size = struct.unpack_from(end + "QQ", data, base + 0x18)
        return name, offset, size

    _, str_off, _ = section(shstrndx)
    for i in range(shnum):
        name, offset, size = section(i)
        stop = data.index(b"\0", str_off + name)
        if data[str_off + name:stop] == b".comment":
            parts = data[offset:offset + size].split(b"\0")
            return [p.decode("utf-8", "replace") for p in parts if p]
    return []


def compiler(binary):
    comments = elf_comments(binary)
    # The C++ runtime objects carry the same GCC string; clang adds its own beside it.
    for c in comments:
        if "clang" in c.lower():
            return c
    if comments:
        return comments[-1]
    try:
        out = subprocess.run(["c++", "--version"], capture_output=True, text=True, check=True).stdout
        return out.splitlines()[0] + " (c++ on PATH; the binary names none)"
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown compiler"


def run(binary, extra):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bench.json")
        # The binary's own console reporter (with its ratio table) stays on stderr's side of
        # things: the JSON comes from --benchmark_out, which no display reporter can replace.
        cmd = [binary, "--benchmark_format=json", "--benchmark_out=" + out, "--benchmark_out_format=json"] + extra
        shown = [binary, "--benchmark_format=json"] + extra
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout)
            sys.exit("bytepiece_bench exited with status %d" % proc.returncode)
        with open(out, encoding="utf-8") as f:
            return json.load(f), shown


def collect(report):
    """name -> (bytes/s, real time in ms, error) with the '/real_time' suffix dropped; the
    median when repetitions produced aggregates."""
    rows, medians = {}, {}
    for b in report.get("benchmarks", []):
        name = b.get("run_name") or b["name"]
        if name.endswith("/real_time"):
            name = name[: -len("/real_time")]
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}.get(b.get("time_unit", "ns"), 1e-6)
        entry = (b.get("bytes_per_second", 0.0), b.get("real_time", 0.0) * scale,
                 b.get("error_message") if b.get("error_occurred") else None)
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = entry
        else:
            rows.setdefault(name, entry)
    rows.update(medians)
    return rows


def mbps(rate):
    return "%.1f" % (rate / 1e6) if rate else "–"


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        return 0 if len(sys.argv) >= 2 else 2
    binary = sys.argv[1]
    report, shown = run(binary, sys.argv[2:])
    rows = collect(report)

    bases = sorted({n[: -len(OURS)] for n in rows if n.endswith(OURS)} | {n[: -len(THEIRS)] for n in rows if n.endswith(THEIRS)})
    ctx = report.get("context", {})
    lines = []
    lines.append("| row (op/model/corpus) | ours MB/s | SentencePiece MB/s | ratio | ours ms | SentencePiece ms |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    errors = []
    for base in bases:
        ours = rows.get(base + OURS)
        theirs = rows.get(base + THEIRS)
        if base.startswith("load_binary/") and not theirs:
            # SentencePiece has one model file; its load row serves both of ours.
            theirs = rows.get("load/" + base[len("load_binary/"):] + THEIRS)
        if base.startswith("sp_encode_texts/") and not theirs:
            # SentencePiece has no batch call: its per-line row is the peer of both of ours.
            theirs = rows.get("sp_encode/" + base[len("sp_encode_texts/"):] + THEIRS)
        for label, r in (("ours", ours), ("SentencePiece", theirs)):
            if r and r[2]:
                errors.append("%s (%s): %s" % (base, label, r[2]))
        o_rate, o_ms = (ours[0], ours[1]) if ours and not ours[2] else (0, 0)
        t_rate, t_ms = (theirs[0], theirs[1]) if theirs and not theirs[2] else (0, 0)
        # Load rows read different files (JSON vs protobuf), so their MB/s do not compare;
        # the time for the same vocabulary does, and their ratio is theirs/ours in time.
        if base.startswith(("load/", "load_binary/")):
            ratio = "%.2fx (time)" % (t_ms / o_ms) if o_ms and t_ms else "–"
        else:
            ratio = "%.2fx" % (o_rate / t_rate) if o_rate and t_rate else "–"
        lines.append("| `%s` | %s | %s | %s | %s | %s |" % (
            base, mbps(o_rate), mbps(t_rate), ratio,
            "%.1f" % o_ms if o_ms else "–", "%.1f" % t_ms if t_ms else "–"))

    notes = []
    for name, (rate2, _, err) in sorted(rows.items()):
        if name.startswith("batch_encode_2t/") and not err:
            one = rows.get("batch_encode_1t/" + name[len("batch_encode_2t/"):])
            if one and one[0] and not one[2]:
                rest = name[len("batch_encode_2t/"):]
                who = "ours" if rest.endswith(OURS) else "SentencePiece" if rest.endswith(THEIRS) else "?"
                rest = rest.rsplit("/", 1)[0]
                notes.append("- batch encode, 2 threads over 1, `%s` (%s): %.2fx" % (rest, who, rate2 / one[0]))
    for name, (scan_rate, _, err) in sorted(rows.items()):
        parts = name.split("/")
        if parts[0] == "scan" and len(parts) == 4 and parts[3] == "bytepiece" and not err and scan_rate:
            enc = rows.get("encode/%s/%s%s" % (parts[1], parts[2], OURS))
            if enc and enc[0] and not enc[2]:
                notes.append("- scan (encode's first pass) share of encode time, `%s` on `%s`: %.1f%%" % (parts[1], parts[2], 100.0 * enc[0] / scan_rate))
    for name, (nfc_rate, _, err) in sorted(rows.items()):
        if name.startswith("nfc_chunking/") and name.endswith(OURS) and not err and nfc_rate:
            corpus = name[len("nfc_chunking/"): -len(OURS)]
            for enc, (enc_rate, _, enc_err) in sorted(rows.items()):
                parts = enc.split("/")
                if parts[0] == "encode" and len(parts) == 4 and parts[2] == corpus and parts[3] == "bytepiece" and not enc_err:
                    notes.append("- NFC + chunking share of encode time, `%s` on `%s`: %.1f%%" % (parts[1], corpus, 100.0 * enc_rate / nfc_rate))

    for name, (norm_rate, _, err) in sorted(rows.items()):
        parts = name.split("/")
        if parts[0] == "sp_normalize" and len(parts) == 4 and parts[3] == "bytepiece" and not err and norm_rate:
            enc = rows.get("sp_encode/%s/%s%s" % (parts[1], parts[2], OURS))
            if enc and enc[0] and not enc[2]:
                notes.append("- normalizer share of our encode time, SentencePiece model `%s` on `%s`: %.1f%%" % (parts[1], parts[2], 100.0 * enc[0] / norm_rate))

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    ncpu = ctx.get("num_cpus") or os.cpu_count()
    out = []
    out.append("Machine: %s, %s logical CPUs; %s; %s." % (cpu_model(), ncpu, platform.system() + " " + platform.release(), compiler(binary)))
    out.append("Date: %s. Command: `%s`." % (now, " ".join(shlex.quote(a) for a in shown)))
    if ctx.get("library_build_type") == "debug":
        out.append("(Google Benchmark reports its own library as a debug build, as Debian's package does; "
                   "that concerns its bookkeeping, not the timed code.)")
    out.append("")
    out.extend(lines)
    if notes:
        out.append("")
        out.extend(notes)
    if errors:
        out.append("")
        out.append("Rows that failed (not in the table):")
        out.extend("- " + e for e in errors)
    print("\n".join(out))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
