"""bytepiece_cpp.shards: the steps of sharded training from Python give the model of one-machine
training on the whole corpus, byte for byte (and the reference's, where a golden exists), and
refuse count files of other options."""

import os

import pytest

import bytepiece_cpp
from bytepiece_cpp import shards


def corpus_head(shared_dir, tmp_path, size):
    """About `size` bytes of mixed.txt, ending after a run of newlines."""
    data = (shared_dir / "corpus" / "mixed.txt").read_bytes()
    end = data.index(b"\n", size)
    while data[end:end + 1] == b"\n":
        end += 1
    path = tmp_path / "head.txt"
    path.write_bytes(data[:end])
    return str(path)


def sharded(tmp_path, files, parts, output, **opts):
    ngrams = []
    for f in files:
        for k in range(parts):
            ngrams.append(shards.count_ngrams([f], str(tmp_path / f"n{len(ngrams)}.counts"), part=(k, parts), **opts))
    shards.merge(list(reversed(ngrams)), str(tmp_path / "n.counts"))
    shards.prune_ngrams(str(tmp_path / "n.counts"), str(tmp_path / "m.pruned"), **opts)
    pieces = []
    for f in files:
        for k in range(parts):
            pieces.append(shards.count_pieces(str(tmp_path / "m.pruned"), [f], str(tmp_path / f"p{len(pieces)}.counts"),
                                              part=(k, parts), **opts))
    shards.merge(pieces, str(tmp_path / "p.counts"))
    return shards.train_from_counts(str(tmp_path / "p.counts"), output, **opts)


def test_sharded_equals_golden(shared_dir, tmp_path):
    golden = shared_dir / "golden" / "train" / "small.v1000.mc2.id1.eu1.model"
    out = str(tmp_path / "out.model")
    written = sharded(tmp_path, [str(shared_dir / "corpus" / "small.txt")], 3, out, max_vocab_size=1000, min_count=2,
                      isolate_digits=True, ensure_unicode=True)
    assert written == [out]
    assert open(out, "rb").read() == golden.read_bytes()


def test_sharded_equals_one_machine(shared_dir, tmp_path):
    head = corpus_head(shared_dir, tmp_path, 400_000)
    small = str(shared_dir / "corpus" / "small.txt")
    opts = dict(order=7, max_vocab_size=[3000, 1500], min_count=3, threads=2)
    whole = shards.train_files([head, small], str(tmp_path / "whole.model"), **opts)
    assert whole == [str(tmp_path / "whole.model.3000"), str(tmp_path / "whole.model.1500")]
    parts = sharded(tmp_path, [head, small], 4, str(tmp_path / "parts.model"), **opts)
    for a, b in zip(whole, parts):
        assert open(a, "rb").read() == open(b, "rb").read()
    info = shards.info(str(tmp_path / "p.counts"))
    assert info["kind"] == "pieces" and info["order"] == 7 and info["min_count"] == 3
    assert info["input_bytes"] == os.path.getsize(head) + os.path.getsize(small)


def test_refusals(shared_dir, tmp_path):
    small = str(shared_dir / "corpus" / "small.txt")
    a = shards.count_ngrams([small], str(tmp_path / "a.counts"), part=(0, 2), order=6)
    b = shards.count_ngrams([small], str(tmp_path / "b.counts"), part=(1, 2), order=5)
    with pytest.raises(bytepiece_cpp.TrainError, match="b.counts"):
        shards.merge([a, b], str(tmp_path / "ab.counts"))
    with pytest.raises(bytepiece_cpp.TrainError):
        shards.train_from_counts(a, str(tmp_path / "x.model"))  # n-grams are not piece counts
    damaged = bytearray(open(a, "rb").read())
    damaged[len(damaged) // 2] ^= 0x40
    (tmp_path / "d.counts").write_bytes(bytes(damaged))
    with pytest.raises(bytepiece_cpp.TrainError, match="d.counts"):
        shards.info(str(tmp_path / "d.counts"))
    with pytest.raises(TypeError, match="ordre"):
        shards.count_ngrams([small], str(tmp_path / "c.counts"), ordre=6)
    with pytest.raises(bytepiece_cpp.TrainError, match="order"):
        shards.check_train(str(tmp_path / "y.model"), order=0)
    with pytest.raises(bytepiece_cpp.Error):
        shards.merge([a], a)  # the output is an input
