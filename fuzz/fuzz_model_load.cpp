// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes as a model file: from_json either returns a model or throws bytepiece::error.
// A model that loads builds a tokenizer, encodes a fixed text whose ids decode back to it, and
// saves to JSON that loads back to the same JSON.
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view json(reinterpret_cast<const char*>(data), size);
    bytepiece::model m;
    try {
        m = bytepiece::model::from_json(json, "fuzz.model");
    } catch (const bytepiece::model_error& e) {
        const std::string what = e.what();
        FUZZ_CHECK_MSG(what.rfind("[bytepiece.model.", 0) == 0, what);
        FUZZ_CHECK_MSG(what.find("fuzz.model") != std::string::npos, what);
        return 0;
    }
    // from_json requires all 256 single bytes, so a tokenizer always builds.
    FUZZ_CHECK(m.piece_count() >= 256);
    FUZZ_CHECK(m.vocab_size() == m.piece_count() + 3);
    std::uint64_t total = 0;
    for (std::size_t id = 3; id < m.vocab_size(); ++id) {
        const auto i = static_cast<bytepiece::model::id_type>(id);
        FUZZ_CHECK(!m.piece(i).empty());
        FUZZ_CHECK(m.count(i) > 0);
        FUZZ_CHECK(m.score(i) <= 0.0);
        total += m.count(i);
    }
    FUZZ_CHECK(total == m.total_count());

    const bytepiece::tokenizer tok(m);
    static const std::string text = "Hello, w\xc3\xb6rld! \xe4\xb8\xad\xe6\x96\x87 123\n\n\x00\xff tail";
    const auto ids = tok.encode(text);
    for (auto id : ids) FUZZ_CHECK(id >= 3 && id < tok.vocab_size());
    FUZZ_CHECK(tok.decode_bytes(ids.data(), ids.size()) == bytepiece::nfc(text));
    bytepiece::encode_options raw;
    raw.normalize = false;
    std::vector<std::uint32_t> raw_ids;
    tok.encode(json.substr(0, 256), raw_ids, raw);
    FUZZ_CHECK(tok.decode_bytes(raw_ids.data(), raw_ids.size()) == json.substr(0, 256));

    const std::string saved = m.to_json();
    const auto again = bytepiece::model::from_json(saved, "saved");
    FUZZ_CHECK(again.to_json() == saved);
    FUZZ_CHECK(again.vocab_size() == m.vocab_size());
    for (std::size_t id = 3; id < m.vocab_size(); ++id) {
        const auto i = static_cast<bytepiece::model::id_type>(id);
        FUZZ_CHECK(again.piece(i) == m.piece(i) && again.count(i) == m.count(i) && again.score(i) == m.score(i));
    }
    return 0;
}
