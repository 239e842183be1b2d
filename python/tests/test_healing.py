"""Token healing in Python (TokenHealer): checked against the rule's consequences, a brute-force
scan of the vocabulary and the examples of issue 22, not against the C++ output itself."""

import numpy as np
import pytest

import bytepiece_cpp
from conftest import model_path


@pytest.fixture(scope="module")
def eu(shared_dir):
    tok = bytepiece_cpp.Tokenizer(str(model_path(shared_dir, "bytepiece.eu.plus.40k")))
    return tok, bytepiece_cpp.TokenHealer(tok)


@pytest.fixture(scope="module")
def zh(shared_dir):
    tok = bytepiece_cpp.Tokenizer(str(model_path(shared_dir, "bytepiece.zh.id.eu.40k")))
    return tok, bytepiece_cpp.TokenHealer(tok)


def all_pieces(tok):
    return [(i, tok.id_to_piece(i)) for i in range(3, tok.vocab_size)]


def test_issue_examples(eu, zh):
    tok, healer = zh
    h = healer.heal("今天天")
    assert tok.encode("今天天") == h.ids + h.removed_ids
    assert h.remainder == "天"
    assert tok.decode(h.ids) == "今天"
    assert h.kept_bytes == len("今天".encode())
    # the continuation "气" makes "天气" one piece, which is among the candidates
    assert tok.piece_to_id("天气".encode()) in healer.starting_with(h.remainder)

    tok, healer = eu
    h = healer.heal("The weather in Ber")
    assert h.remainder == " in Ber"
    assert tok.decode(h.ids) == "The weather"
    assert tok.encode("The weather in Ber") == h.ids + h.removed_ids
    ids, removed, remainder, kept = h  # unpacks as a tuple
    assert (ids, removed, remainder, kept) == (h.ids, h.removed_ids, h.remainder, h.kept_bytes)
    assert "HealedPrompt(" in repr(h)


def test_heal_prefix_property(eu, shared_dir):
    tok, healer = eu
    lines = (shared_dir / "corpus" / "en.txt").read_text(encoding="utf-8").splitlines()[:20]
    for line in lines:
        for cut in range(0, len(line), 7):
            prompt = line[:cut]
            h = healer.heal(prompt)
            assert h.ids + h.removed_ids == tok.encode(prompt)
            assert h.remainder_bytes == prompt.encode()[h.kept_bytes:]
            assert tok.decode(h.ids).encode() == prompt.encode()[: h.kept_bytes]


def test_candidates_equal_brute_force(eu):
    tok, healer = eu
    pieces = all_pieces(tok)
    for r in [b" in Ber", b"Ber", b"er", b"\xe5", b"the", b" ", b"zzzzqq"]:
        want = sorted(i for i, p in pieces if p.startswith(r))
        assert healer.starting_with(r) == want
        assert healer.prefixes_of(r) == sorted(i for i, p in pieces if r.startswith(p))
        mask = healer.starting_with_mask(r)
        assert mask.dtype == np.bool_ and mask.shape == (tok.vocab_size,)
        assert np.flatnonzero(mask).tolist() == want
        words = healer.starting_with_mask(r, format="words")
        assert words.dtype == np.uint64 and len(words) == (tok.vocab_size + 63) // 64
        bits = np.unpackbits(words.view(np.uint8), bitorder="little")[: tok.vocab_size]
        assert np.flatnonzero(bits).tolist() == want
        assert np.flatnonzero(healer.prefixes_of_mask(r)).tolist() == healer.prefixes_of(r)
    assert healer.starting_with(" in Ber") == healer.starting_with(b" in Ber")
    with pytest.raises(ValueError):
        healer.starting_with_mask("a", format="ints")


def test_sentencepiece_healer(shared_dir):
    p = shared_dir / "models" / "bytepiece.eu.plus.40k.sp.model"
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    sp = bytepiece_cpp.SentencePieceTokenizer(str(p))
    healer = bytepiece_cpp.TokenHealer(sp)
    h = healer.heal("The weather in Ber")
    assert h.ids + h.removed_ids == sp.encode("The weather in Ber")
    assert h.remainder.endswith("Ber")
    assert h.remainder == "\u2581in\u2581Ber"  # ' in B' + 'er' given back, in SentencePiece's spelling
    assert h.remainder.startswith("".join(sp.id_to_piece(i) for i in h.removed_ids))
    assert sp.decode(h.ids) == "The weather"
    assert all(sp.id_to_piece(i).encode().startswith(h.remainder_bytes) for i in healer.starting_with(h.remainder))


def test_healer_keeps_tokenizer_alive(shared_dir):
    healer = bytepiece_cpp.TokenHealer(bytepiece_cpp.Tokenizer(str(model_path(shared_dir, "bytepiece.eu.plus.40k"))))
    import gc

    gc.collect()
    assert healer.heal("Hello wor").ids
