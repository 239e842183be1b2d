"""Special tokens on Tokenizer: matched only where the call allows them (tiktoken's
allowed_special), never produced from text otherwise, kept by the binary format."""

import pytest

import bytepiece_cpp
from conftest import model_path

EOT, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"


@pytest.fixture()
def tok(shared_dir):
    t = bytepiece_cpp.Tokenizer(str(model_path(shared_dir, "bytepiece.eu.plus.40k")))
    t.special_tokens = [EOT, IM_START, IM_END]
    return t


def test_ids_after_vocabulary(tok):
    v = tok.vocab_size
    assert tok.special_tokens == {EOT: v, IM_START: v + 1, IM_END: v + 2}
    tok.special_tokens = {"<s>": 1, "</s>": 2}
    assert tok.special_tokens == {"<s>": 1, "</s>": 2}
    tok.special_tokens = []
    assert tok.special_tokens == {}


def test_matched_only_when_allowed(tok):
    v = tok.vocab_size
    text = f"{IM_START}user\nHello{IM_END}{EOT}"
    plain = tok.encode(text)
    # not allowed: ordinary text, exactly what encode gives, no special id
    assert tok.encode_with_specials(text) == plain
    assert all(i < v for i in plain)
    ids = tok.encode_with_specials(text, allowed_special="all")
    assert ids == [v + 1] + tok.encode("user\nHello") + [v + 2, v]
    # only some allowed: the others are text
    some = tok.encode_with_specials(text, allowed_special={EOT})
    assert some == tok.encode(f"{IM_START}user\nHello{IM_END}") + [v]
    with pytest.raises(bytepiece_cpp.ArgumentError) as e:
        tok.encode_with_specials(text, allowed_special={EOT}, disallowed_special="raise")
    assert e.value.id == "argument.20"
    assert tok.encode_with_specials("no specials here", disallowed_special="raise") == tok.encode("no specials here")
    with pytest.raises(ValueError):
        tok.encode_with_specials(text, allowed_special="some")


def test_overlapping_tokens_longest_first(tok):
    v = tok.vocab_size
    tok.special_tokens = ["<a>", "<a><b>", "a>"]
    assert tok.encode_with_specials("x<a><b>y", allowed_special="all") == tok.encode("x") + [v + 1] + tok.encode("y")
    assert tok.encode_with_specials("<a>b>", allowed_special="all") == [v] + tok.encode("b>")


def test_decode_and_binary_round_trip(tok):
    v = tok.vocab_size
    ids = tok.encode_with_specials(f"Hi{EOT}there", allowed_special="all")
    assert tok.decode_with_specials(ids) == f"Hi{EOT}there"
    assert tok.decode_with_specials(ids, skip_special_tokens=True) == "Hithere"
    copy = bytepiece_cpp.Tokenizer.from_binary(tok.to_binary())
    assert copy.special_tokens == {EOT: v, IM_START: v + 1, IM_END: v + 2}
    assert copy.encode_with_specials(f"Hi{EOT}there", allowed_special="all") == ids


def test_invalid_special_tokens(tok):
    with pytest.raises(bytepiece_cpp.ArgumentError):
        tok.special_tokens = ["<x>", "<x>"]
    with pytest.raises(bytepiece_cpp.ArgumentError):
        tok.special_tokens = [""]
    with pytest.raises(TypeError):
        tok.special_tokens = "<x>"
