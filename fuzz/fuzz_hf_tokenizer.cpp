// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes as a Hugging Face tokenizer.json: hf_tokenizer::from_json either loads it or
// throws model_error with one of the tokenizer.json ids (or model_too_large), naming the source.
// A file that loads encodes a few texts (with and without special tokens) and decodes the ids
// back, throwing nothing but the documented argument_error / decode_error.
#include "fuzz_common.hpp"

#include <bytepiece/hf_tokenizer.hpp>

#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    std::optional<bytepiece::hf_tokenizer> tok;
    try {
        tok.emplace(bytepiece::hf_tokenizer::from_json(bytes, "fuzz.json"));
    } catch (const bytepiece::model_error& e) {
        const std::string what = e.what();
        FUZZ_CHECK_MSG(what.find("fuzz.json: ") != std::string::npos, what);
        const auto code = e.code();
        FUZZ_CHECK_MSG(code == bytepiece::errc::model_hf_malformed || code == bytepiece::errc::model_hf_unsupported ||
                           code == bytepiece::errc::model_hf_invalid || code == bytepiece::errc::model_not_unigram ||
                           code == bytepiece::errc::model_too_large,
                       what);
        return 0;
    }
    static const char* const texts[] = {"", "Hello  world! [MASK] </s> <unk>", "\xE2\x96\x81x \xF0\xA0\x80\x80 e\xCC\x81",
                                        "a\tb\nc", "<0x41>"};
    for (const char* text : texts) {
        for (const bool special : {false, true}) {
            std::vector<std::uint32_t> ids;
            try {
                ids = tok->encode(text, special);
            } catch (const bytepiece::argument_error& e) {
                FUZZ_CHECK_MSG(e.code() == bytepiece::errc::encode_no_unknown, e.what());
                continue;
            }
            (void)tok->tokenize(text, special);
            try {
                (void)tok->decode(ids, special);
            } catch (const bytepiece::decode_error&) {
                // Ids the post-processor adds may lie outside the vocabulary; a Strip decoder
                // may fail where HF does.
            }
        }
    }
    return 0;
}
