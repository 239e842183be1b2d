"""Token healing of HFTokenizer (tokenizer.json, Unigram) in Python: checked against the rule's
consequences, a scan of the vocabulary read from the JSON and refusals by name, not against the
C++ output itself."""

import json

import numpy as np
import pytest

import bytepiece_cpp

META = "\u2581"


def hf_path(shared_dir, name):
    p = shared_dir / "models" / "hf" / name
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    return p


@pytest.fixture(scope="module")
def albert(shared_dir):
    p = hf_path(shared_dir, "albert-30k-clean.from_spm.json")
    tok = bytepiece_cpp.HFTokenizer(str(p))
    return tok, bytepiece_cpp.TokenHealer(tok), json.loads(p.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def zh(shared_dir):
    p = hf_path(shared_dir, "bytepiece.zh.id.eu.40k.bytelevel.json")
    tok = bytepiece_cpp.HFTokenizer(str(p))
    return tok, bytepiece_cpp.TokenHealer(tok), json.loads(p.read_text(encoding="utf-8"))


def test_issue_example_bytelevel(zh):
    tok, healer, _ = zh
    h = healer.heal("今天天")
    assert isinstance(h, bytepiece_cpp.HFHealedPrompt)
    assert isinstance(h, bytepiece_cpp.HealedPrompt)
    assert h.ids + h.removed_ids == tok.encode("今天天")
    assert h.ids == tok.encode("今天")
    assert h.text_remainder == "天"
    assert h.text_kept_bytes == len("今天".encode())
    # the remainder is spelled in ByteLevel's characters, as the vocabulary is
    assert h.remainder == "".join(tok.id_to_token(i) for i in h.removed_ids)
    assert tok.encode("天气")[0] in healer.starting_with(h.remainder)
    assert "HFHealedPrompt(" in repr(h) and "text_remainder='天'" in repr(h)


def test_metaspace_remainders(albert):
    tok, healer, _ = albert
    h = healer.heal("Hello ")
    assert h.remainder == META
    assert h.text_remainder == " "
    e = healer.heal("")
    assert (e.ids, e.remainder, e.text_remainder) == ([], META, "")
    h = healer.heal("The weather in Ber")
    assert h.ids + h.removed_ids == tok.encode("The weather in Ber")
    assert (META + "ber").endswith(h.remainder)  # the normalizer lowercases; only the last pre-token is given back
    mask = healer.starting_with_mask(h.remainder)
    assert mask.dtype == np.bool_ and mask.shape == (tok.vocab_size,)
    assert sorted(np.flatnonzero(mask).tolist()) == healer.starting_with(h.remainder)


def test_prefix_property_on_corpus_lines(albert, zh, shared_dir):
    lines = (shared_dir / "corpus" / "en.txt").read_text(encoding="utf-8", errors="replace").splitlines()[:8]
    lines += (shared_dir / "corpus" / "zh.txt").read_text(encoding="utf-8", errors="replace").splitlines()[:4]
    for tok, healer, _ in (albert, zh):
        for line in lines:
            line = line[:60]
            full, full_tokens = tok.encode(line), tok.tokenize(line)
            for cut in range(len(line) + 1):
                prompt = line[:cut]
                h = healer.heal(prompt)
                assert h.ids + h.removed_ids == tok.encode(prompt)
                # with ByteLevel the cut may fall inside a character: compare bytes
                assert prompt.encode()[h.text_kept_bytes:] == h.text_remainder.encode("utf-8", "surrogateescape")
                kept = "".join(tok.tokenize(prompt)[: len(h.ids)])
                spelled, j = "", 0
                while j < len(full_tokens) and len(spelled) < len(kept):
                    spelled += full_tokens[j]
                    j += 1
                if spelled == kept:  # the cut is a boundary of the full line's segmentation
                    assert full[: len(h.ids)] == h.ids


def test_candidates_equal_a_vocabulary_scan(albert, zh):
    for tok, healer, doc in (albert, zh):
        vocab = [v[0] for v in doc["model"]["vocab"]]
        last = {p: i for i, p in enumerate(vocab)}
        excluded = {doc["model"].get("unk_id")} | {last[a["content"]] for a in doc.get("added_tokens") or [] if a["content"] in last}
        for r in ["", META, META + "th", "the", "\u0120", "\u0120in", healer.heal("今天天").remainder]:
            want = [i for i, p in enumerate(vocab) if p and i not in excluded and last[p] == i and p.startswith(r)]
            pre = [i for i, p in enumerate(vocab) if p and i not in excluded and last[p] == i and r.startswith(p)]
            assert healer.starting_with(r) == want
            assert healer.prefixes_of(r) == pre


def test_refusals_name_the_cause(albert, shared_dir):
    _, _, doc = albert
    doc = dict(doc)
    doc["pre_tokenizer"] = {"type": "Whitespace"}
    tok = bytepiece_cpp.HFTokenizer.from_str(json.dumps(doc))
    with pytest.raises(bytepiece_cpp.ArgumentError) as e:
        bytepiece_cpp.TokenHealer(tok)
    assert "argument.10" in str(e.value) and "Whitespace" in str(e.value)

    p = hf_path(shared_dir, "albert-30k-clean.transformers-albert.json")
    tok = bytepiece_cpp.HFTokenizer(str(p))
    healer = bytepiece_cpp.TokenHealer(tok)
    with pytest.raises(bytepiece_cpp.ArgumentError) as e:
        healer.heal("Hello [CL")
    assert "[CLS]" in str(e.value)
    h = healer.heal("Hello [MASK]")
    assert h.ids == tok.encode("Hello [MASK]") and h.removed_ids == [] and h.remainder == ""
