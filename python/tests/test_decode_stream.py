"""DecodeStream: the text given out one id at a time, plus flush, equals decoding the whole
sequence, for random ids (including single bytes that split characters) of every format."""

import random

import pytest

import bytepiece_cpp
from conftest import model_path


def stream_text(stream, ids):
    parts = [stream.put(i) for i in ids]
    parts.append(stream.flush())
    return parts


def check(tok, decode, first_id, seeds=20):
    stream = bytepiece_cpp.DecodeStream(tok)
    for seed in range(seeds):
        rng = random.Random(seed)
        ids = [rng.randrange(first_id, tok.vocab_size) for _ in range(rng.randrange(0, 40))]
        parts = stream_text(stream, ids)
        assert "".join(parts) == decode(ids)
        assert all("\ufffd" not in p for p in parts[:-1]) or "\ufffd" in decode(ids)


def test_bytepiece(shared_dir):
    tok = bytepiece_cpp.Tokenizer(str(model_path(shared_dir, "bytepiece.zh.id.eu.40k")))
    check(tok, tok.decode, 3)
    # a character split over single-byte pieces comes out whole, once
    ids = tok.pieces_to_ids([bytes([b]) for b in "天气".encode()])
    stream = bytepiece_cpp.DecodeStream(tok)
    assert [stream.put(i) for i in ids] == ["", "", "天", "", "", "气"]
    assert stream.flush() == ""
    assert stream.put_many(tok.encode("你好")) + stream.flush() == "你好"


def test_special_tokens(shared_dir):
    tok = bytepiece_cpp.Tokenizer(str(model_path(shared_dir, "bytepiece.eu.plus.40k")))
    tok.special_tokens = ["<|endoftext|>"]
    ids = tok.encode_with_specials("Hello<|endoftext|>world", allowed_special="all")
    assert "".join(stream_text(bytepiece_cpp.DecodeStream(tok), ids)) == "Hello<|endoftext|>world"
    skip = bytepiece_cpp.DecodeStream(tok, skip_special_tokens=True)
    assert "".join(stream_text(skip, ids)) == "Helloworld"


@pytest.mark.parametrize("kind", ["sp", "hf"])
def test_other_formats(shared_dir, kind):
    name = "bytepiece.zh.id.eu.40k." + ("sp.model" if kind == "sp" else "hf.json")
    p = shared_dir / "models" / name
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    tok = bytepiece_cpp.load(str(p))
    check(tok, tok.decode, 0, seeds=10)
    if kind == "hf":
        with pytest.raises(ValueError):
            bytepiece_cpp.DecodeStream(tok, skip_special_tokens=False)
