"""Tokenizer.convert_to_sentencepiece writes what the reference writes (spec: <unk>, <s>, </s> at
0..2, every piece at its id with its score, spaces as U+2581, single bytes whose repr is not
b'x' as BYTE pieces, printable ASCII bytes with an extra BYTE piece of score -100 at the end,
byte fallback, identity normalizer), read back by SentencePiece itself."""

import struct

import pytest

import bytepiece_cpp
from conftest import model_path


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def test_sentencepiece_reads_the_export(shared_dir, tmp_path):
    spm = pytest.importorskip("sentencepiece")
    tok = bytepiece_cpp.Tokenizer(str(model_path(shared_dir, "bytepiece.eu.plus.40k")))
    path = tmp_path / "export.model"
    tok.convert_to_sentencepiece(str(path))
    sp = spm.SentencePieceProcessor(model_file=str(path))
    printable = [b for b in range(256) if len(str(bytes([b]))) == 4]
    assert len(printable) == 94  # 0x20-0x7E but the backslash
    assert sp.get_piece_size() == tok.vocab_size + len(printable)
    assert [sp.id_to_piece(i) for i in range(3)] == ["<unk>", "<s>", "</s>"]
    assert sp.is_unknown(0) and sp.is_control(1) and sp.is_control(2)
    for i in range(3, tok.vocab_size):
        p = tok.id_to_piece(i)
        if len(p) == 1 and p[0] not in printable:
            assert sp.id_to_piece(i) == "<0x{:02X}>".format(p[0])
            assert sp.is_byte(i)
        else:
            assert sp.id_to_piece(i) == p.decode().replace(" ", "\u2581")
            assert not sp.is_byte(i)
        assert sp.get_score(i) == f32(tok.piece_score(i))
    for k, b in enumerate(printable):
        i = tok.vocab_size + k
        assert sp.id_to_piece(i) == "<0x{:02X}>".format(b) and sp.is_byte(i) and sp.get_score(i) == -100.0
    # Identity normalizer, no dummy prefix: text without spaces comes back as the same pieces.
    assert "".join(sp.encode("abc", out_type=str)) == "abc"
    # The library's own SentencePiece reader accepts it too.
    assert bytepiece_cpp.load(path).vocab_size == sp.get_piece_size()


def test_non_utf8_pieces_raise_unicode_decode_error(shared_dir, tmp_path):
    tok = bytepiece_cpp.Tokenizer(str(model_path(shared_dir, "bytepiece.plus.40k")))
    if all(len(tok.id_to_piece(i)) == 1 or _utf8(tok.id_to_piece(i)) for i in range(3, tok.vocab_size)):
        pytest.skip("this model has no non-UTF-8 multi-byte piece")
    path = tmp_path / "export.model"
    with pytest.raises(UnicodeDecodeError):
        tok.convert_to_sentencepiece(str(path))
    assert not path.exists()


def _utf8(b):
    try:
        b.decode()
        return True
    except UnicodeDecodeError:
        return False
