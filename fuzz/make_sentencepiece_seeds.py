#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the sentencepiece_model seed corpus: fuzz/corpus/sentencepiece_model/gen_*, small
hand-made ModelProto files (valid ones, each load-check failure, unknown fields of every wire
type, merged messages, cut-off and garbled bytes). Written from scratch with a tiny protobuf
encoder, so no shared model is copied. Deterministic: rerunning it changes nothing.

    python3 fuzz/make_sentencepiece_seeds.py
"""
import os
import random
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "sentencepiece_model")
rng = random.Random(20261207)


def varint(v):
    v &= (1 << 64) - 1  # negative int32 values go out sign-extended, 10 bytes
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def int_field(field, v):
    return key(field, 0) + varint(v)


def bytes_field(field, b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return key(field, 2) + varint(len(b)) + b


def float_field(field, f):
    return key(field, 5) + struct.pack("<f", f)


def piece(text, score, kind=1, extra=b""):
    body = bytes_field(1, text) + float_field(2, score)
    if kind != 1:
        body += int_field(3, kind)
    return bytes_field(1, body + extra)


def unknown_fields():
    return int_field(200, 7) + key(99, 1) + b"\x01" * 8 + bytes_field(1000, "x") + float_field(98, 0.5)


NORMAL = ["\u2581a", "b", "ab", "\u2581", "c", "\u2581abc", "\u00e9", "\u4e2d"]


def model(pieces=None, byte_fallback=False, trainer=b"", normalizer=None, tail=b"", model_type=1):
    if pieces is None:
        pieces = [("<unk>", 0.0, 2), ("<s>", 0.0, 3), ("</s>", 0.0, 3)] + [(t, -1.0 - i, 1) for i, t in enumerate(NORMAL)]
    out = b"".join(piece(*p) for p in pieces)
    spec = int_field(3, model_type) + int_field(4, len(pieces)) + int_field(40, 0) + int_field(41, 1) + \
        int_field(42, 2) + int_field(43, -1)
    if byte_fallback:
        spec += int_field(35, 1)
    out += bytes_field(2, spec + trainer)
    if normalizer is None:
        normalizer = bytes_field(1, "identity") + int_field(3, 1) + int_field(4, 1)
    out += bytes_field(3, normalizer)
    return out + tail


def byte_pieces():
    return [("<0x%02X>" % b, 0.0, 6) for b in range(256)]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.startswith("gen_"):
            os.remove(os.path.join(OUT, name))
    seeds = {}
    seeds["valid_minimal"] = piece("<unk>", 0, 2) + piece("a", -1)
    seeds["valid_small"] = model()
    seeds["valid_all_trainer_fields"] = model(trainer=int_field(24, 1) + bytes_field(44, " ? ") + bytes_field(45, "<UNK>") +
                                              bytes_field(46, "<BOS>") + bytes_field(47, "<EOS>") + bytes_field(48, "<PAD>"))
    seeds["valid_byte_fallback"] = model([("<unk>", 0.0, 2), ("a", -1.0, 1), ("<mask>", 0.0, 4)] + byte_pieces(), True)
    seeds["valid_unused_user"] = model([("<unk>", 0.0, 2), ("u", -2.0, 5), ("<sep>", 0.0, 4), ("<sep>", 0.0, 3)])
    charsmap = bytes(rng.randrange(256) for _ in range(64))
    seeds["charsmap_random_flags"] = model(normalizer=bytes_field(1, "nmt_nfkc") + bytes_field(2, charsmap) +
                                          int_field(3, 0) + int_field(4, 0) + int_field(5, 0) + bytes_field(6, "41\t61\n"))
    # expected: what SentencePiece's Viterbi gives with the scores of model(), so it loads them
    samples = bytes_field(1, bytes_field(1, "ab c") + bytes_field(2, "\u2581a b \u2581 c")) + \
        bytes_field(1, bytes_field(1, "b") + bytes_field(2, "\u2581 b"))
    seeds["valid_self_test_denormalizer"] = model(tail=bytes_field(4, samples) + bytes_field(5, bytes_field(1, "d") + int_field(3, 0)))
    seeds["self_test_denormalizer_garbage_charsmap"] = model(tail=bytes_field(4, bytes_field(1, bytes_field(1, "x"))) +
                                                            bytes_field(5, bytes_field(2, "xy")))
    seeds["valid_unknown_fields"] = model(
        [("<unk>", 0.0, 2)] + [(t, -1.0, 1) for t in NORMAL],
        trainer=bytes_field(53, "\u2581") + bytes_field(54, "seeds.txt") + unknown_fields(),
        normalizer=bytes_field(1, "identity") + unknown_fields(),
        tail=unknown_fields() + bytes_field(4, bytes_field(1, bytes_field(1, "b") + bytes_field(2, "\u2581 b") + unknown_fields()) +
                                            unknown_fields()))
    seeds["valid_merged"] = model(tail=bytes_field(2, int_field(4, 99) + int_field(24, 1)) + bytes_field(3, int_field(3, 0)))
    seeds["bpe"] = model(model_type=2)
    seeds["word"] = model(model_type=3)
    seeds["model_type_9"] = model(model_type=9)
    seeds["two_unknown"] = model([("<unk>", 0.0, 2), ("a", -1.0, 1), ("<u2>", 0.0, 2)])
    seeds["no_unknown"] = model([("a", -1.0, 1)])
    seeds["repeat"] = model([("<unk>", 0.0, 2), ("a", -1.0, 1), ("a", -2.0, 4)])
    seeds["empty_piece"] = model([("<unk>", 0.0, 2), ("", -1.0, 1)])
    seeds["byte_without_fallback"] = model([("<unk>", 0.0, 2), ("a", -1.0, 1), ("<0x41>", 0.0, 6)])
    seeds["byte_lowercase"] = model([("<unk>", 0.0, 2), ("a", -1.0, 1), ("<0x4a>", 0.0, 6)], True)
    seeds["bytes_missing"] = model([("<unk>", 0.0, 2), ("a", -1.0, 1)] + byte_pieces()[:200], True)
    seeds["only_reserved"] = model([("<unk>", 0.0, 2), ("<s>", 0.0, 3)])
    seeds["piece_type_7"] = piece("<unk>", 0, 2) + piece("a", -1, 7)
    seeds["group_wire_type"] = piece("<unk>", 0, 2) + key(9, 3) + piece("a", -1)
    seeds["overlong_varint"] = piece("<unk>", 0, 2) + piece("a", -1) + bytes_field(2, key(43, 0) + b"\xff" * 10 + b"\x01")
    seeds["huge_length"] = piece("<unk>", 0, 2) + key(1, 2) + varint(1 << 62) + b"abc"
    small = model()
    for cut in (1, 2, 9, 17, len(small) // 2, len(small) - 1):
        seeds["cut_%d" % cut] = small[:cut]
    for i in range(4):
        garbled = bytearray(small)
        for _ in range(3):
            garbled[rng.randrange(len(garbled))] = rng.randrange(256)
        seeds["garbled_%d" % i] = bytes(garbled)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(OUT, "gen_" + name), "wb") as f:
            f.write(data)
    print(len(seeds), "seeds in", OUT)


if __name__ == "__main__":
    main()
