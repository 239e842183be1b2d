"""Tokenizer.convert_to_sentencepiece: the reference's SentencePiece export, written without protobuf.

The reference builds a ModelProto with sentencepiece's generated protobuf classes and writes
``SerializeToString()``. Protobuf writes the fields that were set, in field-number order, so the
same bytes come out of this small writer: every piece (field 1: piece, score and, unless NORMAL,
type), then the TrainerSpec and NormalizerSpec with exactly the fields the reference sets.
"""

import os
import re
import struct

_NORMAL, _UNKNOWN, _CONTROL, _BYTE = 1, 2, 3, 6


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field, wire):
    return _varint(field << 3 | wire)


def _len_field(field, payload):
    return _key(field, 2) + _varint(len(payload)) + payload


def _piece(text, score, kind):
    body = _len_field(1, text.encode("utf-8")) + _key(2, 5) + struct.pack("<f", score)
    if kind != _NORMAL:
        body += _key(3, 0) + _varint(kind)
    return _len_field(1, body)


def _bool_field(field, value):
    return _key(field, 0) + _varint(1 if value else 0)


def convert_to_sentencepiece(tokenizer, path):
    """Writes ``tokenizer`` as the reference's ``convert_to_sentencepiece(path)`` does."""
    pieces = [_piece("<unk>", 0.0, _UNKNOWN), _piece("<s>", 0.0, _CONTROL), _piece("</s>", 0.0, _CONTROL)]
    extra = []
    for i in range(3, tokenizer.vocab_size):
        p = tokenizer.id_to_piece(i)
        score = tokenizer.piece_score(i)
        # The reference's test: a piece longer than one byte, or one byte whose repr is b'x'
        # (printable ASCII but the backslash), is written as text.
        if len(p) > 1 or len(str(p)) == 4:
            if len(p) == 1:
                extra.append(_piece("<0x{:02X}>".format(p[0]), -100.0, _BYTE))
            pieces.append(_piece(re.sub(" ", "\u2581", p.decode()), score, _NORMAL))
        else:
            pieces.append(_piece("<0x{:02X}>".format(p[0]), score, _BYTE))
    pieces += extra
    # TrainerSpec: model_type (3) = UNIGRAM, vocab_size (4), split_by_unicode_script (21),
    # byte_fallback (35).
    trainer = (_key(3, 0) + _varint(1) + _key(4, 0) + _varint(len(pieces)) + _bool_field(21, False)
               + _bool_field(35, True))
    # NormalizerSpec: name (1), precompiled_charsmap (2), add_dummy_prefix (3),
    # remove_extra_whitespaces (4).
    normalizer = (_len_field(1, b"identity") + _len_field(2, b"") + _bool_field(3, False)
                  + _bool_field(4, False))
    data = b"".join(pieces) + _len_field(2, trainer) + _len_field(3, normalizer)
    with open(os.fspath(path), "wb") as f:
        f.write(data)
