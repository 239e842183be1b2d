"""The reference's ids and pieces through Python: all four released models on small.txt and on
the hand-picked edge cases (goldens made with bytepiece 0.6.3, see golden/README.md)."""

import base64
import re

import pytest

import bytepiece_cpp
from conftest import MODEL_NAMES, model_path, read_jsonl

_tokenizers = {}


def tokenizer_for(shared_dir, name):
    if name not in _tokenizers:
        _tokenizers[name] = bytepiece_cpp.Tokenizer(str(model_path(shared_dir, name)))
    return _tokenizers[name]


def small_text(shared_dir):
    p = shared_dir / "corpus" / "small.txt"
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    return p.read_text(encoding="utf-8")


def golden_lines(golden_dir, name):
    p = golden_dir / f"{name}.small.ids"
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    return [[int(x) for x in line.split()] for line in p.read_text().split("\n")[:-1]]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_small_txt_as_one_text(shared_dir, golden_dir, name):
    tok = tokenizer_for(shared_dir, name)
    lines = golden_lines(golden_dir, name)
    expected = [i for line in lines for i in line]
    assert tok.encode(small_text(shared_dir)) == expected


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_small_txt_chunk_by_chunk_in_a_batch(shared_dir, golden_dir, name):
    tok = tokenizer_for(shared_dir, name)
    lines = golden_lines(golden_dir, name)
    # The reference's chunks (small.txt is NFC already): a line with the newlines after it.
    chunks = re.findall(".*\n+|.+", small_text(shared_dir))
    assert len(chunks) == len(lines)
    assert tok.encode_batch(chunks, threads=2) == lines
    ids, offsets = tok.encode_batch(chunks, threads=1, numpy=True)
    assert offsets.tolist()[-1] == len(ids)
    assert [ids[offsets[i]:offsets[i + 1]].tolist() for i in range(len(chunks))] == lines


def edge_cases(shared_dir):
    p = shared_dir / "golden" / "edge_cases.jsonl"
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    return read_jsonl(p)


def test_edge_cases(shared_dir):
    records = edge_cases(shared_dir)
    assert len(records) == 252
    for r in records:
        tok = tokenizer_for(shared_dir, r["model"])
        text = base64.b64decode(r["text_b64"]).decode("utf-8")
        pieces = [base64.b64decode(p) for p in r["pieces_b64"]]
        assert tok.encode(text) == r["ids"], r["case"]
        assert tok.tokenize(text) == pieces, r["case"]
        assert list(tok.encode(text, iter=True)) == r["ids"], r["case"]
        assert list(tok.tokenize(text, iter=True)) == pieces, r["case"]
        assert tok.ids_to_pieces(r["ids"]) == pieces, r["case"]
        assert tok.pieces_to_ids(pieces) == r["ids"], r["case"]
        # The reference's decode: the pieces joined, decoded with errors='ignore'.
        assert tok.decode(r["ids"]) == b"".join(pieces).decode(errors="ignore"), r["case"]


def test_edge_cases_in_one_batch(shared_dir):
    records = edge_cases(shared_dir)
    for name in MODEL_NAMES:
        mine = [r for r in records if r["model"] == name]
        texts = [base64.b64decode(r["text_b64"]).decode("utf-8") for r in mine]
        tok = tokenizer_for(shared_dir, name)
        assert tok.encode_batch(texts, threads=2) == [r["ids"] for r in mine]
        assert tok.tokenize_batch(texts, threads=2) == [[base64.b64decode(p) for p in r["pieces_b64"]] for r in mine]
        assert tok.decode_batch([r["ids"] for r in mine]) == [tok.decode(r["ids"]) for r in mine]
