// SPDX-License-Identifier: Apache-2.0
// Recognizes files that are often taken for a BytePiece model but are something else, so that
// loading one names what it is instead of a JSON parser's complaint about its first byte.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// What a file is, for an error message: `what` completes "this is ...", `hint` says what to do.
struct foreign_format {
    std::string_view what;
    std::string_view hint;
};

namespace model_format {

inline bool starts_with(std::string_view data, std::string_view prefix) noexcept {
    return data.size() >= prefix.size() && std::memcmp(data.data(), prefix.data(), prefix.size()) == 0;
}

// A protobuf varint at `p`, or false when it is cut off or longer than 10 bytes.
inline bool read_varint(std::string_view data, std::size_t& p, unsigned long long& v) noexcept {
    v = 0;
    for (int shift = 0; shift < 70 && p < data.size(); shift += 7) {
        const auto b = static_cast<unsigned char>(data[p++]);
        if (shift < 64) v |= static_cast<unsigned long long>(b & 0x7F) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

// A SentencePiece ModelProto starts with its first piece (field 1), a SentencePiece message of
// a string (field 1), a float score (field 2) and a type (field 3). Requiring the score's tag
// byte 0x15 makes the rule safe: a control character like it can never occur in JSON, so no
// BytePiece model (which may itself begin with a newline, 0x0A) is ever taken for one.
inline bool is_sentencepiece(std::string_view data) noexcept {
    std::size_t p = 0;
    unsigned long long length = 0;
    if (data.empty() || data[p++] != '\x0A' || !read_varint(data, p, length) || length == 0 || length > data.size() - p)
        return false;
    const std::size_t end = p + static_cast<std::size_t>(length);
    bool piece = false, score = false;
    while (p < end) {
        const char tag = data[p++];
        unsigned long long v = 0;
        if (tag == '\x0A') {  // piece: length-delimited bytes
            if (!read_varint(data, p, v) || v > end - p) return false;
            p += static_cast<std::size_t>(v);
            piece = true;
        } else if (tag == '\x15') {  // score: 4-byte float
            if (end - p < 4) return false;
            p += 4;
            score = true;
        } else if (tag == '\x18') {  // type: varint
            if (!read_varint(data, p, v) || p > end) return false;
        } else {
            return false;
        }
    }
    return piece && score;
}

// A Hugging Face tokenizer.json is a JSON object whose keys are names like "version" and
// "model". None of them is base64 (wrong length or a '_'), so a BytePiece model, whose keys
// all are, never starts with one.
inline bool is_huggingface(std::string_view data) noexcept {
    std::size_t p = 0;
    auto skip_space = [&] {
        while (p < data.size() && (data[p] == ' ' || data[p] == '\n' || data[p] == '\r' || data[p] == '\t')) ++p;
    };
    skip_space();
    if (p == data.size() || data[p++] != '{') return false;
    skip_space();
    if (p == data.size() || data[p++] != '"') return false;
    const std::size_t close = data.find('"', p);
    if (close == std::string_view::npos) return false;
    const std::string_view key = data.substr(p, close - p);
    for (std::string_view name : {"version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer",
                                  "post_processor", "decoder", "model"})
        if (key == name) return true;
    return false;
}

}  // namespace model_format

/// If `data` (a whole file's bytes) is in a known format that is not a BytePiece model, what it
/// is; otherwise `what` is empty. Only formats that no BytePiece model (JSON or binary) can
/// start like are recognized, so a real model is never refused.
///
/// Example: `if (auto f = detail::sniff_foreign_format(bytes); !f.what.empty()) report(f.what);`
inline foreign_format sniff_foreign_format(std::string_view data) noexcept {
    using model_format::starts_with;
    if (starts_with(data, "PK\x03\x04") || starts_with(data, "PK\x05\x06"))
        return {"a zip archive", "the released BytePiece models are zipped: unzip it and use the .model file inside"};
    if (starts_with(data, "\x1F\x8B")) return {"a gzip-compressed file", "decompress it first with gunzip"};
    if (starts_with(data, "BZh")) return {"a bzip2-compressed file", "decompress it first with bunzip2"};
    if (starts_with(data, std::string_view("\xFD" "7zXZ\0", 6))) return {"an xz-compressed file", "decompress it first with unxz"};
    if (starts_with(data, "\x28\xB5\x2F\xFD")) return {"a zstd-compressed file", "decompress it first with unzstd"};
    if (starts_with(data, "version https://git-lfs.github.com/spec/"))
        return {"a Git LFS pointer, not the file it stands for", "fetch the real file with git lfs pull"};
    if (model_format::is_sentencepiece(data))
        return {"a SentencePiece model",
                "load it with bytepiece::sentencepiece_tokenizer::load; the bytepiece command reads it as it is"};
    if (model_format::is_huggingface(data))
        return {"a Hugging Face tokenizers file (tokenizer.json)",
                "bytepiece reads BytePiece's JSON models and the binary ones 'bytepiece convert' writes"};
    std::size_t p = 0;
    while (p < data.size() && (data[p] == ' ' || data[p] == '\n' || data[p] == '\r' || data[p] == '\t')) ++p;
    if (p < data.size() && data[p] == '<')
        return {"an HTML or XML document", "a download may have fetched a web page instead of the model"};
    return {};
}

}  // namespace detail
BYTEPIECE_NAMESPACE_END
