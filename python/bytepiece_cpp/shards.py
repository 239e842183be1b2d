"""Training in steps that can run on different machines: the CLI's ``count-ngrams``, ``merge``,
``prune-ngrams``, ``count-pieces`` and ``train --from-counts`` as functions.

Each counting step reads files (or part *k* of *n* of each file, cut at line ends, so that one
huge file can be shared out without being split first) and writes a count file; count files of
the same step add up with :func:`merge`, in any order and grouping. The model trained from
shards is byte for byte the model that one-machine training (:func:`train_files`, or
``bytepiece train``) gives on the whole corpus::

    from bytepiece_cpp import shards
    opts = dict(order=6, max_vocab_size=40000, min_count=32)
    for k in range(4):                                   # anywhere, in parallel
        shards.count_ngrams(["corpus.txt"], f"n{k}.counts", part=(k, 4), **opts)
    shards.merge([f"n{k}.counts" for k in range(4)], "all.counts")
    shards.prune_ngrams("all.counts", "model.pruned", **opts)
    for k in range(4):                                   # anywhere, in parallel
        shards.count_pieces("model.pruned", ["corpus.txt"], f"p{k}.counts", part=(k, 4), **opts)
    shards.merge([f"p{k}.counts" for k in range(4)], "pieces.counts")
    shards.train_from_counts("pieces.counts", "my.model", **opts)

``bytepiece_cpp.dask.train`` runs these steps on a Dask cluster. Options are named as
``Trainer``'s (and ``bytepiece train``'s): ``order``, ``max_vocab_size`` (an int or a list),
``max_piece_length`` (an int or ``math.inf``), ``min_count``, ``isolate_digits``,
``ensure_unicode``, ``memory_limit`` and ``temp_dir`` (``--memory`` and ``--temp-dir``: bytes as
an int or a text such as ``"256M"``, and where the runs go), plus ``threads`` (threads of this
process for the step). ``memory_limit`` bounds :func:`train_files` as it bounds ``Trainer``, and
sets the blocks in which :func:`train_from_counts` splits the rare pieces (``limit / 8``; 64 MiB
without it); the counting steps do not use it (their memory follows their part). A step needs only
the options that decide its output; the others are accepted so that one dict serves every step,
and the count files record what they were made with, so that mixing files of other options is
refused (``TrainError``) instead of giving a wrong model.
"""

import math
import os
from typing import Dict, List, Sequence, Tuple, Union

from . import _core

__all__ = ["count_ngrams", "merge", "prune_ngrams", "count_pieces", "train_from_counts", "train_files", "check_train",
           "info",
           "OPTIONS"]

#: The options every step takes, with their defaults (the reference Trainer's).
OPTIONS = {
    "order": 6,
    "max_vocab_size": 10000,
    "max_piece_length": 36,
    "min_count": 2,
    "isolate_digits": False,
    "ensure_unicode": True,
    "threads": 1,
    "memory_limit": None,
    "temp_dir": None,
}

_UNLIMITED = 2**64 - 1
_KINDS = {"n-gram counts": "ngrams", "pruned n-gram counts": "pruned_ngrams", "piece counts": "pieces"}

Path = Union[str, "os.PathLike[str]"]


def _int(name: str, value, minimum: int = 0) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    value = value.__index__()
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return value


