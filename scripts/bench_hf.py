#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Our hf_tokenizer against HF tokenizers (node) on tokenizer.json files, in one run; prints a
Markdown table with the ratio.

usage: scripts/bench_hf.py PATH/TO/bytepiece_bench [--rounds N] [--files A.json,B.json]
                           [--corpora X.txt,Y.txt] [--shared DIR]
   e.g. scripts/bench_hf.py build/rel/bench/bytepiece_bench --rounds 3

For every tokenizer.json and corpus file, each round runs our rows (bench/bench_hf.cpp:
hf_encode = one encode per line, hf_encode_texts = all lines to one encode_texts call) and the
peer (scripts/bench_hf.js: HF tokenizers 0.23.2 through its node binding, encodeBatch on the
same lines, single thread: RAYON_NUM_THREADS=1 and TOKENIZERS_PARALLELISM=false), alternating
which goes first, so that both see the same machine load. Each side's best round is reported.
Both sides print an FNV checksum of all the ids in line order: a row whose checksums differ
is marked and the script exits with 1. MB = 10^6 bytes of the whole file. Defaults: ALBERT
30k-clean in the from_spm shape and the byte-level export of eu.plus.40k, on mixed, en, zh
and code. Only the standard library is used.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def stem(path, ext):
    name = os.path.basename(path)
    return name[: -len(ext)] if name.endswith(ext) else name


