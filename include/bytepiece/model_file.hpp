// SPDX-License-Identifier: Apache-2.0
//
// What kind of model file this is, told by its content and never by its name: BytePiece's
// JSON, BytePiece's binary format, a SentencePiece `.model` or a Hugging Face
// `tokenizer.json`. A program that accepts several formats (the `bytepiece` tool does) decides
// with this which loader to call, so that each loader's errors are about its own format.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

#include "bytepiece/detail/binary_model.hpp"
#include "bytepiece/detail/file.hpp"
#include "bytepiece/detail/model_format.hpp"
#include "bytepiece/errors.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// The model file formats this library can tell apart.
enum class model_file_format {
    bytepiece_json,    ///< BytePiece's JSON (`bytepiece::model::load`)
    bytepiece_binary,  ///< the binary format `tokenizer::save_binary` writes
    sentencepiece,     ///< a SentencePiece `.model` (a protobuf ModelProto)
    huggingface,       ///< a Hugging Face tokenizers `tokenizer.json`
    unknown,           ///< none of these (an archive, a web page, an empty file, ...)
};

/// How many leading bytes `detect_model_file_format` reads. A SentencePiece file is
/// recognized by its first complete vocabulary entry, a few bytes long in every real file.
inline constexpr std::size_t model_file_sniff_size = 4096;

/// A short name of `f` for messages: "BytePiece JSON", "SentencePiece", ...
///
/// Example: `std::cout << bytepiece::model_file_format_name(f);`
inline constexpr std::string_view model_file_format_name(model_file_format f) noexcept {
    switch (f) {
        case model_file_format::bytepiece_json: return "BytePiece JSON";
        case model_file_format::bytepiece_binary: return "BytePiece binary";
        case model_file_format::sentencepiece: return "SentencePiece";
        case model_file_format::huggingface: return "Hugging Face tokenizer.json";
        case model_file_format::unknown: break;
    }
    return "unknown";
}

/// The format of a model file whose first bytes (at least `model_file_sniff_size` of them, or
/// the whole file if shorter) are `first_bytes`. Only the content counts. A JSON document that
/// is not a Hugging Face file counts as BytePiece JSON even when it is broken, so that the
/// JSON loader, not this guess, explains what is wrong with it.
///
/// (Not an overload of `detect_model_file_format`: a `std::string` of bytes must never be
/// taken for a path, nor a string literal be ambiguous.)
///
/// Example: `if (model_file_format_of_bytes(bytes) == model_file_format::sentencepiece) ...`
inline model_file_format model_file_format_of_bytes(std::string_view first_bytes) noexcept {
    if (detail::binary_format::has_magic(first_bytes)) return model_file_format::bytepiece_binary;
    // The same rules the BytePiece loaders use to refuse these files, so that the two can
    // never disagree about what a file is.
    if (detail::model_format::is_sentencepiece(first_bytes)) return model_file_format::sentencepiece;
    if (detail::model_format::is_huggingface(first_bytes)) return model_file_format::huggingface;
    std::size_t p = 0;
    while (p < first_bytes.size() &&
           (first_bytes[p] == ' ' || first_bytes[p] == '\n' || first_bytes[p] == '\r' || first_bytes[p] == '\t'))
        ++p;
    if (p < first_bytes.size() && first_bytes[p] == '{') return model_file_format::bytepiece_json;
    return model_file_format::unknown;
}

/// The format of the file at `path`, from its first `model_file_sniff_size` bytes. Throws
/// `io_error` naming the file when it cannot be opened or read. A pipe loses what is read
/// here: read such a file whole and call `model_file_format_of_bytes`.
///
/// Example: `auto f = bytepiece::detect_model_file_format("albert-30k-clean.model");`
inline model_file_format detect_model_file_format(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) BYTEPIECE_THROW(io_error(errc::io_open, path + ": cannot open: " + detail::errno_text(errno)));
    std::string head(model_file_sniff_size, '\0');
    head.resize(std::fread(&head[0], 1, head.size(), f));
    const bool failed = std::ferror(f) != 0;
    const int e = errno;
    std::fclose(f);
    if (failed) BYTEPIECE_THROW(io_error(errc::io_read, path + ": read failed: " + detail::errno_text(e)));
    return model_file_format_of_bytes(head);
}

BYTEPIECE_NAMESPACE_END
