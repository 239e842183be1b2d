"""encode_for_model: truncation, padding and the attention mask, checked row by row against
encode_batch."""

import numpy as np
import pytest

import bytepiece_cpp
from conftest import model_path

TEXTS = ["Hello world", "", "The weather in Berlin is fine today, isn't it?", "今天天气很好"]


@pytest.fixture(scope="module")
def tok(shared_dir):
    return bytepiece_cpp.Tokenizer(str(model_path(shared_dir, "bytepiece.zh.id.eu.40k")))


def test_longest_right(tok):
    rows = tok.encode_batch(TEXTS)
    b = tok.encode_for_model(TEXTS, pad_id=0)
    width = max(len(r) for r in rows)
    assert b["input_ids"].shape == (len(TEXTS), width) and b["input_ids"].dtype == np.int64
    for i, r in enumerate(rows):
        assert b["input_ids"][i, : len(r)].tolist() == r
        assert (b["input_ids"][i, len(r) :] == 0).all()
        assert b["attention_mask"][i].tolist() == [1] * len(r) + [0] * (width - len(r))
    assert b["length"].tolist() == [len(r) for r in rows]
    assert b["full_length"].tolist() == [len(r) for r in rows]


def test_truncation_and_left_padding(tok):
    rows = tok.encode_batch(TEXTS)
    b = tok.encode_for_model(TEXTS, max_length=4, truncation_side="left", padding="max_length",
                             padding_side="left", pad_id=7)
    assert b["input_ids"].shape == (len(TEXTS), 4)
    for i, r in enumerate(rows):
        kept = r[-4:] if r else []
        assert b["input_ids"][i].tolist() == [7] * (4 - len(kept)) + kept
        assert b["attention_mask"][i].tolist() == [0] * (4 - len(kept)) + [1] * len(kept)
    right = tok.encode_for_model(TEXTS, max_length=4)
    for i, r in enumerate(rows):
        assert right["input_ids"][i, : min(4, len(r))].tolist() == r[:4]
    assert right["full_length"].tolist() == [len(r) for r in rows]


def test_no_padding_and_multiple_of(tok):
    rows = tok.encode_batch(TEXTS)
    b = tok.encode_for_model(TEXTS, max_length=5, padding=None)
    assert b["input_ids"] == [r[:5] for r in rows]
    assert b["attention_mask"] == [[1] * len(r[:5]) for r in rows]
    fixed = tok.encode_for_model(TEXTS, max_length=6, padding=10)
    assert fixed["input_ids"].shape == (len(TEXTS), 10)
    assert fixed["attention_mask"].sum(axis=1).tolist() == [min(6, len(r)) for r in rows]
    with pytest.raises(bytepiece_cpp.ArgumentError):
        tok.encode_for_model(TEXTS, padding=2)  # rows longer than the fixed length
    m = tok.encode_for_model(TEXTS, pad_to_multiple_of=8)
    assert m["input_ids"].shape[1] % 8 == 0
    with pytest.raises(ValueError):
        tok.encode_for_model(TEXTS, padding="max_length")
    with pytest.raises(ValueError):
        tok.encode_for_model(TEXTS, truncation_side="middle")


def test_other_formats(shared_dir):
    for name in ["bytepiece.zh.id.eu.40k.sp.model", "bytepiece.zh.id.eu.40k.hf.json"]:
        p = shared_dir / "models" / name
        if not p.is_file():
            continue
        t = bytepiece_cpp.load(str(p))
        rows = [t.encode(x) for x in TEXTS]
        b = t.encode_for_model(TEXTS, threads=2)
        for i, r in enumerate(rows):
            assert b["input_ids"][i, : len(r)].tolist() == r
            assert b["attention_mask"][i].sum() == len(r)
