#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bytepiece_cpp from Python against python3-sentencepiece on the same vocabulary, in one run;
prints a Markdown table of MB/s and ratios.

usage: PYTHONPATH=build/rel/python /usr/bin/python3 scripts/bench_python.py
           [--rounds N] [--model NAME] [--corpora mixed.txt,en.txt] [--shared DIR] [--limit MB]

Rows, each on the lines of a corpus file (newline removed, empty lines skipped; MB = 10^6
bytes of UTF-8 text given to the encoder):
  sentencepiece encode      `sp.encode(line)` in a Python loop (the peer, = 1.00x)
  sentencepiece batch       `sp.encode(lines, num_threads=1)`, for information
  bytepiece_cpp encode      `tok.encode(line)` in a Python loop
  bytepiece_cpp encode_batch `tok.encode_batch(lines, threads=T)`, T = 1 and 2, as lists of
                            lists and as NumPy arrays (numpy=True: flat ids and offsets)
The SentencePiece model is the reference converter's export of the same BytePiece model
(`<name>.sp.model`, same pieces and scores; shared/models/README.md says how its output
differs on some lines). Rounds alternate the order of the rows so that all see the same
machine load; each row's best round is reported. Our rows must give identical ids (checked by
a checksum); the SentencePiece rows are checked against each other.
"""

import argparse
import array
import os
import pathlib
import platform
import sys
import time
import zlib


def checksum(batches):
    """CRC32 over all ids, in line order (a list of lists, or numpy's (ids, offsets))."""
    if isinstance(batches, tuple):
        return zlib.crc32(batches[0].astype("uint32").tobytes())
    crc = 0
    for ids in batches:
        crc = zlib.crc32(array.array("I", ids).tobytes(), crc)
    return crc


def main():
    here = pathlib.Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--model", default="bytepiece.eu.plus.40k")
    ap.add_argument("--corpora", default="mixed.txt,en.txt")
    ap.add_argument("--shared", default=os.environ.get("BYTEPIECE_SHARED_DIR", str(here.parent.parent / "shared")))
    ap.add_argument("--limit", type=float, default=0, help="use only the first MB of each corpus (0: all)")
    args = ap.parse_args()

    import bytepiece_cpp
    import sentencepiece as spm

    shared = pathlib.Path(args.shared)
    tok = bytepiece_cpp.Tokenizer(str(shared / "models" / f"{args.model}.model"))
    sp = spm.SentencePieceProcessor(model_file=str(shared / "models" / f"{args.model}.sp.model"))

    def ours_encode(lines):
        enc = tok.encode
        return [enc(s) for s in lines]

    def ours_batch(threads, numpy=False):
        return lambda lines: tok.encode_batch(lines, threads=threads, numpy=numpy)

    def sp_encode(lines):
        enc = sp.encode
        return [enc(s) for s in lines]

    def sp_batch(lines):
        return sp.encode(lines, num_threads=1)

    rows = [
        ("sentencepiece encode (loop)", sp_encode, "sp"),
        ("sentencepiece encode(list), 1 thread", sp_batch, "sp"),
        ("bytepiece_cpp encode (loop)", ours_encode, "ours"),
        ("bytepiece_cpp encode_batch, 1 thread", ours_batch(1), "ours"),
        ("bytepiece_cpp encode_batch, 2 threads", ours_batch(2), "ours"),
        ("bytepiece_cpp encode_batch numpy, 1 thread", ours_batch(1, True), "ours"),
        ("bytepiece_cpp encode_batch numpy, 2 threads", ours_batch(2, True), "ours"),
    ]
    print(f"# bytepiece_cpp Python benchmark: {args.model}, best of {args.rounds} rounds, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"sentencepiece {spm.__version__}\n")
    failed = False
    for corpus in args.corpora.split(","):
        with open(shared / "corpus" / corpus, encoding="utf-8") as f:
            text = f.read(int(args.limit * 1e6)) if args.limit else f.read()
        lines = [s for s in text.split("\n") if s]
        mb = sum(len(s.encode()) for s in lines) / 1e6
        best = {name: float("inf") for name, _, _ in rows}
        sums = {}
        for r in range(args.rounds):
            order = rows if r % 2 == 0 else rows[::-1]
            for name, fn, side in order:
                t0 = time.perf_counter()
                out = fn(lines)
                dt = time.perf_counter() - t0
                best[name] = min(best[name], dt)
                if r == 0:
                    tokens = len(out[0]) if isinstance(out, tuple) else sum(len(x) for x in out)
                    sums[name] = (side, checksum(out), tokens)
        peer = best[rows[0][0]]
        print(f"## {corpus}: {len(lines)} lines, {mb:.1f} MB\n")
        print("| row | MB/s | x sentencepiece loop | tokens | checksum |")
        print("| --- | ---: | ---: | ---: | --- |")
        for name, _, side in rows:
            same = [v[1] for v in sums.values() if v[0] == side]
            ok = all(c == same[0] for c in same)
            failed |= not ok
            print(f"| {name} | {mb / best[name]:.2f} | {peer / best[name]:.2f}x | {sums[name][2]} | "
                  f"{sums[name][1]:08x}{'' if ok else ' MISMATCH'} |")
        b1, b2 = best["bytepiece_cpp encode_batch, 1 thread"], best["bytepiece_cpp encode_batch, 2 threads"]
        n1, n2 = best["bytepiece_cpp encode_batch numpy, 1 thread"], best["bytepiece_cpp encode_batch numpy, 2 threads"]
        print(f"\nencode_batch 2 threads / 1 thread: {b1 / b2:.2f}x (lists), {n1 / n2:.2f}x (numpy)\n")
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
