"""Beyond the reference: batches, the other model formats, load(), the binary format, pickling,
n-best and lattice functions, exceptions with stable ids."""

import pickle

import numpy as np
import pytest

import bytepiece_cpp

TEXTS = ["Hello, world!\n", "", "字节级的 unigram 分词器。", "a" * 1000, "e\u0301 NFC\n\n\nx", "tabs\tand\r\nCRLF"]


def test_encode_batch_equals_encode(tokenizer):
    expected = [tokenizer.encode(t) for t in TEXTS]
    for threads in [None, 0, 1, 2, 3]:
        assert tokenizer.encode_batch(TEXTS, threads=threads) == expected
    assert tokenizer.encode_batch(iter(TEXTS)) == expected  # any iterable
    assert tokenizer.encode_batch(tuple(TEXTS), add_bos=True, add_eos=True) == [[1] + e + [2] for e in expected]
    assert tokenizer.encode_batch([]) == []


def test_encode_batch_numpy(tokenizer):
    ids, offsets = tokenizer.encode_batch(TEXTS, numpy=True, add_bos=True)
    assert ids.dtype == np.uint32 and offsets.dtype == np.int64
    assert len(offsets) == len(TEXTS) + 1 and offsets[0] == 0 and offsets[-1] == len(ids)
    for i, t in enumerate(TEXTS):
        assert ids[offsets[i]:offsets[i + 1]].tolist() == tokenizer.encode(t, add_bos=True)
    empty_ids, empty_offsets = tokenizer.encode_batch([], numpy=True)
    assert len(empty_ids) == 0 and empty_offsets.tolist() == [0]
    # NumPy ids decode like lists.
    assert tokenizer.decode(ids[offsets[0]:offsets[1]]) == TEXTS[0]


def test_encode_batch_rejects_a_single_string(tokenizer):
    with pytest.raises(TypeError):
        tokenizer.encode_batch("not a list")
    with pytest.raises(ValueError):
        tokenizer.encode_batch(["a"], threads=-1)


def test_sampled_batches_depend_on_the_seed_only(tokenizer):
    texts = ["sampling many texts at once, the same draws on any number of threads\n"] * 50
    one = tokenizer.encode_batch(texts, alpha=0.1, seed=5, threads=1)
    two = tokenizer.encode_batch(texts, alpha=0.1, seed=5, threads=2)
    assert one == two
    assert len({tuple(x) for x in one}) > 1
    assert tokenizer.encode_batch(texts, alpha=0.1, seed=6, threads=2) != one
    assert all(tokenizer.decode(ids) == texts[0] for ids in one)


def test_sampler_object(tokenizer):
    s = bytepiece_cpp.Sampler(tokenizer, 0.1, seed=11)
    assert s.alpha == 0.1 and s.tokenizer is tokenizer
    a = [s.sample("a sampler of its own\n") for _ in range(10)]
    s.seed(11)
    assert [s.sample("a sampler of its own\n") for _ in range(10)] == a
    assert all(b"".join(s.sample_pieces("xyz xyz")) == b"xyz xyz" for _ in range(5))
    s.seed(3)
    x = s.sample_batch(["abc abc"] * 10, threads=2)
    s.seed(3)
    assert s.sample_batch(["abc abc"] * 10, threads=1) == x
    assert tokenizer.sampler(0.1, seed=11).sample("a sampler of its own\n") == a[0]
    with pytest.raises(ValueError):
        bytepiece_cpp.Sampler(tokenizer, float("nan"))


