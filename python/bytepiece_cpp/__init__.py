"""bytepiece_cpp: byte-level unigram tokenization at C++ speed, a drop-in for ``bytepiece``.

``import bytepiece_cpp as bytepiece`` runs scripts written for the reference package 0.6.3
(``Tokenizer``, ``Trainer``, ``normalize``, ``convert_to_bytepiece``) with the same ids, pieces
(``bytes``; the specials ``'<pad>'``, ``'<bos>'``, ``'<eos>'`` as ``str``), decoded text,
exception types and trained model files. Sampling (``alpha >= 0``) draws from the same
distribution as the reference, reproducibly from ``seed`` / ``set_seed``.

Beyond the reference: ``encode_batch`` / ``tokenize_batch`` / ``decode_batch`` on several threads
with the GIL released (lists, or NumPy arrays with ``numpy=True``), ``Sampler``, ``nbest``,
``entropy`` and the other lattice functions, the binary model format (``to_binary``,
``save_binary``), pickling, ``load(path)`` for every format the library reads
(``SentencePieceTokenizer``, ``HFTokenizer``), and errors (``Error`` and subclasses that also
derive from the builtin the reference raises) carrying the library's stable ``id``.

Serving: ``TokenHealer`` (token healing and prefix-constrained candidates, as lists or vocabulary
masks), special tokens on ``Tokenizer`` (``special_tokens``, ``encode_with_specials`` with
tiktoken-style ``allowed_special``), ``DecodeStream`` (incremental decoding), ``encode_for_model``
(truncation, padding, attention mask as NumPy arrays) and ``encode_with_offsets`` (byte ranges into
the original text) on every tokenizer class that supports them.

Thread safety: one tokenizer may be used by many threads at once.
"""

from ._core import *  # noqa: F401,F403
from ._core import library_version as __version__  # noqa: F401
