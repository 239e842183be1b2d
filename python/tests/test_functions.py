"""bytepiece_cpp.normalize and convert_to_bytepiece against the reference's own definitions.

The oracles below are the reference's code in substance (bytepiece 0.6.3, bytepiece.py): its
normalize is Python's unicodedata NFC plus re.findall, and its convert_to_bytepiece is the
Trainer's prune_pieces with a Viterbi over the kept pieces; both are written out here in plain
Python (Python 3.11's re and unicodedata are the ones the reference ran on).
"""

import base64
import json
import math
import random
import re
import unicodedata

import numpy as np
import pytest

import bytepiece_cpp


def reference_normalize(text, maxlen=0, isolate_digits=False):
    text = unicodedata.normalize("NFC", text)
    if maxlen > 0:
        if isolate_digits:
            regex = "\\d|[^\\n\\d]{,%d}\\n{1,100}|[^\\n\\d]{1,%d}" % (maxlen, maxlen)
        else:
            regex = ".{,%d}\\n{1,100}|.{1,%d}" % (maxlen, maxlen)
    else:
        regex = "\\d|[^\\n\\d]*\\n+|[^\\n\\d]+" if isolate_digits else ".*\\n+|.+"
    return [t.encode() for t in re.findall(regex, text)]


# Characters that exercise every branch: newlines, ASCII and other Nd digits (Arabic-Indic,
# fullwidth, Devanagari, a 4-byte one: Mathematical bold 0), combining marks that NFC composes
# (e + acute, A + ring, Hangul jamo), a singleton decomposition (Angstrom sign), CJK, emoji.
ALPHABET = (["a", "b", " ", "\n", "\n", "\r", "\t", "0", "7", "\u0663", "\uff11", "\u0967", "\U0001d7ce",
             "\u0301", "e", "A", "\u030a", "\u1100", "\u1161", "\u11a8", "\u212b", "\u4e2d", "\u6587",
             "\U0001f600", "\u00e9", "x"])


def random_texts(seed, count):
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        n = rng.choice([0, 1, 2, 5, 20, 200])
        out.append("".join(rng.choice(ALPHABET) for _ in range(n)))
    out.append("\n" * 250 + "abc" + "\n" * 99 + "d")  # runs of more than 100 newlines
    out.append("9" * 30 + "x" * 30)
    return out


@pytest.mark.parametrize("maxlen", [0, 1, 2, 3, 7, 10000, -5])
@pytest.mark.parametrize("isolate_digits", [False, True])
def test_normalize_is_the_reference_regex(maxlen, isolate_digits):
    for text in random_texts(maxlen * 2 + isolate_digits, 300):
        assert bytepiece_cpp.normalize(text, maxlen, isolate_digits) == \
            reference_normalize(text, maxlen, isolate_digits), repr(text)


def test_normalize_on_corpus_text(shared_dir):
    p = shared_dir / "corpus" / "mixed.txt"
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    with open(p, encoding="utf-8") as f:
        text = f.read(400_000)
    for maxlen, isolate in ((0, False), (0, True), (50, False), (10000, True)):
        assert bytepiece_cpp.normalize(text, maxlen=maxlen, isolate_digits=isolate) == \
            reference_normalize(text, maxlen, isolate)


def test_normalize_edge_cases_and_errors():
    assert bytepiece_cpp.normalize("") == []
    assert bytepiece_cpp.normalize("ab\n\ncd") == [b"ab\n\n", b"cd"]
    assert bytepiece_cpp.normalize("e\u0301") == ["\u00e9".encode()]
    assert bytepiece_cpp.normalize(text="a1b", isolate_digits=True) == [b"a", b"1", b"b"]
    with pytest.raises(UnicodeEncodeError):
        bytepiece_cpp.normalize("abc\ud800")
    with pytest.raises(TypeError):
        bytepiece_cpp.normalize(b"abc")
    with pytest.raises(TypeError):
        bytepiece_cpp.normalize(None)


# The reference's convert_to_bytepiece, written out: prune_pieces of a Trainer() with
# max_vocab_size=[len(pieces)+259], max_piece_length=inf, min_count=1, then save.
def reference_tokenize(scores, longest, text):
    """faster._tokenize with alpha < 0: matches ending at each position, longest first, a later
    one replacing the best only when strictly better."""
    best = [0.0] + [-math.inf] * len(text)
    route = list(range(len(text) + 1))
    for e in range(1, len(text) + 1):
        for k in range(min(longest, e), 0, -1):
            v = scores.get(text[e - k:e])
            if v is not None:
                s = best[e - k] + v
                if s > best[e]:
                    best[e], route[e] = s, e - k
    out, e = [], len(text)
    while e > 0:
        s = route[e]
        out.append(text[s:e])
        e = s
    return out[::-1]