def test_nbest_and_lattice_functions(tokenizer):
    text = "tokenization"
    best = tokenizer.nbest(text, 5)
    assert best[0][0] == tokenizer.encode(text)
    assert len(best) == 5
    scores = [s for _, s in best]
    assert scores == sorted(scores, reverse=True)
    for ids, score in best:
        assert tokenizer.decode(ids) == text
        assert score == pytest.approx(tokenizer.score(ids))
    # At alpha 0 every segmentation is equally likely: entropy = log_partition = log(count).
    assert tokenizer.entropy(text, 0.0) == pytest.approx(tokenizer.log_partition(text, 0.0))
    assert tokenizer.entropy(text, 1.0) < tokenizer.entropy(text, 0.0)
    lp = tokenizer.log_probability(text, best[0][0], 1.0)
    assert lp == pytest.approx(tokenizer.score(best[0][0]) - tokenizer.log_partition(text, 1.0))
    counts = tokenizer.expected_counts(text, 1.0)
    assert counts.shape == (tokenizer.vocab_size,)
    assert sum(counts[i] * len(tokenizer.id_to_piece(i)) for i in np.nonzero(counts)[0]) == pytest.approx(len(text))


def test_binary_format_round_trip(tokenizer, tmp_path):
    image = tokenizer.to_binary()
    assert isinstance(image, bytes)
    tok = bytepiece_cpp.Tokenizer.from_binary(image)
    assert tok.encode_batch(TEXTS) == tokenizer.encode_batch(TEXTS)
    path = tmp_path / "m.bpm"
    tokenizer.save_binary(path)
    assert bytepiece_cpp.Tokenizer(str(path)).encode("binary") == tokenizer.encode("binary")
    assert isinstance(bytepiece_cpp.load(path), bytepiece_cpp.Tokenizer)
    with pytest.raises(bytepiece_cpp.ModelError) as e:
        bytepiece_cpp.Tokenizer.from_binary(image[:-1])
    assert e.value.id.startswith("model.")


def test_json_save_is_byte_identical(small_model, tokenizer, tmp_path):
    path = tmp_path / "copy.model"
    tokenizer.save(path)
    with open(small_model, "rb") as f:
        assert path.read_bytes() == f.read()


def test_pickle_round_trip(tokenizer):
    copy = pickle.loads(pickle.dumps(tokenizer))
    assert copy.vocab_size == tokenizer.vocab_size
    assert copy.encode_batch(TEXTS) == tokenizer.encode_batch(TEXTS)
    assert copy.to_binary() == tokenizer.to_binary()


def formats(models_dir):
    sp = models_dir / "bytepiece.eu.plus.40k.sp.model"
    hf = models_dir / "bytepiece.eu.plus.40k.hf.json"
    if not sp.is_file() or not hf.is_file():
        pytest.skip("the .sp.model / .hf.json files are absent")
    return sp, hf


def test_load_picks_the_class_by_content(models_dir, small_model):
    sp, hf = formats(models_dir)
    assert isinstance(bytepiece_cpp.load(small_model), bytepiece_cpp.Tokenizer)
    assert isinstance(bytepiece_cpp.load(str(sp)), bytepiece_cpp.SentencePieceTokenizer)
    assert isinstance(bytepiece_cpp.load(hf), bytepiece_cpp.HFTokenizer)


def test_sentencepiece_model_against_sentencepiece(models_dir):
    spm = pytest.importorskip("sentencepiece")
    sp_path, _ = formats(models_dir)
    mine = bytepiece_cpp.SentencePieceTokenizer(sp_path)
    ref = spm.SentencePieceProcessor(model_file=str(sp_path))
    texts = ["Hello, world!", "字节级的 unigram 分词器。", "  spaces  ", "tabs\tand\nnewlines"]
    assert mine.vocab_size == ref.get_piece_size()
    for t in texts:
        assert mine.encode(t) == ref.encode(t)
        assert mine.tokenize(t) == ref.encode(t, out_type=str)
        assert mine.decode(mine.encode(t)) == ref.decode(ref.encode(t))
    assert mine.encode_batch(texts, threads=2) == [ref.encode(t) for t in texts]
    assert mine.id_to_piece(5) == ref.id_to_piece(5)
    assert mine.piece_to_id("no such piece ever") == ref.piece_to_id("no such piece ever")
    copy = pickle.loads(pickle.dumps(mine))
    assert copy.encode_batch(texts) == mine.encode_batch(texts)
    s = mine.encode_batch(texts, alpha=0.5, seed=1, threads=2)
    assert s == mine.encode_batch(texts, alpha=0.5, seed=1, threads=1)
    assert [mine.decode(x) for x in s] == [mine.decode(mine.encode(t)) for t in texts]