def run_ours(binary, shared, tokenizer_json, corpus):
    """{'hf_encode': (bytes/s, checksum, ids, error), 'hf_encode_texts': ...} for one file and corpus."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        env = dict(os.environ, BYTEPIECE_SHARED_DIR=shared, BYTEPIECE_BENCH_HF_FILES=tokenizer_json,
                   BYTEPIECE_BENCH_CORPORA=corpus)
        row = "%s/%s" % (stem(tokenizer_json, ".json"), stem(corpus, ".txt"))
        cmd = [binary, "--benchmark_filter=^hf_encode(_texts)?/%s/bytepiece" % row.replace(".", "[.]"),
               "--benchmark_out=" + out, "--benchmark_out_format=json"]
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=sys.stderr, env=env)
        if proc.returncode != 0 or not os.path.exists(out):
            raise SystemExit("bench_hf: %s failed (%d)" % (shlex.join(cmd), proc.returncode))
        with open(out, encoding="utf-8") as f:
            report = json.load(f)
    result = {}
    for b in report.get("benchmarks", []):
        op = b["name"].split("/", 1)[0]
        label = b.get("label", "")
        checksum = label.split("=", 1)[1] if label.startswith("ids_fnv=") else None
        error = b.get("error_message") if b.get("error_occurred") else None
        result[op] = (b.get("bytes_per_second", 0.0), checksum, int(b.get("ids", 0)), error)
    return result


def run_peer(node, tokenizer_json, corpus):
    env = dict(os.environ, RAYON_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    cmd = [node, os.path.join(ROOT, "scripts", "bench_hf.js"), tokenizer_json, corpus, "--runs", "2"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=sys.stderr, env=env, text=True)
    if proc.returncode != 0:
        raise SystemExit("bench_hf: %s failed (%d)" % (shlex.join(cmd), proc.returncode))
    return json.loads(proc.stdout)


def node_versions(node):
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    try:
        with open(os.path.join(ROOT, "tests", "oracle", "node_modules", "tokenizers", "package.json"), encoding="utf-8") as f:
            tokenizers = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        tokenizers = "unknown"
    return version, tokenizers


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--shared", default=os.environ.get("BYTEPIECE_SHARED_DIR", os.path.join(ROOT, "..", "shared")))
    ap.add_argument("--files", default="")
    ap.add_argument("--corpora", default="")
    ap.add_argument("--node", default="node")
    args = ap.parse_args()
    shared = os.path.abspath(args.shared)
    files = [f for f in args.files.split(",") if f] or [
        os.path.join(shared, "models", "hf", f)
        for f in ("albert-30k-clean.from_spm.json", "bytepiece.eu.plus.40k.bytelevel.json")]
    corpora = [c for c in args.corpora.split(",") if c] or [
        os.path.join(shared, "corpus", c + ".txt") for c in ("mixed", "en", "zh", "code")]
    pairs = [(f, c) for f in files for c in corpora if os.path.exists(f) and os.path.exists(c)]
    if not pairs:
        raise SystemExit("bench_hf: no tokenizer.json and corpus files found (--shared %s)" % shared)

    best = {}  # (file, corpus) -> {"hf_encode": ..., "hf_encode_texts": ..., "hf": ...}
    for r in range(args.rounds):
        for i, (f, c) in enumerate(pairs):
            entry = best.setdefault((f, c), {})
            order = ("ours", "peer") if (r + i) % 2 == 0 else ("peer", "ours")
            for side in order:
                print("bench_hf: round %d/%d, %s on %s, %s" % (r + 1, args.rounds, os.path.basename(f),
                                                              os.path.basename(c), side), file=sys.stderr)
                if side == "ours":
                    for op, v in run_ours(args.binary, shared, f, c).items():
                        if op not in entry or v[0] > entry[op][0]:
                            entry[op] = v
                else:
                    p = run_peer(args.node, f, c)
                    if "hf" not in entry or p["mb_per_s"] > entry["hf"]["mb_per_s"]:
                        entry["hf"] = p

    node_version, tokenizers_version = node_versions(args.node)
    out = ["## tokenizer.json: bytepiece-cpp against HF tokenizers", "",
           "%s, %s; HF tokenizers %s (npm, node %s), single thread (RAYON_NUM_THREADS=1, "
           "TOKENIZERS_PARALLELISM=false); %s." % (cpu_model(), platform.platform(), tokenizers_version, node_version,
                                                  datetime.date.today().isoformat()),
           "Command: `%s` (best of %d interleaved rounds per side)." % (
               shlex.join(["scripts/bench_hf.py"] + sys.argv[1:]), args.rounds), "",
           "| tokenizer.json | corpus | MB | lines | ids | ours encode MB/s | ours encode_texts MB/s | HF MB/s "
           "| ratio encode | ratio encode_texts | ids |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    failures = []
    for (f, c), e in best.items():
        hf = e.get("hf")
        one = e.get("hf_encode", (0.0, None, 0, "missing"))
        batch = e.get("hf_encode_texts", (0.0, None, 0, "missing"))
        for op, v in (("hf_encode", one), ("hf_encode_texts", batch)):
            if v[3]:
                failures.append("%s %s %s: %s" % (os.path.basename(f), os.path.basename(c), op, v[3]))
        same = hf is not None and one[1] == hf["ids_fnv"] and batch[1] == hf["ids_fnv"] and one[2] == hf["ids"]
        if not same:
            failures.append("%s %s: ids differ (ours %s / %s, %d ids; HF %s, %s ids)" % (
                os.path.basename(f), os.path.basename(c), one[1], batch[1], one[2],
                hf and hf["ids_fnv"], hf and hf["ids"]))
        hf_rate = hf["mb_per_s"] if hf else 0.0
        ours1, ours2 = one[0] / 1e6, batch[0] / 1e6
        out.append("| %s | %s | %.1f | %d | %d | %.1f | %.1f | %.2f | %s | %s | %s |" % (
            stem(f, ".json"), stem(c, ".txt"), (hf["bytes"] if hf else 0) / 1e6, hf["lines"] if hf else 0, one[2],
            ours1, ours2, hf_rate, "%.1fx" % (ours1 / hf_rate) if hf_rate else "-",
            "%.1fx" % (ours2 / hf_rate) if hf_rate else "-", "identical" if same else "**DIFFER**"))
    if failures:
        out += ["", "Failures:"] + ["- " + x for x in failures]
    print("\n".join(out))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
