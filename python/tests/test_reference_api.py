"""The reference's Tokenizer API member by member (bytepiece 0.6.3, spec/bytepiece-python-api.md):
signatures and defaults, result types, exception types."""

import inspect
import itertools
import types

import pytest

import bytepiece_cpp


def params(func):
    """(name, default) of each parameter after self, from the signature pybind11 documents."""
    sig = inspect.signature(func)
    out = []
    for p in sig.parameters.values():
        if p.name == "self":
            continue
        out.append((p.name, None if p.default is inspect.Parameter.empty else p.default))
    return out


def test_signatures_and_defaults():
    T = bytepiece_cpp.Tokenizer
    assert params(T.__init__) == [("pieces", None), ("seed", None)]
    assert params(T.tokenize) == [("text", None), ("alpha", -1), ("iter", False)]
    assert params(T.encode) == [("text", None), ("add_bos", False), ("add_eos", False), ("alpha", -1), ("iter", False)]
    assert params(T.decode) == [("ids", None)]
    assert params(T.piece_to_id) == [("p", None)]
    assert params(T.id_to_piece) == [("i", None)]
    assert params(T.pieces_to_ids) == [("pieces", None)]
    assert params(T.ids_to_pieces) == [("ids", None)]
    assert params(T.set_seed) == [("seed", None)]
    assert params(T.convert_to_sentencepiece) == [("path", None)]


def test_signatures_of_the_class_and_of_bound_methods(tokenizer):
    # As the reference's Python functions show them.
    assert str(inspect.signature(bytepiece_cpp.Tokenizer)) == "(pieces, seed=None)"
    assert str(inspect.signature(tokenizer.tokenize)) == "(text, alpha=-1, iter=False)"
    assert str(inspect.signature(tokenizer.encode)) == "(text, add_bos=False, add_eos=False, alpha=-1, iter=False)"
    assert str(inspect.signature(tokenizer.decode)) == "(ids)"
    assert str(inspect.signature(tokenizer.set_seed)) == "(seed)"
    assert str(inspect.signature(tokenizer.convert_to_sentencepiece)) == "(path)"


def test_keyword_arguments_as_the_reference_names_them(tokenizer):
    assert tokenizer.encode(text="ab\n", add_bos=True, add_eos=True, alpha=-1, iter=False)[0] == 1
    assert tokenizer.tokenize(text="ab", alpha=-1, iter=False)
    assert tokenizer.piece_to_id(p=b"a") == tokenizer.pieces_to_ids(pieces=[b"a"])[0]
    assert tokenizer.id_to_piece(i=0) == "<pad>"
    assert tokenizer.decode(ids=[]) == ""


def test_vocab_size_is_pieces_plus_three(small_model, tokenizer):
    import json

    with open(small_model, encoding="utf-8") as f:
        model = json.load(f)
    assert tokenizer.vocab_size == len(model) + 3
    assert isinstance(tokenizer.vocab_size, int)


def test_model_dict_gives_the_same_tokenizer(small_model, tokenizer):
    import json

    with open(small_model, encoding="utf-8") as f:
        model = json.load(f)
    tok = bytepiece_cpp.Tokenizer(model, seed=3)
    text = "Dictionaries work too, 字典也行。\n"
    assert tok.encode(text) == tokenizer.encode(text)


def test_result_types(tokenizer):
    pieces = tokenizer.tokenize("Hello 世界")
    assert type(pieces) is list and pieces and all(type(p) is bytes for p in pieces)
    ids = tokenizer.encode("Hello 世界", add_bos=True, add_eos=True)
    assert type(ids) is list and all(type(i) is int for i in ids)
    assert ids[0] == 1 and ids[-1] == 2
    assert type(tokenizer.decode(ids)) is str
    assert tokenizer.decode(ids) == "Hello 世界"
    assert [tokenizer.id_to_piece(i) for i in range(3)] == ["<pad>", "<bos>", "<eos>"]
    assert [tokenizer.piece_to_id(p) for p in ["<pad>", "<bos>", "<eos>"]] == [0, 1, 2]
    assert tokenizer.ids_to_pieces(ids) == ["<bos>"] + pieces + ["<eos>"]
    assert tokenizer.pieces_to_ids(["<bos>"] + pieces + ["<eos>"]) == ids


