#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Training on one machine against bytepiece_cpp.dask.train on a LocalCluster, in one run:
wall time, peak resident memory per process, and a check that every run wrote the same bytes.

usage: PYTHONPATH=build/rel/python /usr/bin/python3 scripts/bench_dask.py [FILE ...]
           [--workers 1,2] [--order 6] [--vocab 40000] [--min-count 32] [--part-mb 16]

FILE defaults to the four shared corpus files (../shared/corpus/{code,en,mixed,zh}.txt). Rows:
  one machine, 1 thread   shards.train_files(..., threads=1) in a fresh process
  dask, W workers         LocalCluster(n_workers=W, threads_per_worker=1, processes=True)
Peak memory: the training process for one machine; for Dask each worker's peak (ru_maxrss of
the worker process, read with client.run) and the client's (which also runs the pruning).
"""

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

ONE_MACHINE = r"""
import json, resource, sys, time
from bytepiece_cpp import shards
files, output, opts = json.loads(sys.argv[1])
t = time.monotonic()
shards.train_files(files, output, **opts)
print(json.dumps({"seconds": time.monotonic() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

DASK = r"""
import json, resource, sys, time
import distributed
import bytepiece_cpp.dask
files, output, opts, workers, part_bytes = json.loads(sys.argv[1])
with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                              silence_logs=40) as cluster, distributed.Client(cluster) as client:
    t = time.monotonic()
    bytepiece_cpp.dask.train(client, files, output, part_bytes=part_bytes, **opts)
    seconds = time.monotonic() - t
    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_peaks_mb": sorted(peaks.values())}))
"""


def run(code, arg):
    out = subprocess.run([sys.executable, "-c", code, json.dumps(arg)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    here = pathlib.Path(__file__).resolve().parent
    shared = pathlib.Path(os.environ.get("BYTEPIECE_SHARED_DIR", here.parent.parent / "shared"))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--order", type=int, default=6)
    ap.add_argument("--vocab", type=int, default=40000)
    ap.add_argument("--min-count", type=int, default=32)
    ap.add_argument("--part-mb", type=float, default=16)
    a = ap.parse_args()
    files = a.files or [str(shared / "corpus" / f) for f in ("code.txt", "en.txt", "mixed.txt", "zh.txt")]
    files = [os.path.abspath(f) for f in files]
    total = sum(os.path.getsize(f) for f in files)
    opts = {"order": a.order, "max_vocab_size": a.vocab, "min_count": a.min_count}
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        ref = os.path.join(tmp, "one.model")
        r = run(ONE_MACHINE, [files, ref, dict(opts, threads=1)])
        rows.append(("one machine, 1 thread", r["seconds"], f"{r['peak_mb']:.0f}"))
        want = pathlib.Path(ref).read_bytes()
        for w in [int(x) for x in a.workers.split(",")]:
            out = os.path.join(tmp, f"dask{w}.model")
            r = run(DASK, [files, out, dict(opts, threads=1), w, int(a.part_mb * 2**20)])
            same = pathlib.Path(out).read_bytes() == want
            peaks = ", ".join(f"{p:.0f}" for p in r["worker_peaks_mb"])
            rows.append((f"dask, {w} worker{'s' if w > 1 else ''}", r["seconds"], f"client {r['peak_mb']:.0f}; workers {peaks}"
                         + ("" if same else "; MODEL DIFFERS")))
            if not same:
                print(f"dask with {w} workers wrote another model than one machine", file=sys.stderr)
    print(f"corpus: {len(files)} files, {total / 1e6:.1f} MB; options {opts}; parts of {a.part_mb} MiB\n")
    print("| run | wall s | peak RSS MB |")
    print("| --- | ---: | --- |")
    for name, secs, mem in rows:
        print(f"| {name} | {secs:.1f} | {mem} |")
    if any("DIFFERS" in r[2] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
