"""bytepiece_cpp: byte-level unigram tokenization at C++ speed, a drop-in for ``bytepiece``.

``import bytepiece_cpp as bytepiece`` runs scripts written for the reference package
(``Tokenizer``, ``Trainer``, ``normalize``, ``convert_to_bytepiece``) with the same ids,
pieces, decoded text, exceptions and trained files.
"""

from ._core import *  # noqa: F401,F403
from ._core import library_version as __version__  # noqa: F401
