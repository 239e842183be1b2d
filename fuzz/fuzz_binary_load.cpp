// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes as a binary model. The checksum is recomputed first (when the input is long
// enough to hold one), or nearly every input would stop there and the section checks behind it
// would go unexplored. from_binary either gives a tokenizer or throws a model_error naming the
// source; a tokenizer encodes a fixed text back to its NFC and raw bytes back to themselves,
// and writes the very image it was read from (a loaded file is canonical).
#include <bytepiece/detail/binary_model.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace bf = bytepiece::detail::binary_format;
    std::string image(reinterpret_cast<const char*>(data), size);
    if (image.size() >= bf::header_bytes) bf::store<std::uint64_t>(&image[8], bf::checksum(image));
    std::optional<bytepiece::tokenizer> tok;
    try {
        tok.emplace(bytepiece::tokenizer::from_binary(image, "fuzz.bpm"));
    } catch (const bytepiece::model_error& e) {
        const std::string what = e.what();
        FUZZ_CHECK_MSG(what.rfind("[bytepiece.model.", 0) == 0, what);
        FUZZ_CHECK_MSG(what.find("fuzz.bpm") != std::string::npos, what);
        return 0;
    }
    FUZZ_CHECK(tok->vocab_size() >= 259);
    FUZZ_CHECK(tok->to_binary() == image);
    static const std::string text = "Hello, w\xc3\xb6rld! \xe4\xb8\xad\xe6\x96\x87 123\n\n\x00\xff tail";
    const auto ids = tok->encode(text);
    for (auto id : ids) FUZZ_CHECK(id >= 3 && id < tok->vocab_size());
    FUZZ_CHECK(tok->decode_bytes(ids.data(), ids.size()) == bytepiece::nfc(text));
    bytepiece::encode_options raw;
    raw.normalize = false;
    std::vector<std::uint32_t> raw_ids;
    const std::string_view head = std::string_view(image).substr(0, 512);
    tok->encode(head, raw_ids, raw);
    FUZZ_CHECK(tok->decode_bytes(raw_ids.data(), raw_ids.size()) == head);
    // The model inside is the one JSON would give: it saves and loads back to the same ids.
    const bytepiece::tokenizer again(bytepiece::model::from_json(tok->model().to_json(), "saved"));
    FUZZ_CHECK(again.encode(text) == ids);
    FUZZ_CHECK(again.to_binary().size() > 0);
    return 0;
}
