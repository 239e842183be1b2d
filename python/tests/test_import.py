"""The package imports, and its Tokenizer encodes with a released model."""

import bytepiece_cpp


def test_version_is_the_library_version():
    assert isinstance(bytepiece_cpp.__version__, str)
    assert bytepiece_cpp.__version__.count(".") == 2


def test_error_classes_derive_from_the_builtins():
    assert issubclass(bytepiece_cpp.DecodeError, KeyError)
    assert issubclass(bytepiece_cpp.ModelError, ValueError)
    assert issubclass(bytepiece_cpp.FileError, OSError)
    assert issubclass(bytepiece_cpp.ModelError, bytepiece_cpp.Error)


def test_encode_spells_the_text(tokenizer):
    ids = tokenizer.encode("Hello, world!\n")
    assert ids and all(isinstance(i, int) and i >= 3 for i in ids)
