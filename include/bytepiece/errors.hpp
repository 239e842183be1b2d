// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "bytepiece/version.hpp"

// Users who build without exceptions, or who want to route errors through their own
// machinery, can define BYTEPIECE_THROW_USER(exception) before including any header.
#ifndef BYTEPIECE_THROW_USER
#define BYTEPIECE_THROW(exception) throw exception
#else
#define BYTEPIECE_THROW(exception) BYTEPIECE_THROW_USER(exception)
#endif

BYTEPIECE_NAMESPACE_BEGIN

/// Stable error identifiers. Each appears in the exception message as
/// `[bytepiece.<category>.<number>]`, so scripts and users can match on it; numbers are never
/// reused for a different meaning.
enum class errc : int {
    // model_error: a model file or model data is not acceptable.
    model_not_json = 101,          ///< the file is not valid JSON
    model_bad_shape = 102,         ///< JSON is valid but not `{base64: [id, text, count]}`
    model_bad_base64 = 103,        ///< a key is not canonical standard base64
    model_duplicate_piece = 104,   ///< two keys decode to the same bytes
    model_duplicate_id = 105,      ///< two pieces share an id
    model_bad_ids = 106,           ///< ids are not exactly 3 .. N+2
    model_bad_count = 107,         ///< a count is not a positive integer (or overflows)
    model_missing_byte = 108,      ///< one of the 256 single-byte pieces is absent
    model_empty = 109,             ///< the model holds no pieces
    model_empty_piece = 110,       ///< a key decodes to the empty string
    model_too_large = 111,         ///< more pieces than the id type can number
    model_binary_version = 112,    ///< a binary model of a format version this library does not read
    model_binary_damaged = 113,    ///< a binary model whose size or checksum is not the one written
    model_binary_invalid = 114,    ///< a binary model whose checksum holds but whose sections disagree
    model_wrong_format = 115,      ///< the file is something else (a SentencePiece model, a zip, ...)
    model_proto_malformed = 117,   ///< a SentencePiece .model file whose protobuf bytes are cut off or garbage
    model_not_unigram = 118,       ///< a model of another type (SentencePiece BPE, WORD, CHAR; HF BPE, WordPiece, WordLevel)
    model_sentencepiece_invalid = 119,  ///< a SentencePiece model that fails one of SentencePiece's load checks
    model_hf_malformed = 120,      ///< a tokenizer.json that is not JSON, or a key of the wrong type or shape
    model_hf_unsupported = 121,    ///< a tokenizer.json component, option or regular expression this library does not implement
    model_hf_invalid = 122,        ///< a tokenizer.json that HF tokenizers itself refuses to load (unk_id outside the vocab, ...)
    // io_error: the file system said no.
    io_open = 201,   ///< a file could not be opened
    io_read = 202,   ///< reading failed part way
    io_write = 203,  ///< writing or renaming failed
    io_changed = 204,  ///< a file read twice was not the same the second time
    // decode_error: ids that do not belong to the model.
    decode_bad_id = 301,  ///< an id outside [0, vocab_size)
    // argument_error: a caller passed a value outside the documented domain.
    invalid_argument = 401,  ///< an argument outside its documented domain
    encode_no_unknown = 402,  ///< a text needs an unknown token and the model has none (HF unk_id null)
    heal_undefined = 410,     ///< token healing is not defined for this prompt and model (token_healing.hpp)
    special_disallowed = 420,  ///< a text holds a special token the call does not allow (disallowed_special::raise)
    special_invalid = 421,     ///< a special token list that cannot be used (empty, duplicate, invalid UTF-8)
    batch_bad_option = 422,    ///< batch options that cannot be met (max length 0, fixed length below the longest row)
    // train_error: the trainer cannot produce a model from what it was given.
    train_empty_corpus = 501,   ///< the corpus holds no text
    train_bad_option = 502,     ///< an option outside its documented range
    train_threads = 503,        ///< worker threads could not be started
    // train_error, count files of sharded training (train_counts.hpp, docs/count_files.md):
    count_file_not_counts = 510,  ///< the file is not a count file (its first bytes are not the magic)
    count_file_version = 511,     ///< a count file of a format version this library does not read
    count_file_truncated = 512,   ///< a count file cut short (no end mark: not completely written, or cut off)
    count_file_damaged = 513,     ///< a count file whose length or checksum is not the one written
    count_file_invalid = 514,     ///< a count file whose checksum holds but whose content is malformed
    count_file_wrong_kind = 515,  ///< a count file of another kind than the step needs (pieces where n-grams are wanted, ...)
    count_file_mismatch = 516,    ///< count files, or a count file and the trainer, from other options or another pruned model
    count_overflow = 517,         ///< adding counts up would exceed 2^64 - 1
};

/// The category word used in error messages, `model` for 101..199 and so on.
inline constexpr std::string_view errc_category(errc code) noexcept {
    switch (static_cast<int>(code) / 100) {
        case 1: return "model";
        case 2: return "io";
        case 3: return "decode";
        case 4: return "argument";
        case 5: return "train";
        default: return "unknown";
    }
}

/// Base of every exception the library throws. `code()` is the stable identifier; `what()`
/// reads `[bytepiece.<category>.<number>] <context>: <detail>`, where the context names the
/// file, key, id or option at fault.
class error : public std::runtime_error {
public:
    error(errc code, const std::string& message)
        : std::runtime_error(format(code, message)), code_(code) {}

    /// The stable identifier of this error.
    errc code() const noexcept { return code_; }

private:
    static std::string format(errc code, const std::string& message) {
        std::string s = "[bytepiece.";
        s += errc_category(code);
        s += '.';
        s += std::to_string(static_cast<int>(code) % 100);
        s += "] ";
        s += message;
        return s;
    }
    errc code_;
};

/// A model file or in-memory model is malformed; the message names the source and the key or id.
class model_error : public error {
public:
    using error::error;
};

/// A file could not be opened, read or written; the message names the path and the cause.
class io_error : public error {
public:
    using error::error;
};

/// A sequence of ids cannot be decoded with this model (an id out of range).
class decode_error : public error {
public:
    using error::error;
};

/// An argument lies outside the documented domain (for example a negative or NaN alpha).
class argument_error : public error {
public:
    using error::error;
};

/// The trainer was given an unusable corpus or option.
class train_error : public error {
public:
    using error::error;
};

BYTEPIECE_NAMESPACE_END