def test_hf_tokenizer(models_dir, tokenizer):
    _, hf_path = formats(models_dir)
    hf = bytepiece_cpp.HFTokenizer(hf_path)
    texts = ["Hello, world!\n", "字节级的 unigram 分词器。"]
    # The exported tokenizer.json gives BytePiece's ids.
    assert [hf.encode(t) for t in texts] == [tokenizer.encode(t) for t in texts]
    assert hf.encode_batch(texts, threads=2) == [hf.encode(t) for t in texts]
    ids, offsets = hf.encode_batch(texts, numpy=True)
    assert ids[offsets[1]:offsets[2]].tolist() == hf.encode(texts[1])
    assert hf.decode(hf.encode(texts[1])) == texts[1]
    assert hf.token_to_id("no such token ever") is None
    copy = pickle.loads(pickle.dumps(hf))
    assert copy.encode_batch(texts) == hf.encode_batch(texts)
    with pytest.raises(KeyError):
        hf.decode([hf.vocab_size])


def test_error_ids_match_the_message():
    with pytest.raises(bytepiece_cpp.Error) as e:
        bytepiece_cpp.load("/nonexistent/dir/model")
    assert e.value.id == "io.1" and "[bytepiece.io.1]" in str(e.value)
    assert isinstance(e.value, OSError)


def test_encode_arguments_are_checked_like_a_python_function(tokenizer):
    with pytest.raises(TypeError):
        tokenizer.encode()
    with pytest.raises(TypeError):
        tokenizer.encode("a", no_such_argument=1)
    with pytest.raises(TypeError):
        tokenizer.encode("a", False, text="b")
    with pytest.raises(TypeError):
        tokenizer.encode("a", False, False, -1, False, "extra")
    # Truthiness, as the reference's `if add_bos:`.
    assert tokenizer.encode("a", add_bos=1, add_eos=[0]) == [1] + tokenizer.encode("a") + [2]
    assert tokenizer.encode("a", alpha=-1) == tokenizer.encode("a", alpha=-1.0)


def test_library_errors_keep_their_stable_id(tokenizer):
    with pytest.raises(bytepiece_cpp.ArgumentError) as e:
        tokenizer.encode("a", alpha=float("nan"))
    assert isinstance(e.value, ValueError)
    assert e.value.id == "argument.1" and e.value.code == 401
    assert str(e.value).startswith("[bytepiece.argument.1]")
    with pytest.raises(bytepiece_cpp.ArgumentError):
        tokenizer.encode_batch(["a"], alpha=float("inf"))


def test_numpy_ids_decode_and_score_like_lists(tokenizer):
    ids = tokenizer.encode("NumPy arrays of ids, 数组。")
    for dtype in [np.uint32, np.int64, np.int32, np.uint16]:
        a = np.array([0] + ids + [2], dtype=dtype)
        assert tokenizer.decode(a) == tokenizer.decode(ids)
        assert tokenizer.score(a) == tokenizer.score(ids)
    assert tokenizer.decode(np.array([-1, 1] + ids, dtype=np.int64)) == tokenizer.decode(ids)
    with pytest.raises(KeyError) as e:
        tokenizer.decode(np.array(ids + [tokenizer.vocab_size], dtype=np.int64))
    assert e.value.args == (tokenizer.vocab_size,)
    assert tokenizer.decode_batch([np.array(ids, dtype=np.uint32), ids]) == [tokenizer.decode(ids)] * 2
