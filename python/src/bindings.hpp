// SPDX-License-Identifier: Apache-2.0
// Shared declarations of the bytepiece_cpp._core binding files: one function per file binds its
// part of the module, and the helpers below convert Python text and map errors the same way
// everywhere.
#pragma once

#include <pybind11/pybind11.h>

#include <exception>
#include <string>
#include <string_view>

namespace bytepiece_py {

namespace py = pybind11;

/// The exception classes (bytepiece_cpp.Error and its subclasses) and the translator that turns
/// a C++ `bytepiece::error` into one of them, keeping the stable id ("model.20") in `.id`.
void bind_errors(py::module_& m);
/// Tokenizer and Sampler.
void bind_tokenizer(py::module_& m);
/// SentencePieceTokenizer, HFTokenizer and load().
void bind_formats(py::module_& m);
/// The serving features: TokenHealer, special tokens, DecodeStream, encode_for_model,
/// encode_with_offsets (after bind_tokenizer and bind_formats: it adds to their classes).
void bind_serving(py::module_& m);
/// Trainer.
void bind_trainer(py::module_& m);
/// The steps of sharded training (_count_ngrams, _merge_count_files, ...), for
/// bytepiece_cpp.shards and bytepiece_cpp.dask.
void bind_shards(py::module_& m);
/// Module-level functions of the reference: normalize, convert_to_bytepiece.
void bind_functions(py::module_& m);

/// The UTF-8 bytes of a `str`, without a copy: the view lives as long as `text` (Python caches
/// the UTF-8 form in the object). Raises TypeError for anything but `str` (the reference
/// refuses bytes in `tokenize` with TypeError) and UnicodeEncodeError for lone surrogates.
std::string_view utf8_view(py::handle text, const char* what = "text");

/// Sets the Python error for an exception caught in code that pybind11 does not wrap (a raw
/// CPython method): bytepiece errors as bind_errors maps them, py::error_already_set restored,
/// other C++ exceptions as pybind11 would translate them.
void set_python_error(std::exception_ptr e);

/// The bytes of a `bytes` object, without a copy (valid as long as `data` lives). Raises
/// TypeError otherwise.
std::string_view bytes_view(py::handle data, const char* what = "data");

/// The exception class bytepiece_cpp.<name> made by bind_errors ("Error", "ModelError",
/// "FileError", "DecodeError", "ArgumentError", "TrainError"), for raising from binding code.
py::handle error_class(const char* name);

/// Raises bytepiece_cpp.<cls>(message) with `.id` set to `id` (no C++ error involved), e.g. a
/// KeyError-derived DecodeError for an unknown piece: sets the Python error and throws
/// py::error_already_set.
[[noreturn]] void raise_error(const char* cls, const char* id, const std::string& message);

}  // namespace bytepiece_py
