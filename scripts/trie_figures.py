#!/usr/bin/python3
"""Figures for building the trie and the automaton (issue 16, item 5).

Writes, in a temporary folder, JSON models of N random distinct 6-digit pieces plus the 256
single bytes, a hostile model (one piece of 10^6 `a` plus `a`, `aa`, ... up to 1000 `a`), and
files of random decimal digits; then runs the CLI on them under /usr/bin/time and prints the
wall time, the CPU time (user + system: on a shared machine wall time is noisy) and the peak
resident memory of each run:

  load N      `bytepiece encode -m MODEL EMPTY`: loading the model is all the run does
  train B     `bytepiece train` on B bytes of random digits
  hostile     loading the hostile model (must end in bounded memory, or fail with an error)

What matters is the ratio of a run to its peer measured in the same run (600k against 300k
pieces, 2 MB against 1 MB of digits), not the absolute times.

usage: scripts/trie_figures.py [--cli build/rel/tools/bytepiece] [--only load,train,hostile]
"""

import argparse
import base64
import json
import os
import random
import re
import subprocess
import sys
import tempfile


def write_model(path, pieces):
    """A BytePiece JSON model: the 256 single bytes, then `pieces`, ids from 3, count 1 each."""
    entries = [bytes([b]) for b in range(256)] + pieces
    with open(path, "w", encoding="utf-8") as f:
        f.write("{")
        for i, p in enumerate(entries):
            key = base64.b64encode(p).decode("ascii")
            text = json.dumps(p.decode("latin-1"))
            f.write("%s\n%s: [%d, %s, 1]" % ("," if i else "", json.dumps(key), 3 + i, text))
        f.write("\n}\n")


def random_digit_pieces(n, rng):
    return [b"%06d" % v for v in rng.sample(range(10**6), n)]


def timed(cmd, out_path):
    """Runs `cmd` with stdout to `out_path`; returns (wall seconds, CPU seconds, peak RSS in MiB, exit status, stderr tail)."""
    with open(out_path, "wb") as out:
        r = subprocess.run(["/usr/bin/time", "-f", "@@ %e %U %S %M"] + cmd, stdout=out, stderr=subprocess.PIPE)
    err = r.stderr.decode("utf-8", "replace")
    m = re.search(r"@@ ([0-9.]+) ([0-9.]+) ([0-9.]+) ([0-9]+)", err)
    rest = err[: m.start()].strip() if m else err.strip()
    cpu = float(m.group(2)) + float(m.group(3))
    return float(m.group(1)), cpu, int(m.group(4)) / 1024.0, r.returncode, rest.splitlines()[-1:] if rest else []


def report(label, wall, cpu, mib, status, err):
    note = "" if status == 0 else "  exit %d: %s" % (status, " ".join(err))
    print("%-22s %8.2f s wall %8.2f s cpu %9.1f MiB peak%s" % (label, wall, cpu, mib, note), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default="build/rel/tools/bytepiece")
    ap.add_argument("--only", default="load,train,hostile")
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args()
    cli = os.path.abspath(args.cli)
    only = set(args.only.split(","))
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="trie_figures.") as tmp:
        out = os.path.join(tmp, "out")
        empty = os.path.join(tmp, "empty.txt")
        open(empty, "w").close()
        if "load" in only:
            for n in (300_000, 600_000):
                model = os.path.join(tmp, "digits.%d.model" % n)
                write_model(model, random_digit_pieces(n, rng))
                report("load %dk pieces" % (n // 1000), *timed([cli, "encode", "-m", model, empty], out))
        if "train" in only:
            for size in (1 << 20, 2 << 20):
                text = os.path.join(tmp, "digits.%d.txt" % size)
                with open(text, "w") as f:
                    # Lines of 100 digits: the text is one chunk per line.
                    for _ in range(size // 101):
                        f.write("".join(rng.choice("0123456789") for _ in range(100)) + "\n")
                model = os.path.join(tmp, "trained.model")
                cmd = [cli, "train", "-q", "-i", text, "-o", model, "--vocab-size", "20000"]
                report("train %d MiB digits" % (size >> 20), *timed(cmd, out))
        if "hostile" in only:
            model = os.path.join(tmp, "hostile.model")
            write_model(model, [b"a" * 10**6] + [b"a" * k for k in range(2, 1001)])
            label = "hostile (%.1f MB)" % (os.path.getsize(model) / 1e6)
            report(label, *timed([cli, "encode", "-m", model, empty], out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
