"""Training on a Dask cluster: :func:`train` runs the steps of :mod:`bytepiece_cpp.shards` on
the workers of a ``distributed.Client`` and writes the model ``bytepiece train`` would write on
the whole corpus, byte for byte.

How the work is shared out:

1. The files are cut into parts of about ``part_bytes`` (at line ends, by the workers themselves:
   nothing is copied) and each part's n-grams are counted by a task (pass 1).
2. The n-gram count files are added up in a tree of ``merge`` tasks, ``fan_in`` files a node,
   on the workers; merging streams, so a node's memory does not grow with its files.
3. The client prunes the total to the n-gram model of pass 2 and writes it to the work folder,
   which every pass-2 task reads (the only data every worker needs).
4. Each part's pieces are counted (pass 2), the piece counts merged in a tree, and the client
   prunes them to each vocabulary size and saves the models.

The corpus files and the work folder must be visible at the same paths to the client and every
worker: on one machine (``LocalCluster``) any folder; on a cluster, shared storage (NFS, a
parallel file system). Count files pass through the work folder, never through Dask's memory.

Example::

    from distributed import Client, LocalCluster
    import bytepiece_cpp.dask

    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        bytepiece_cpp.dask.train(client, ["corpus.txt"], "my.model", max_vocab_size=40000, min_count=32)

    # the same against a running cluster, the corpus on shared storage:
    client = Client("tcp://scheduler:8786")
    bytepiece_cpp.dask.train(client, ["/shared/corpus/part-0.txt", "/shared/corpus/part-1.txt"],
                             "/shared/models/my.model", work_dir="/shared/tmp", min_count=32)
"""

import math
import os
import shutil
import stat
import sys
import tempfile
import time
import uuid
from typing import Callable, List, Optional, Sequence, Tuple

import bytepiece_cpp

from . import shards

__all__ = ["train", "plan_parts"]


def plan_parts(sizes: Sequence[int], part_bytes: int) -> List[Tuple[int, int, int]]:
    """The tasks of a counting pass: ``(file index, part index, part count)`` for each part,
    every file in ``ceil(size / part_bytes)`` parts (at least one, at most 2**20).

    Example: ``plan_parts([10, 25], 10)`` is ``[(0, 0, 1), (1, 0, 3), (1, 1, 3), (1, 2, 3)]``."""
    if part_bytes < 1:
        raise ValueError(f"part_bytes must be at least 1, got {part_bytes}")
    tasks = []
    for i, size in enumerate(sizes):
        n = min(max(1, math.ceil(size / part_bytes)), 2**20)
        tasks.extend((i, k, n) for k in range(n))
    return tasks


# The tasks that run on the workers. Module-level functions, so that Dask pickles them by name
# (the workers import bytepiece_cpp.dask); each returns the path it wrote.

def _count_ngrams_task(path: str, index: int, count: int, output: str, options: dict) -> str:
    return shards.count_ngrams([path], output, part=(index, count), **options)


def _count_pieces_task(pruned: str, path: str, index: int, count: int, output: str, options: dict) -> str:
    return shards.count_pieces(pruned, [path], output, part=(index, count), **options)


def _merge_task(inputs: List[str], output: str) -> str:
    return shards.merge(inputs, output)


def _tree_merge(client, futures: list, fan_in: int, name: str, work_dir: str, tag: str) -> str:
    """Adds up the count files the futures will write, ``fan_in`` at a time, level after level,
    on the workers; returns the path of the total (the one file itself if there is one)."""
    level = 0
    while len(futures) > 1:
        level += 1
        merged = []
        for j in range(0, len(futures), fan_in):
            group = futures[j:j + fan_in]
            if len(group) == 1:
                merged.append(group[0])
                continue
            out = os.path.join(work_dir, f"{name}.merge{level}.{j // fan_in}.counts")
            merged.append(client.submit(_merge_task, group, out, key=f"bytepiece-{name}-merge{level}-{j // fan_in}-{tag}"))
        futures = merged
    return futures[0].result()


def _report(progress: Optional[Callable[[str], None]], message: str) -> None:
    if progress:
        progress(message)


def _stderr(message: str) -> None:
    print(f"bytepiece_cpp.dask: {message}", file=sys.stderr, flush=True)


