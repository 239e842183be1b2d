"""Trainer(memory_limit=..., temp_dir=...) and the same options of bytepiece_cpp.shards: a bounded
training spills its count tables to runs and saves the file the unbounded one saves (and the
reference's golden); the limit is read as `bytepiece train --memory` reads it."""

import pytest

import bytepiece_cpp
from bytepiece_cpp import shards


@pytest.fixture(scope="module")
def small(small_corpus):
    return small_corpus


def test_bounded_training_saves_the_same_file(small, shared_dir, tmp_path):
    text = small.read_text(encoding="utf-8")
    free = bytepiece_cpp.Trainer(max_vocab_size=1000, min_count=2)
    free.train([text])
    free.save(str(tmp_path / "free.model"))
    # 64 KiB: both passes spill many runs on this corpus.
    bounded = bytepiece_cpp.Trainer(max_vocab_size=1000, min_count=2, memory_limit=1 << 16, temp_dir=str(tmp_path))
    bounded.train([text], workers=2)
    bounded.save(str(tmp_path / "bounded.model"))
    expected = (tmp_path / "free.model").read_bytes()
    assert (tmp_path / "bounded.model").read_bytes() == expected
    golden = shared_dir / "golden" / "train" / "small.v1000.mc2.id0.eu1.model"
    if golden.is_file():
        assert expected == golden.read_bytes()
    # The private folder of runs is gone: only the two models are left in temp_dir.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bounded.model", "free.model"]


def test_the_limit_reaches_the_trainer(small, tmp_path):
    # A temp_dir that does not exist fails only if the training spills there, so the error says
    # that both options were used.
    t = bytepiece_cpp.Trainer(max_vocab_size=1000, memory_limit=1 << 16, temp_dir=str(tmp_path / "missing"))
    with pytest.raises(bytepiece_cpp.FileError, match="missing"):
        t.train_files([str(small)])
    with pytest.raises(bytepiece_cpp.FileError, match="missing"):
        shards.train_files([str(small)], str(tmp_path / "x.model"), max_vocab_size=1000, memory_limit="1M",
                           temp_dir=str(tmp_path / "missing"))
    assert not (tmp_path / "x.model").exists()
    # Without a limit the folder is never used.
    t.memory_limit = None
    t.train_files([str(small)])


def test_limits_are_read_as_the_cli_reads_them():
    t = bytepiece_cpp.Trainer()
    assert t.memory_limit == 0 and t.temp_dir is None
    for text, value in [("256M", 256 << 20), ("2g", 2 << 30), ("1536k", 1536 << 10), ("1GB", 1 << 30), ("1048576", 1 << 20)]:
        t.memory_limit = text
        assert t.memory_limit == value
    t.memory_limit = 12345
    assert t.memory_limit == 12345
    assert "memory_limit=12345" in repr(t)
    t.temp_dir = "/some/where"
    assert t.temp_dir == "/some/where" and "temp_dir='/some/where'" in repr(t)
    for bad in ["0", "-5M", "M", "12X", "1.5G", "1000", "512K", "1GiB"]:
        with pytest.raises(bytepiece_cpp.TrainError, match="memory_limit"):
            bytepiece_cpp.Trainer(memory_limit=bad)
    for bad in [1.5, True, b"1M"]:
        with pytest.raises(TypeError):
            bytepiece_cpp.Trainer(memory_limit=bad)
    with pytest.raises(TypeError):
        bytepiece_cpp.Trainer(temp_dir=3)
    with pytest.raises(TypeError, match="unknown option"):
        shards.check_train("x.model", memory="1M")


def test_train_from_counts_in_blocks(small, tmp_path):
    opts = dict(max_vocab_size=[2000, 300], min_count=2)
    shards.count_ngrams([str(small)], str(tmp_path / "a.ngrams"), **opts)
    shards.prune_ngrams(str(tmp_path / "a.ngrams"), str(tmp_path / "a.pruned"), **opts)
    shards.count_pieces(str(tmp_path / "a.pruned"), [str(small)], str(tmp_path / "a.pieces"), **opts)
    whole = shards.train_files([str(small)], str(tmp_path / "whole.model"), **opts)
    # 1M: the rare pieces are split in blocks of 128 KiB; the default block holds them all.
    for limit in [None, "1M"]:
        got = shards.train_from_counts(str(tmp_path / "a.pieces"), str(tmp_path / "c.model"), memory_limit=limit, **opts)
        for a, b in zip(whole, got):
            assert open(a, "rb").read() == open(b, "rb").read()
