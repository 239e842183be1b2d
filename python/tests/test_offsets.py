"""encode_with_offsets: ids equal encode's; byte ranges into the original text that partition
NFC input exactly and stay monotone and covering for NFD input."""

import unicodedata

import numpy as np
import pytest

import bytepiece_cpp
from conftest import model_path

TEXTS = ["Hello world", "今天天气很好\n", "Cafe\u0301 costs 5€\n", "e\u0301\u0301a\r\n\uac00\u1100\u1161", ""]


@pytest.fixture(scope="module")
def tok(shared_dir):
    return bytepiece_cpp.Tokenizer(str(model_path(shared_dir, "bytepiece.zh.id.eu.40k")))


def test_nfc_text_partitions(tok, shared_dir):
    lines = (shared_dir / "corpus" / "mixed.txt").read_text(encoding="utf-8").splitlines(True)[:50]
    for text in [t for t in TEXTS + lines if unicodedata.is_normalized("NFC", t)]:
        ids, offsets = tok.encode_with_offsets(text)
        assert ids == tok.encode(text)
        data = text.encode()
        pos = 0
        for i, (b, e) in zip(ids, offsets):
            assert b == pos and data[b:e] == tok.id_to_piece(i)
            pos = e
        assert pos == len(data)


def test_nfd_monotone_and_covering(tok):
    for text in TEXTS:
        ids, offsets = tok.encode_with_offsets(text)
        assert ids == tok.encode(text)
        n = len(text.encode())
        assert all(0 <= b <= e <= n for b, e in offsets)
        assert [b for b, _ in offsets] == sorted(b for b, _ in offsets)
        assert [e for _, e in offsets] == sorted(e for _, e in offsets)
        if ids:
            assert offsets[0][0] == 0 and offsets[-1][1] == n


def test_bos_eos_and_numpy(tok):
    text = "Hello world"
    ids, offsets = tok.encode_with_offsets(text, add_bos=True, add_eos=True)
    assert ids == tok.encode(text, add_bos=True, add_eos=True)
    assert offsets[0] == (0, 0) and offsets[-1] == (len(text), len(text))
    a, o = tok.encode_with_offsets(text, numpy=True)
    assert a.dtype == np.uint32 and o.shape == (len(a), 2)
    assert a.tolist() == tok.encode(text)
    assert [tuple(x) for x in o.tolist()] == tok.encode_with_offsets(text)[1]


def test_sentencepiece(shared_dir):
    p = shared_dir / "models" / "bytepiece.zh.id.eu.40k.sp.model"
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    sp = bytepiece_cpp.SentencePieceTokenizer(str(p))
    for text in TEXTS:
        ids, offsets = sp.encode_with_offsets(text)
        assert ids == sp.encode(text)
        n = len(text.encode())
        assert all(0 <= b <= e <= n for b, e in offsets)
        assert [b for b, _ in offsets] == sorted(b for b, _ in offsets)


def test_tokenizer_json(shared_dir):
    p = shared_dir / "models" / "bytepiece.zh.id.eu.40k.hf.json"
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    hf = bytepiece_cpp.HFTokenizer(str(p))
    for text in TEXTS:
        for special in (False, True):
            ids, offsets = hf.encode_with_offsets(text, add_special_tokens=special)
            assert ids == hf.encode(text, add_special_tokens=special)
            n = len(text.encode())
            assert all(0 <= b <= e <= n for b, e in offsets)
            assert [b for b, _ in offsets] == sorted(b for b, _ in offsets)
    a, o = hf.encode_with_offsets("Hello world", numpy=True)
    assert a.tolist() == hf.encode("Hello world") and o.shape == (len(a), 2)
