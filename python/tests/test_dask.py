"""bytepiece_cpp.dask.train on a LocalCluster of two worker processes writes the file one-machine
training writes (and the reference's golden), whatever the parts; errors reach the client."""

import os

import pytest

distributed = pytest.importorskip("distributed")

import bytepiece_cpp  # noqa: E402
import bytepiece_cpp.dask  # noqa: E402
from bytepiece_cpp import shards  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=40)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_two_workers_equal_golden(client, shared_dir, tmp_path):
    out = str(tmp_path / "small.model")
    # memory_limit reaches the client's last step: the rare pieces are split in blocks of 128 KiB.
    written = bytepiece_cpp.dask.train(client, [str(shared_dir / "corpus" / "small.txt")], out, part_bytes=30_000,
                                       max_vocab_size=4000, min_count=2, isolate_digits=False, ensure_unicode=True,
                                       memory_limit="1M")
    assert written == [out]
    golden = shared_dir / "golden" / "train" / "small.v4000.mc2.id0.eu1.model"
    assert open(out, "rb").read() == golden.read_bytes()
    # The work folder beside the output is gone.
    assert sorted(os.listdir(tmp_path)) == ["small.model"]


def test_two_workers_equal_one_machine(client, shared_dir, tmp_path):
    data = (shared_dir / "corpus" / "mixed.txt").read_bytes()[:600_000]
    data = data[:data.rindex(b"\n") + 1]
    head = tmp_path / "head.txt"
    head.write_bytes(data)
    files = [str(head), str(shared_dir / "corpus" / "small.txt")]
    opts = dict(order=6, max_vocab_size=[2000, 1000], min_count=2, isolate_digits=True)
    whole = shards.train_files(files, str(tmp_path / "whole.model"), **opts)
    messages = []
    work = tmp_path / "work"
    work.mkdir()
    got = bytepiece_cpp.dask.train(client, files, str(tmp_path / "dask.model"), part_bytes=70_000, fan_in=3,
                                   work_dir=str(work), keep_work_dir=True, progress=messages.append, **opts)
    assert len(got) == 2
    for a, b in zip(whole, got):
        assert open(a, "rb").read() == open(b, "rb").read()
    assert any("pass 1" in m for m in messages) and any("saved" in m for m in messages)
    # Nine parts of head.txt and three of small.txt were counted in each pass, then merged.
    # The count files went to a private folder inside work_dir, kept as asked.
    (private,) = os.listdir(work)
    assert private.startswith(".bytepiece-dask-") and any(private in m for m in messages)
    names = os.listdir(work / private)
    assert sum(n.startswith("ngrams.0.") for n in names) == 9
    assert sum(n.startswith("pieces.1.") for n in names) == 3
    assert any(".merge2." in n for n in names)


def test_errors_reach_the_client(client, shared_dir, tmp_path):
    small = str(shared_dir / "corpus" / "small.txt")
    with pytest.raises(bytepiece_cpp.TrainError, match="order"):
        bytepiece_cpp.dask.train(client, [small], str(tmp_path / "a.model"), order=0)
    with pytest.raises(bytepiece_cpp.TrainError, match="memory_limit '12X'"):
        bytepiece_cpp.dask.train(client, [small], str(tmp_path / "a.model"), memory_limit="12X")
    with pytest.raises(FileNotFoundError):
        bytepiece_cpp.dask.train(client, [str(tmp_path / "missing.txt")], str(tmp_path / "b.model"))
    with pytest.raises(TypeError, match="max_vocab"):
        bytepiece_cpp.dask.train(client, [small], str(tmp_path / "c.model"), max_vocab="1000")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(bytepiece_cpp.TrainError, match="no text"):
        bytepiece_cpp.dask.train(client, [str(empty)], str(tmp_path / "d.model"))
    assert not (tmp_path / "d.model").exists()


def test_worker_errors_keep_their_type(client, tmp_path):
    # A task that fails on a worker raises the library's exception, with its id, in the client.
    future = client.submit(bytepiece_cpp.dask._count_ngrams_task, str(tmp_path / "gone.txt"), 0, 1,
                           str(tmp_path / "x.counts"), {})
    with pytest.raises(bytepiece_cpp.FileError, match="gone.txt") as e:
        future.result()
    assert e.value.id.startswith("io.")


def test_pipes_are_refused(client, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        bytepiece_cpp.dask.train(client, [str(fifo)], str(tmp_path / "f.model"))