def train(client, files: Sequence[str], output: str, *, part_bytes: Optional[int] = None, fan_in: int = 4,
          work_dir: Optional[str] = None, keep_work_dir: bool = False, progress=None, **options) -> List[str]:
    """Trains a BytePiece model on ``files`` with the workers of ``client`` (a
    ``distributed.Client``) and saves it to ``output`` as ``bytepiece train -o output`` would
    (``output.<size>`` for each size when ``max_vocab_size`` is a list); returns the paths
    written. The models are byte for byte those of one-machine training on the same files, for
    any cluster and any ``part_bytes``.

    ``options``: ``order``, ``max_vocab_size``, ``max_piece_length``, ``min_count``,
    ``isolate_digits``, ``ensure_unicode`` (as ``Trainer``'s and ``bytepiece train``'s),
    ``threads`` (per task; default 1: one task per worker thread), ``memory_limit`` and
    ``temp_dir`` (``Trainer``'s; ``--memory`` and ``--temp-dir``). The client's final pruning
    holds the pieces kept as they are plus one block of the rare ones, ``memory_limit / 8``
    bytes (64 MiB without it); a counting task's memory follows its part (``part_bytes``). ``part_bytes``: the size of a
    counting task's part (default: the corpus shared into about four parts per worker thread,
    between 1 MiB and 256 MiB). ``fan_in``: count files per merge task (at least 2).
    ``work_dir``: where to put a new private folder for the count files, visible to the client
    and every worker (default: beside ``output``); the folder is removed at the end unless
    ``keep_work_dir`` (then ``progress`` is told its path); it needs about
    as much space as the n-gram counts of the corpus. ``progress``: a callable taking a message
    per phase, ``True`` for messages on stderr, or ``None``.

    Raises what the steps raise (``TrainError`` for bad options or count files of other
    options, ``FileError`` for files that cannot be read or written), in the client; a file
    missing or a folder is reported before any task starts.

    Example: ``bytepiece_cpp.dask.train(client, ["a.txt", "b.txt"], "ab.model", min_count=32)``"""
    report = _stderr if progress is True else (progress or None)
    opts = dict(options)
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    paths = [os.path.abspath(os.fspath(f)) for f in files]
    if not paths:
        raise ValueError("train: no files were given")
    stamps = []
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"{p}: no such file")
        if os.path.isdir(p):
            raise IsADirectoryError(f"{p}: is a folder, not a text file")
        st = os.stat(p)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{p}: not a regular file (a pipe or a device); the workers read each file twice, "
                             "in parts, so it must be a file on storage they share")
        stamps.append((st.st_size, st.st_mtime_ns))
    output = os.path.abspath(os.fspath(output))
    if output in paths:
        raise ValueError(f"train: the output {output} is one of the input files")
    fan_in = int(fan_in)
    if fan_in < 2:
        raise ValueError(f"fan_in must be at least 2, got {fan_in}")
    # Options and output are checked now, not after the cluster has worked.
    shards.check_train(output, **opts)
    sizes = [os.path.getsize(p) for p in paths]
    if part_bytes is None:
        info = client.scheduler_info()
        slots = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()) or 1
        part_bytes = min(max(sum(sizes) // (4 * slots), 1 << 20), 256 << 20)
    tasks = plan_parts(sizes, int(part_bytes))

    # A private folder, so that no file of the user's is ever overwritten by a count file.
    parent = os.path.dirname(output) if work_dir is None else os.path.abspath(os.fspath(work_dir))
    if not os.path.isdir(parent):
        raise NotADirectoryError(f"{parent}: work_dir is not a folder")
    work = tempfile.mkdtemp(prefix=".bytepiece-dask-", dir=parent)
    tag = uuid.uuid4().hex
    try:
        started = time.monotonic()
        _report(report, f"pass 1: counting n-grams in {len(tasks)} parts of {len(paths)} files")
        ngram_futures = [
            client.submit(_count_ngrams_task, paths[i], k, n, os.path.join(work, f"ngrams.{i}.{k}.counts"), opts,
                          key=f"bytepiece-ngrams-{i}-{k}-{tag}")
            for i, k, n in tasks
        ]
        ngrams = _tree_merge(client, ngram_futures, fan_in, "ngrams", work, tag)
        del ngram_futures
        _report(report, f"pass 1 done in {time.monotonic() - started:.1f}s; pruning the n-grams on the client")
        pruned = os.path.join(work, "model.pruned")
        shards.prune_ngrams(ngrams, pruned, **opts)
        started = time.monotonic()
        _report(report, f"pass 2: counting pieces in {len(tasks)} parts")
        piece_futures = [
            client.submit(_count_pieces_task, pruned, paths[i], k, n, os.path.join(work, f"pieces.{i}.{k}.counts"), opts,
                          key=f"bytepiece-pieces-{i}-{k}-{tag}")
            for i, k, n in tasks
        ]
        pieces = _tree_merge(client, piece_futures, fan_in, "pieces", work, tag)
        del piece_futures
        _report(report, f"pass 2 done in {time.monotonic() - started:.1f}s; pruning the pieces on the client")
        # The two passes must have read the same corpus: a file rewritten in between would give
        # a model that is neither the old corpus's nor the new one's.
        for p, stamp in zip(paths, stamps):
            st = os.stat(p)
            if (st.st_size, st.st_mtime_ns) != stamp:
                raise bytepiece_cpp.FileError(f"{p}: the file changed while the model was being trained on it")
        if shards.info(ngrams)["input_bytes"] != shards.info(pieces)["input_bytes"]:
            raise bytepiece_cpp.FileError("the corpus changed between the two passes (they read different byte counts)")
        written = shards.train_from_counts(pieces, output, **opts)
        _report(report, "saved " + ", ".join(written))
        return written
    finally:
        if keep_work_dir:
            _report(report, f"count files kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
