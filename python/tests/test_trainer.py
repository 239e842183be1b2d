"""bytepiece_cpp.Trainer against the reference's trained files (golden/train), with every kind of
iterable the reference accepts, and its errors."""

import base64
import json
import math
import os
import pathlib

import pytest

import bytepiece_cpp

GOLDEN_RUNS = [(v, i, e) for v in (4000, 1000) for i in (False, True) for e in (False, True)]


def golden_name(v, isolate_digits, ensure_unicode):
    return f"small.v{v}.mc2.id{int(isolate_digits)}.eu{int(ensure_unicode)}.model"


@pytest.fixture(scope="module")
def small_text(small_corpus):
    return small_corpus.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def train_dir(shared_dir):
    d = shared_dir / "golden" / "train"
    if not d.is_dir():
        pytest.skip(f"{d} is absent")
    return d


def counts_of(model_path):
    """piece bytes -> count of a reference model file."""
    with open(model_path, encoding="utf-8") as f:
        return {base64.b64decode(k): v[2] for k, v in json.load(f).items()}


@pytest.mark.parametrize("v,isolate_digits,ensure_unicode", GOLDEN_RUNS)
def test_saved_file_is_the_references(tmp_path, small_text, train_dir, v, isolate_digits, ensure_unicode):
    # The goldens: Trainer(order=6, max_vocab_size=[V], max_piece_length=36, min_count=2, ...)
    # .train([whole small.txt as one str], workers=1).save(path).
    t = bytepiece_cpp.Trainer(order=6, max_vocab_size=[v], max_piece_length=36, min_count=2,
                              isolate_digits=isolate_digits, ensure_unicode=ensure_unicode)
    assert t.train([small_text]) is None
    out = tmp_path / "m.model"
    assert t.save(str(out)) is None
    golden = train_dir / golden_name(v, isolate_digits, ensure_unicode)
    assert out.read_bytes() == golden.read_bytes()
    assert os.listdir(tmp_path) == ["m.model"]
    assert t.pieces == [counts_of(golden)]


def test_workers_do_not_change_the_model(tmp_path, small_text, train_dir):
    golden = (train_dir / golden_name(1000, False, True)).read_bytes()
    for workers in (2, 3):
        t = bytepiece_cpp.Trainer(max_vocab_size=1000)
        t.train([small_text], workers=workers, batch_size=1)
        t.save(tmp_path / f"w{workers}.model")  # os.PathLike works as the reference's open() does
        assert (tmp_path / f"w{workers}.model").read_bytes() == golden


def test_several_sizes_write_path_dot_size(tmp_path, small_text, train_dir):
    t = bytepiece_cpp.Trainer(max_vocab_size=[1000, 4000])
    assert t.max_vocab_size == [4000, 1000]  # sorted, largest first, as the reference stores it
    t.train([small_text])
    base = tmp_path / "m.model"
    t.save(str(base))
    assert sorted(os.listdir(tmp_path)) == ["m.model.1000", "m.model.4000"]
    for v in (4000, 1000):
        assert (tmp_path / f"m.model.{v}").read_bytes() == (train_dir / golden_name(v, False, True)).read_bytes()
    assert [len(p) + 3 for p in t.pieces] == [2568, 997]
    assert all(isinstance(k, bytes) and isinstance(c, int) for p in t.pieces for k, c in p.items())
    assert [o["requested"] for o in t.outcomes] == [4000, 1000]
    assert t.outcomes[0]["reason"] == "few_pieces" and t.outcomes[0]["produced"] == 2568


def lines_of(text):
    return text.splitlines(keepends=True)


class Reiterable:
    """A corpus that is not a list: each __iter__ starts over, as reading a file again would."""

    def __init__(self, lines):
        self.lines = lines
        self.iterations = 0

    def __iter__(self):
        self.iterations += 1
        for line in self.lines:
            yield line


def test_iterable_kinds_give_the_same_model(small_text):
    lines = lines_of(small_text)
    results = []
    custom = Reiterable(lines)
    for texts in (lines, tuple(lines), custom, {i: s for i, s in enumerate(lines)}.values()):
        t = bytepiece_cpp.Trainer(max_vocab_size=1000)
        t.train(texts, batch_size=7)
        results.append(t.pieces)
    assert custom.iterations == 2
    assert all(r == results[0] for r in results)
    # Lines are other texts than the whole file (a chunk never spans two texts), so the model
    # differs from the one-text golden; that it is a real model is checked by its size.
    assert 900 < len(results[0][0]) + 3 <= 1000


def test_one_shot_iterators_are_refused(small_text, tmp_path):
    t = bytepiece_cpp.Trainer(max_vocab_size=1000)
    with pytest.raises(TypeError, match="one-shot"):
        t.train(s for s in lines_of(small_text))
    with pytest.raises(TypeError, match="one-shot"):
        t.train(iter(lines_of(small_text)))
    p = tmp_path / "c.txt"
    p.write_text(small_text, encoding="utf-8")
    with open(p, encoding="utf-8") as f, pytest.raises(TypeError, match="one-shot"):
        t.train(f)
    with pytest.raises(TypeError):
        t.train(small_text)  # a str would be trained on character by character
    # train_files reads a file twice itself: the same model as the whole text.
    t.train_files([str(p)])
    t2 = bytepiece_cpp.Trainer(max_vocab_size=1000)
    t2.train([small_text])
    assert t.pieces == t2.pieces


class Changing:
    def __init__(self, first, second):
        self.passes = [first, second]
        self.n = 0

    def __iter__(self):
        self.n += 1
        return iter(self.passes[min(self.n, 2) - 1])


class Failing:
    def __iter__(self):
        yield "some text\n"
        raise RuntimeError("the corpus broke")