def _options(options: Dict) -> Tuple:
    """The options as the positional tail of every _core step, checked by name and type (the C++
    trainer checks their ranges)."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TypeError(f"unknown option {unknown[0]!r} (the options are: {', '.join(OPTIONS)})")
    o = dict(OPTIONS, **options)
    sizes = o["max_vocab_size"]
    sizes = [_int("max_vocab_size", s) for s in sizes] if isinstance(sizes, (list, tuple)) else [_int("max_vocab_size", sizes)]
    length = o["max_piece_length"]
    if isinstance(length, float) and math.isinf(length) and length > 0:
        length = _UNLIMITED
    else:
        length = _int("max_piece_length", length)
    threads = o["threads"]
    threads = 0 if threads is None else _int("threads", threads)
    temp_dir = o["temp_dir"]
    temp_dir = "" if temp_dir is None else os.fspath(temp_dir)
    if not isinstance(temp_dir, str):
        raise TypeError("temp_dir must be a str path or None")
    return (_int("order", o["order"]), sorted(sizes, reverse=True), length, _int("min_count", o["min_count"]),
            _bool("isolate_digits", o["isolate_digits"]), _bool("ensure_unicode", o["ensure_unicode"]), threads,
            _core._memory_size(o["memory_limit"]), temp_dir)


def _paths(files: Union[Path, Sequence[Path]], what: str = "files") -> List[str]:
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    out = [os.fspath(f) for f in files]
    if not all(isinstance(f, str) for f in out):
        raise TypeError(f"{what} must be paths (str or os.PathLike)")
    return out


def _part(part) -> Tuple[int, int]:
    if not isinstance(part, tuple) or len(part) != 2:
        raise TypeError(f"part must be a tuple (index, count), not {part!r}")
    return _int("part index", part[0]), _int("part count", part[1], 1)


def count_ngrams(files: Union[Path, Sequence[Path]], output: Path, *, part: Tuple[int, int] = (0, 1), **options) -> str:
    """Pass 1 on ``files`` (each file one text, as ``bytepiece train`` reads it), or on part
    ``part = (index, count)`` of each: writes their n-gram counts to ``output`` and returns it.

    Example: ``shards.count_ngrams(["a.txt"], "a.ngrams", part=(0, 2), order=6)``"""
    index, count = _part(part)
    _core._count_ngrams(_paths(files), os.fspath(output), index, count, *_options(options))
    return os.fspath(output)


def merge(inputs: Sequence[Path], output: Path) -> str:
    """Adds up count files of the same step and options (streaming: memory does not grow with
    the files) into ``output``; returns it.

    Example: ``shards.merge(["a.ngrams", "b.ngrams"], "ab.ngrams")``"""
    _core._merge_count_files(_paths(inputs, "inputs"), os.fspath(output))
    return os.fspath(output)


def prune_ngrams(input: Path, output: Path, **options) -> str:
    """Keeps the n-grams of a merged n-gram count file counted at least ``min_count`` times:
    the model that pass 2 needs. Returns ``output``.

    Example: ``shards.prune_ngrams("all.ngrams", "model.pruned", min_count=32)``"""
    _core._prune_ngrams(os.fspath(input), os.fspath(output), *_options(options))
    return os.fspath(output)


def count_pieces(pruned: Path, files: Union[Path, Sequence[Path]], output: Path, *, part: Tuple[int, int] = (0, 1),
                 **options) -> str:
    """Pass 2: cuts ``files`` (or ``part`` of each) into pieces with the pruned model and writes
    the piece counts to ``output``; returns it.

    Example: ``shards.count_pieces("model.pruned", ["a.txt"], "a.pieces", part=(0, 2))``"""
    index, count = _part(part)
    _core._count_pieces(os.fspath(pruned), _paths(files), os.fspath(output), index, count, *_options(options))
    return os.fspath(output)


def train_from_counts(pieces: Path, output: Path, **options) -> List[str]:
    """The last step: prunes the merged piece counts to each vocabulary size and saves the
    models where ``bytepiece train -o output`` saves them (``output`` for one size,
    ``output.<size>`` for several); returns the paths written. The file is read twice, never
    held whole: memory is the pieces kept as they are plus one block of the others.

    Example: ``shards.train_from_counts("pieces.counts", "my.model", max_vocab_size=40000)``"""
    written, _ = _core._train_from_counts(os.fspath(pieces), os.fspath(output), *_options(options))
    return written


def train_files(files: Union[Path, Sequence[Path]], output: Path, **options) -> List[str]:
    """Trains on ``files`` in this process, as ``bytepiece train`` does, and saves the models;
    returns the paths written. The one-machine peer of the sharded steps.

    Example: ``shards.train_files(["corpus.txt"], "my.model", max_vocab_size=40000, threads=4)``"""
    written, _ = _core._train_files(_paths(files), os.fspath(output), *_options(options))
    return written


def check_train(output: Path, **options) -> None:
    """Checks, before any work, what would make training fail at its end: the options' ranges
    (``TrainError``) and whether ``output`` can be written (``FileError``).

    Example: ``shards.check_train("my.model", max_vocab_size=40000)``"""
    _core._check_train(os.fspath(output), *_options(options))


def info(path: Path) -> Dict:
    """What a count file says about itself, after checking all of it: ``kind`` ("ngrams",
    "pruned_ngrams" or "pieces"), the options it was made with, ``input_bytes``, ``entries``,
    ``checksum`` and ``file_bytes``.

    Example: ``shards.info("all.ngrams")["entries"]``"""
    d = _core._count_file_info(os.fspath(path))
    d["kind"] = _KINDS.get(d["kind"], d["kind"])
    return d
