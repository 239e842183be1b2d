// SPDX-License-Identifier: Apache-2.0
// Arbitrary id sequences (4 bytes each, little-endian; sometimes folded into the vocabulary)
// decode to text or throw decode_error naming the first bad id, and nothing else.
#include "fuzz_common.hpp"

namespace {

const bytepiece::tokenizer& tok() {
    static const bytepiece::tokenizer t{fuzz::small_model()};
    return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const bytepiece::tokenizer& t = tok();
    if (size == 0) return 0;
    const bool fold = data[0] & 1;  // fold ids into range, so most inputs decode
    std::vector<std::uint32_t> ids;
    for (std::size_t i = 1; i + 4 <= size; i += 4) {
        std::uint32_t v = std::uint32_t(data[i]) | std::uint32_t(data[i + 1]) << 8 | std::uint32_t(data[i + 2]) << 16 |
                          std::uint32_t(data[i + 3]) << 24;
        if (fold) v %= static_cast<std::uint32_t>(t.vocab_size() + 2);
        ids.push_back(v);
    }
    std::size_t first_bad = ids.size();
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (ids[i] >= t.vocab_size()) {
            first_bad = i;
            break;
        }
    std::string bytes, text;
    try {
        bytes = t.decode_bytes(ids.data(), ids.size());
        FUZZ_CHECK(first_bad == ids.size());
    } catch (const bytepiece::decode_error& e) {
        FUZZ_CHECK(first_bad < ids.size());
        FUZZ_CHECK(e.code() == bytepiece::errc::decode_bad_id);
        const std::string what = e.what();
        FUZZ_CHECK_MSG(what.find("id " + std::to_string(ids[first_bad]) + " at position " + std::to_string(first_bad)) !=
                           std::string::npos, what);
    }
    try {
        text = t.decode(ids);
        FUZZ_CHECK(first_bad == ids.size());
        // decode = decode_bytes minus the bytes that are not valid UTF-8.
        std::string valid;
        bytepiece::detail::utf8::append_valid(bytes, valid);
        FUZZ_CHECK(text == valid);
        FUZZ_CHECK(fuzz::is_valid_utf8(text));
        std::string expected;
        for (auto id : ids)
            if (id >= 3) expected += t.id_to_piece(id);
        FUZZ_CHECK(expected == bytes);
        // Raw re-encoding of the bytes spells them again.
        bytepiece::encode_options raw;
        raw.normalize = false;
        std::vector<std::uint32_t> again;
        t.encode(bytes, again, raw);
        FUZZ_CHECK(t.decode_bytes(again.data(), again.size()) == bytes);
    } catch (const bytepiece::decode_error&) {
        FUZZ_CHECK(first_bad < ids.size());
    }
    for (auto id : ids) {
        try {
            (void)t.id_to_piece(id);
            FUZZ_CHECK(id < t.vocab_size());
        } catch (const bytepiece::decode_error&) {
            FUZZ_CHECK(id >= t.vocab_size());
        }
    }
    return 0;
}
