#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the generated seed corpora: fuzz/corpus/<target>/gen_*. Deterministic (fixed random
seed), so rerunning it changes nothing; hand-written seeds (hand_*) are left alone.

    python3 fuzz/make_seeds.py
"""
import base64
import json
import os
import random
import struct
import unicodedata

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
rng = random.Random(20240601)

TEXTS = [
    "", "a", "aaaaaaa", "the thing and the other\n", "abcabc bcab\r\n\r\n", "Hello, world!\n",
    "中文测试，中文。\n中", "😀😀 ok 😀", "가나다 \u1100\u1161\u11a8 jamo", "e\u0301 vs é vs e\u0301\u0323",
    "\u1e0b\u0323 dot", "Å Å Å ohm Ω", "x\x00y\x00\x00x", "\n\n\n\n", "line1\nline2\n\nline3",
    "123 4567 ١٢٣", "tab\tspace  end ", "\u0958\u0929 nukta", "ﬁ ligature ＡＢＣ", "שָׁלוֹם", "Ελληνικά ά",
    "mixed 中 a é 😀 \n 가", "\u0345\u0300\u0315 marks only", "a\u0300\u0301\u0302\u0303\u0304b",
]
BAD_BYTES = [
    b"\xff\xfe\xfd", b"\xe4\xb8", b"\xe4\xb8\xad\xe6", b"\xc3", b"\xc3\xc3\xa9", b"\xed\xa0\x80 surrogate",
    b"\xf4\x90\x80\x80 too big", b"\xc0\xaf overlong", b"e\xcc\x81\xff\xcc\x81", b"\x80\x80\x80",
    b"\xe1\x84\x80\xff\xe1\x85\xa1",
]


def write(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "gen_" + name), "wb") as f:
        f.write(data)


def clear(target):
    folder = os.path.join(ROOT, target)
    if os.path.isdir(folder):
        for n in os.listdir(folder):
            if n.startswith("gen_"):
                os.remove(os.path.join(folder, n))


def text_inputs():
    out = [t.encode("utf-8") for t in TEXTS] + BAD_BYTES
    for _ in range(10):  # random mixes of the above
        parts = rng.sample(out[:30], 3)
        out.append(b"".join(parts))
    return out


def model_json(pieces, indent=None):
    """pieces: list of (bytes, count) in id order (ids from 3)."""
    d = {}
    for i, (p, c) in enumerate(pieces):
        d[base64.b64encode(p).decode()] = [i + 3, p.decode("utf-8", errors="ignore"), c]
    if indent is None:
        return json.dumps(d, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return json.dumps(d, ensure_ascii=False, indent=indent).encode("utf-8")


def byte_pieces():
    return [(bytes([b]), 1 + rng.randrange(5)) for b in range(256)]


def seeds_model_load():
    clear("model_load")
    extras = [b"th", b"the", "中".encode(), "中文".encode(), b"\xe4\xb8", b"a\x00b", "😀".encode(), b"  "]
    for k in range(8):
        pieces = byte_pieces()
        pieces += [(p, rng.randrange(1, 1000)) for p in rng.sample(extras, rng.randrange(0, len(extras)))]
        pieces.sort(key=lambda pc: (len(pc[0]), pc[0]))
        write("model_load", "valid_%d.json" % k, model_json(pieces, indent=4 if k == 0 else None))
    base = model_json(byte_pieces())
    # Small invalid files: every error id and the parser's corner cases.
    small = {
        "empty": b"", "ws": b"  \n", "null": b"null", "array": b"[]", "obj": b"{}", "nested": b"[" * 200,
        "nested_obj": b'{"QQ==":' + b"[" * 100, "bad_b64": b'{"QQ=":[3,"",1]}', "noncanon": b'{"QR==":[3,"",1]}',
        "empty_piece": b'{"":[3,"",1]}', "dup_key": b'{"QQ==":[3,"A",1],"QQ==":[4,"A",1]}',
        "dup_id": b'{"QQ==":[3,"A",1],"Qg==":[3,"B",1]}', "gap": b'{"QQ==":[3,"A",1],"Qg==":[5,"B",1]}',
        "zero_count": b'{"QQ==":[3,"A",0]}', "neg_count": b'{"QQ==":[3,"A",-1]}', "neg_zero": b'{"QQ==":[-0,"A",-0]}',
        "float": b'{"QQ==":[3.0,"A",1e400]}', "big_id": b'{"QQ==":[18446744073709551616,"A",1]}',
        "max_count": b'{"QQ==":[3,"A",18446744073709551615],"Qg==":[4,"B",18446744073709551615]}',
        "four": b'{"QQ==":[3,"A",1,2]}', "two": b'{"QQ==":[3,"A"]}', "str_id": b'{"QQ==":["3","A",1]}',
        "trailing": b'{"QQ==":[3,"A",1]} {}', "bom": b"\xef\xbb\xbf" + base, "truncated": base[: len(base) // 2],
        "bad_utf8_text": b'{"QQ==":[3,"\xff",1]}', "surrogate": b'{"QQ==":[3,"\\udc80",1]}',
        "missing_byte": model_json(byte_pieces()[1:]),
    }
    # Full models (all 256 bytes) that fail only at the last checks.
    full = base[:-1]
    small["full_dup_piece"] = full + b',"QQ==":[259,"A",1]}'
    small["full_dup_id"] = full + b',"QUI=":[258,"AB",1]}'
    small["full_sum_overflow"] = full + b',"QUI=":[259,"AB",18446744073709551615]}'
    small["full_gap"] = full + b',"QUI=":[260,"AB",1]}'
    for name, data in small.items():
        write("model_load", name + ".json", data)


def seeds_encode():
    clear("encode")
    for i, t in enumerate(text_inputs()):
        write("encode", "%02d" % i, t)


def seeds_nfc():
    clear("nfc")
    for i, t in enumerate(text_inputs()):
        write("nfc", "%02d" % i, t)
    for i, t in enumerate(["\u0958", "\u1100\u1161", "\u0041\u030a", "\u2126", "\u0344", "\uf900", "\U0001d15e"]):
        write("nfc", "decomp_%d" % i, unicodedata.normalize("NFD", t).encode() + b"\n" + t.encode())


def seeds_sample():
    clear("sample")
    alphas = [0, 1, 3, 25, 50, 128, 250, 251, 252, 253, 254, 255]
    for i, t in enumerate(text_inputs()):
        a = alphas[i % len(alphas)]
        write("sample", "%02d" % i, bytes([a]) + struct.pack(">Q", rng.getrandbits(64)) + t)


def seeds_decode():
    clear("decode")
    for i in range(30):
        fold = i % 3 != 0
        n = rng.randrange(0, 40)
        if fold:
            ids = [rng.randrange(0, 320) for _ in range(n)]
        else:
            ids = [rng.choice([0, 1, 2, 3, 100, 258, 290, 291, 300, 2**31, 2**32 - 1]) for _ in range(n)]
        write("decode", "%02d" % i, bytes([1 if fold else 0]) + b"".join(struct.pack("<I", x) for x in ids))


def seeds_trainer():
    clear("trainer")
    texts = [t.encode() for t in TEXTS if t] + BAD_BYTES
    for i in range(30):
        opts = bytes([rng.getrandbits(8), rng.getrandbits(8), rng.getrandbits(8)])
        parts = [rng.choice(texts) * rng.randrange(1, 4) for _ in range(rng.randrange(1, 5))]
        write("trainer", "%02d" % i, opts + b"\xff".join(parts))


if __name__ == "__main__":
    seeds_model_load()
    seeds_encode()
    seeds_nfc()
    seeds_sample()
    seeds_decode()
    seeds_trainer()