def test_errors_of_train():
    t = bytepiece_cpp.Trainer(max_vocab_size=300, min_count=1)
    with pytest.raises(TypeError, match="text 1"):
        t.train(["abc\n", b"def\n"])  # the reference's normalize refuses bytes with TypeError
    with pytest.raises(UnicodeEncodeError):
        t.train(["abc\ud800\n"])
    with pytest.raises(ValueError) as e:
        t.train(Changing(["ab\n", "cd\n"], ["ab\n", "ce\n"]))
    assert isinstance(e.value, bytepiece_cpp.Error) and e.value.id == "argument.1"
    with pytest.raises(RuntimeError, match="the corpus broke"):
        t.train(Failing(), workers=2)
    for empty in ([], ["", ""]):
        with pytest.raises(ValueError) as e:
            t.train(empty)
        assert e.value.id == "train.1"
    with pytest.raises(ValueError):
        t.train(["x\n"], batch_size=0)
    # Nothing was trained by any of these.
    with pytest.raises(AttributeError):
        t.pieces
    with pytest.raises(AttributeError):
        t.save("never.model")


def test_options_and_their_errors():
    t = bytepiece_cpp.Trainer()
    assert (t.order, t.max_vocab_size, t.max_piece_length, t.min_count, t.isolate_digits, t.ensure_unicode) == \
        (6, [10000], 36, 2, False, True)
    assert "max_vocab_size=[10000]" in repr(t)
    for bad in (dict(order=0), dict(order=33), dict(max_vocab_size=258), dict(max_vocab_size=[1000, 1000]),
                dict(max_vocab_size=[]), dict(max_piece_length=0), dict(min_count=-1), dict(order=-2)):
        with pytest.raises(ValueError) as e:
            bytepiece_cpp.Trainer(**bad)
        assert isinstance(e.value, bytepiece_cpp.TrainError) and e.value.id == "train.2", bad
    for bad in (dict(order=6.0), dict(min_count="2"), dict(max_vocab_size=[1000.0])):
        with pytest.raises(TypeError):
            bytepiece_cpp.Trainer(**bad)
    # Attributes can be changed before training, as convert_to_bytepiece does to the reference's.
    t = bytepiece_cpp.Trainer()
    t.max_vocab_size = 500
    t.max_piece_length = math.inf
    t.min_count = 1
    assert t.max_vocab_size == [500] and t.max_piece_length == math.inf
    t.order = 0
    with pytest.raises(ValueError):
        t.train(["abc\n"])


def test_a_bad_output_path_fails_without_a_file(tmp_path, small_text):
    t = bytepiece_cpp.Trainer(max_vocab_size=[1000, 400])
    t.train([small_text])
    (tmp_path / "m.model.400").mkdir()
    with pytest.raises(OSError):
        t.save(str(tmp_path / "m.model"))
    assert sorted(os.listdir(tmp_path)) == ["m.model.400"]


def test_progress_goes_to_stderr_when_asked(capfd):
    t = bytepiece_cpp.Trainer(max_vocab_size=300, min_count=1)
    t.train(["the cat sat on the mat\n"] * 20, progress=True)
    err = capfd.readouterr().err
    assert "Count Ngrams" in err and "Count Pieces" in err and "Prune Pieces" in err
    t.train(["the cat sat on the mat\n"] * 20)  # not a terminal: nothing
    assert capfd.readouterr().err == ""


def test_dump_and_prune_pieces(small_text, train_dir):
    t = bytepiece_cpp.Trainer(max_vocab_size=1000)
    t.train([small_text])
    with open(train_dir / golden_name(1000, False, True), encoding="utf-8") as f:
        assert t.dump(t.pieces[0]) == json.load(f)
    # prune_pieces alone, with convert_to_bytepiece's options: "abc" is split into "ab" + "c".
    p = bytepiece_cpp.Trainer(max_vocab_size=[262], max_piece_length=math.inf, min_count=1)
    got = p.prune_pieces({b"abc": 1, b"ab": 100, b"c": 100})
    assert len(got) == 1 and got[0][b"ab"] == 101 and got[0][b"c"] == 101 and b"abc" not in got[0]
    assert len(got[0]) == 257
    with pytest.raises(AttributeError):
        p.pieces  # prune_pieces does not train the trainer


def test_training_releases_the_gil(small_text):
    # While a thread trains, this thread keeps running Python code. Were the GIL held for the
    # whole of train(), the longest pause between two of its steps would be the whole training.
    import threading
    import time

    t = bytepiece_cpp.Trainer(max_vocab_size=1000)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (t.train([small_text] * 4, workers=2), done.set()))
    start = last = time.perf_counter()
    longest = 0.0
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    worker.join()
    total = time.perf_counter() - start
    assert longest < total / 2, (longest, total)
    assert len(t.pieces[0]) > 0


def test_signatures_are_the_references():
    import inspect

    # The reference's parameters, in its order; memory_limit and temp_dir are ours, after them.
    assert str(inspect.signature(bytepiece_cpp.Trainer)) == \
        "(order=6, max_vocab_size=10000, max_piece_length=36, min_count=2, isolate_digits=False, ensure_unicode=True, " \
        "memory_limit=None, temp_dir=None)"
    t = bytepiece_cpp.Trainer()
    # progress is ours, after the reference's parameters.
    assert str(inspect.signature(t.train)) == "(texts, workers=1, batch_size=1000, progress=None)"
    assert str(inspect.signature(t.save)) == "(path)"
    assert str(inspect.signature(t.dump)) == "(pieces)"
    assert str(inspect.signature(t.prune_pieces)) == "(pieces, workers=1, batch_size=1000)"