def reference_split(keep, drop):
    log_total = np.log(sum(keep.values()))
    scores = {k: np.log(v) - log_total for k, v in keep.items()}
    longest = max(len(k) for k in keep)
    counter = {}
    for k, v in drop:
        for p in reference_tokenize(scores, longest, k):
            counter[p] = counter.get(p, 0) + v
    return counter


def reference_convert(pieces):
    pieces = {k if isinstance(k, bytes) else k.encode(): v for k, v in pieces.items()}
    for i in range(256):
        if bytes([i]) not in pieces:
            pieces[bytes([i])] = 1
    keep, drop = {}, {}
    for k, v in pieces.items():
        (keep if len(k) == 1 or v >= 1 else drop)[k] = v
    for k, v in reference_split(keep, drop.items()).items():
        keep[k] += v
    while True:
        n = len(keep)
        keep = reference_split(keep, keep.items())
        if n == len(keep):
            break
    ordered = sorted(keep.items(), key=lambda t: (len(t[0]), t[0]))
    model = {base64.b64encode(k).decode(): [i + 3, k.decode(errors="ignore"), v] for i, (k, v) in enumerate(ordered)}
    return json.dumps(model, indent=4, ensure_ascii=False).encode()


def test_convert_by_hand(tmp_path):
    # 255 bytes with count 1, c 100, ab 100, abc 1: abc scores log(1/456) alone, 2 log(100/456)
    # as ab + c, so it is split into them and removed.
    out = tmp_path / "m.model"
    assert bytepiece_cpp.convert_to_bytepiece({"abc": 1, b"ab": 100, "c": 100}, str(out)) is None
    model = {base64.b64decode(k): v for k, v in json.loads(out.read_text(encoding="utf-8")).items()}
    assert len(model) == 257
    assert model[b"ab"] == [259, "ab", 101]
    assert model[b"c"][2] == 101 and model[b"a"][2] == 1
    assert b"abc" not in model


def test_convert_matches_the_reference_prune(tmp_path, shared_dir):
    p = shared_dir / "corpus" / "mixed.txt"
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    with open(p, "rb") as f:
        data = f.read(200_000)
    rng = random.Random(19)
    for round_ in range(3):
        pieces = {}
        for _ in range(400):
            start = rng.randrange(len(data) - 12)
            piece = data[start:start + rng.randint(2, 10)]
            count = rng.choice([0, 1, 2, rng.randint(1, 50), rng.randint(1, 5000)])
            # Keys as str where they decode, as a user's dict often has them.
            try:
                key = piece.decode() if rng.random() < 0.5 else piece
            except UnicodeDecodeError:
                key = piece
            pieces[key] = count
        pieces[b"\xe4"] = 7  # a given single byte keeps its count
        out = tmp_path / f"c{round_}.model"
        bytepiece_cpp.convert_to_bytepiece(pieces, out)
        assert out.read_bytes() == reference_convert(pieces)


def test_convert_keys_and_errors(tmp_path):
    out = str(tmp_path / "m.model")
    # str and bytes keys with the same bytes: the later one wins, as in the reference's dict.
    bytepiece_cpp.convert_to_bytepiece({"xy": 5, b"xy": 9}, out)
    model = {base64.b64decode(k): v for k, v in json.loads(open(out, encoding="utf-8").read()).items()}
    assert model[b"xy"][2] == 9
    bytepiece_cpp.convert_to_bytepiece({"xy": np.int64(5)}, out)  # numpy integers are ints
    bytepiece_cpp.convert_to_bytepiece({}, out)
    assert len(json.loads(open(out, encoding="utf-8").read())) == 256
    for bad, exc in (({"": 3}, ValueError), ({"ab": -1}, ValueError), ({"a": 0}, ValueError),
                     ({"ab": 1.5}, TypeError), ({3: 1}, TypeError)):
        with pytest.raises(exc):
            bytepiece_cpp.convert_to_bytepiece(bad, out)
    with pytest.raises(OSError):
        bytepiece_cpp.convert_to_bytepiece({"ab": 2}, str(tmp_path / "no" / "such" / "dir.model"))


def test_signatures_are_the_references():
    import inspect

    assert str(inspect.signature(bytepiece_cpp.normalize)) == "(text, maxlen=0, isolate_digits=False)"
    assert str(inspect.signature(bytepiece_cpp.convert_to_bytepiece)) == "(pieces, path)"