def test_iter_returns_lazy_objects(tokenizer):
    it = tokenizer.tokenize("abc def", iter=True)
    assert isinstance(it, itertools.chain)
    gen = tokenizer.encode("abc def", add_bos=True, iter=True)
    assert isinstance(gen, types.GeneratorType)
    assert next(gen) == 1
    assert [1] + list(gen) == tokenizer.encode("abc def", add_bos=True)


def test_unknown_ids_and_pieces_raise_key_error(tokenizer):
    v = tokenizer.vocab_size
    for bad in [v, v + 1, -1, 10**30]:
        with pytest.raises(KeyError):
            tokenizer.id_to_piece(bad)
    for bad in [b"\xff\xfe no such piece", "<unk>", "a", b"<pad>"]:
        with pytest.raises(KeyError) as e:
            tokenizer.piece_to_id(bad)
        assert e.value.args == (bad,)  # the reference's KeyError(key)
    with pytest.raises(KeyError):
        tokenizer.decode([5, v])
    with pytest.raises(KeyError):
        tokenizer.ids_to_pieces([3, v])
    with pytest.raises(KeyError):
        tokenizer.pieces_to_ids([b"\xff\xfe no such piece"])
    # The library's error class, with its stable id, and still a KeyError.
    with pytest.raises(bytepiece_cpp.DecodeError) as e:
        tokenizer.id_to_piece(v)
    assert e.value.id == "decode.1"


def test_decode_skips_ids_up_to_two_even_negative_ones(tokenizer):
    ids = tokenizer.encode("abc")
    assert tokenizer.decode([0, 1, 2, -5, -(10**30)] + ids + [2, 0]) == "abc"


def test_decode_drops_invalid_utf8_like_errors_ignore(tokenizer):
    first = tokenizer.piece_to_id(b"\xe4")  # a lone lead byte
    ids = tokenizer.encode("a") + [first] + tokenizer.encode("b")
    assert tokenizer.decode(ids) == "ab"


def test_bytes_text_raises_type_error(tokenizer):
    with pytest.raises(TypeError):
        tokenizer.tokenize(b"abc")
    with pytest.raises(TypeError):
        tokenizer.encode(b"abc")
    with pytest.raises(TypeError):
        tokenizer.encode_batch([b"abc"])


def test_lone_surrogate_raises_unicode_encode_error(tokenizer):
    with pytest.raises(UnicodeEncodeError):
        tokenizer.encode("a\ud800b")


def test_missing_model_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        bytepiece_cpp.Tokenizer(str(tmp_path / "absent.model"))
    assert isinstance(e.value, bytepiece_cpp.Error)
    assert e.value.id == "io.1" and e.value.code == 201
    assert "[bytepiece.io.1]" in str(e.value)


def test_malformed_model_raises_value_error_with_stable_id(tmp_path):
    p = tmp_path / "bad.model"
    p.write_text('{"QQ==": [3, "A", 0]}')
    with pytest.raises(ValueError) as e:
        bytepiece_cpp.Tokenizer(str(p))
    assert isinstance(e.value, bytepiece_cpp.ModelError)
    assert e.value.id.startswith("model.")
    assert f"[bytepiece.{e.value.id}]" in str(e.value)


def test_set_seed_makes_sampling_reproducible(tokenizer):
    text = "Sampling draws another segmentation each time.\n"
    tokenizer.set_seed(7)
    a = [tokenizer.encode(text, alpha=0.1) for _ in range(5)]
    tokenizer.set_seed(7)
    b = [tokenizer.encode(text, alpha=0.1) for _ in range(5)]
    assert a == b
    assert len({tuple(x) for x in a}) > 1  # they are random draws
    for ids in a:
        assert tokenizer.decode(ids) == text
    tokenizer.set_seed(None)  # the reference ignores None
    # Tokenizer(seed=) reseeds the same process-wide generator, as the reference's srand.
    bytepiece_cpp.Tokenizer.set_seed(tokenizer, 7)
    assert [tokenizer.encode(text, alpha=0.1) for _ in range(5)] == a


def test_tokenize_with_alpha_spells_the_text(tokenizer):
    text = "stochastic tokenization 随机分词"
    for _ in range(20):
        assert b"".join(tokenizer.tokenize(text, alpha=0.2)) == text.encode()


def test_negative_alpha_is_deterministic(tokenizer):
    assert tokenizer.encode("abc abc", alpha=-0.5) == tokenizer.encode("abc abc")
