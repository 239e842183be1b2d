"""Sampling draws from exactly the reference's distribution: P(S) proportional to
exp(alpha * score(S)) over every segmentation S of a chunk, enumerated here by brute force and
compared with seeded draws by a chi-square test (fixed seeds, so the outcome is fixed too)."""

import math
from collections import Counter

import pytest

import bytepiece_cpp


def segmentations(tok, text):
    """Every segmentation of the bytes of one chunk into the model's pieces, as id tuples."""
    data = text.encode()
    ids_of = {}
    for i in range(len(data)):
        for j in range(i + 1, len(data) + 1):
            try:
                ids_of[(i, j)] = tok.piece_to_id(data[i:j])
            except KeyError:
                pass
    out = []

    def walk(start, path):
        if start == len(data):
            out.append(tuple(path))
            return
        for end in range(start + 1, len(data) + 1):
            if (start, end) in ids_of:
                walk(end, path + [ids_of[(start, end)]])

    walk(0, [])
    return out


def chi_square_limit(df, z=3.09):
    """Upper 0.1% point of chi-square with df degrees of freedom (Wilson-Hilferty)."""
    a = 2.0 / (9.0 * df)
    return df * (1.0 - a + z * math.sqrt(a)) ** 3


def check_draws(tok, text, alpha, draws):
    segs = segmentations(tok, text)
    assert len(segs) > 10
    logw = [alpha * tok.score(list(s)) for s in segs]
    m = max(logw)
    log_z = m + math.log(sum(math.exp(w - m) for w in logw))
    # The library's own partition function agrees with the enumeration.
    assert tok.log_partition(text, alpha) == pytest.approx(log_z, rel=1e-9, abs=1e-9)
    probs = {s: math.exp(w - log_z) for s, w in zip(segs, logw)}
    n = len(draws)
    seen = Counter(tuple(d) for d in draws)
    assert set(seen) <= set(probs), "a draw that is not a segmentation of the text"
    # Bins: every segmentation expected at least 5 times; the rest pooled.
    big = [s for s in segs if probs[s] * n >= 5]
    rest_p = 1.0 - sum(probs[s] for s in big)
    chi2 = sum((seen[s] - probs[s] * n) ** 2 / (probs[s] * n) for s in big)
    bins = len(big)
    if rest_p * n >= 5:
        rest_seen = n - sum(seen[s] for s in big)
        chi2 += (rest_seen - rest_p * n) ** 2 / (rest_p * n)
        bins += 1
    assert bins >= 5
    assert chi2 < chi_square_limit(bins - 1), (chi2, bins)


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_sampler_batches_match_exact_enumeration(tokenizer, alpha):
    text = "hello world"
    s = bytepiece_cpp.Sampler(tokenizer, alpha, seed=2024)
    check_draws(tokenizer, text, alpha, s.sample_batch([text] * 20000, threads=2))


def test_encode_with_alpha_matches_exact_enumeration(tokenizer):
    text = "tokenize"
    tokenizer.set_seed(99)
    check_draws(tokenizer, text, 0.5, [tokenizer.encode(text, alpha=0.5) for _ in range(8000)])


def test_encode_batch_with_alpha_matches_exact_enumeration(tokenizer):
    text = "hello world"
    check_draws(tokenizer, text, 0.3, tokenizer.encode_batch([text] * 20000, alpha=0.3, seed=7))
