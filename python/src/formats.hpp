// SPDX-License-Identifier: Apache-2.0
// The C++ objects behind bytepiece_cpp.SentencePieceTokenizer and HFTokenizer, shared by the
// binding files that add methods to those classes (formats.cpp, serving.cpp).
#pragma once

#include <string>
#include <utility>

#include "bytepiece/hf_tokenizer.hpp"
#include "bytepiece/sentencepiece_tokenizer.hpp"

namespace bytepiece_py {

// The original bytes are kept for pickling: a copy is then the same model, bit for bit.
struct sp_tokenizer {
    std::string bytes;
    bytepiece::sentencepiece_tokenizer tok;

    sp_tokenizer(std::string data, const std::string& source)
        : bytes(std::move(data)), tok(bytepiece::sentencepiece_model::parse(bytes, source), source) {}
};

struct hf_tokenizer {
    std::string json;
    bytepiece::hf_tokenizer tok;

    hf_tokenizer(std::string text, const std::string& source)
        : json(std::move(text)), tok(bytepiece::hf_tokenizer::from_json(json, source)) {}
};

}  // namespace bytepiece_py
