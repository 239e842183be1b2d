// SPDX-License-Identifier: Apache-2.0
// Special tokens in the binary model format: version 2 images carry them and load back exactly,
// a tokenizer without them still writes version 1 (what older readers read), and a damaged
// special tokens' section is refused with a typed error even when its checksum holds.
#include <bytepiece/detail/binary_model.hpp>
#include <bytepiece/special_tokens.hpp>

#include "test_support.hpp"

using bytepiece::errc;
namespace bf = bytepiece::detail::binary_format;

namespace {

void fix_checksum(std::string& image) { bf::store<std::uint64_t>(&image[8], bf::checksum(image)); }

bytepiece::model_error load_error(const std::string& image) {
    try {
        (void)bytepiece::tokenizer::from_binary(image, "specials.bpm");
    } catch (const bytepiece::model_error& e) {
        return e;
    }
    FAIL("the image loaded");
    return bytepiece::model_error(errc::model_empty, "");
}

bool same(const bytepiece::special_tokens& a, const bytepiece::special_tokens& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a.tokens()[i].content != b.tokens()[i].content || a.tokens()[i].id != b.tokens()[i].id) return false;
    return true;
}

}  // namespace

TEST_CASE("special tokens round trip through the binary format", "[special][binary]") {
    bytepiece::tokenizer tok(test_support::make_model({{"ab", 3}, {"abc", 2}}));
    const std::string plain = tok.to_binary();
    CHECK(bf::load<std::uint32_t>(plain.data() + 16) == 1u);  // no specials: version 1, as before

    bytepiece::special_tokens sp;
    sp.append({"<|endoftext|>", "<|im_start|>", "\xE4\xB8\xAD\xE6\x96\x87"}, tok.vocab_size());
    sp.add("<eos>", 2);
    tok.set_specials(sp);
    const std::string image = tok.to_binary();
    CHECK(bf::load<std::uint32_t>(image.data() + 16) == 2u);
    CHECK(image.compare(64, plain.size() - 64, plain, 64) == 0);  // the sections of version 1 are unchanged
    const auto back = bytepiece::tokenizer::from_binary(image, "specials.bpm");
    CHECK(same(back.specials(), sp));
    CHECK(back.to_binary() == image);
    CHECK(back.model().to_json() == tok.model().to_json());
    CHECK(bytepiece::encode_with_specials(back, "ab<|im_start|>abc", back.specials(), bytepiece::allowed_special::all()) ==
          bytepiece::encode_with_specials(tok, "ab<|im_start|>abc", tok.specials(), bytepiece::allowed_special::all()));

    const std::string path = test_support::scratch_path("specials.bpm");
    back.save_binary(path);
    CHECK(same(bytepiece::tokenizer::load(path).specials(), sp));
    // A version 1 image loads with no specials.
    CHECK(bytepiece::tokenizer::from_binary(plain).specials().empty());
}

TEST_CASE("a damaged special tokens' section is refused", "[special][binary][errors]") {
    bytepiece::tokenizer tok(test_support::make_model({{"ab", 3}}));
    bytepiece::special_tokens sp({{"<a>", 300}, {"<bb>", 301}});
    tok.set_specials(sp);
    const std::string image = tok.to_binary();
    const std::uint64_t s = bf::load<std::uint64_t>(image.data() + 56);
    REQUIRE(s == 8 + 16 + 3 + 4);
    const std::size_t at = image.size() - s;  // the section ends the file
    const auto expect = [&](std::string bad, errc code, const std::string& phrase) {
        fix_checksum(bad);
        const auto e = load_error(bad);
        INFO(e.what());
        CHECK(e.code() == code);
        CHECK(std::string(e.what()).find("specials.bpm") != std::string::npos);
        CHECK(std::string(e.what()).find(phrase) != std::string::npos);
    };
    std::string bad = image;
    bad[at + 8 + 16] = 'b';  // "<a>" -> "ba>", "<bb>" unchanged: still valid
    fix_checksum(bad);
    CHECK(*bytepiece::tokenizer::from_binary(bad).specials().id_of("ba>") == 300u);

    bad = image;
    bf::store<std::uint32_t>(&bad[at], 0);
    expect(bad, errc::model_binary_invalid, "count of 0");
    bad = image;
    bf::store<std::uint32_t>(&bad[at], 5);
    expect(bad, errc::model_binary_invalid, "count of 5");
    bad = image;
    bf::store<std::uint32_t>(&bad[at + 4], 1);
    expect(bad, errc::model_binary_invalid, "special tokens");
    bad = image;
    bf::store<std::uint32_t>(&bad[at + 12], 40);
    expect(bad, errc::model_binary_invalid, "run past");
    bad = image;
    bf::store<std::uint32_t>(&bad[at + 12], 2);
    expect(bad, errc::model_binary_invalid, "belong to no token");
    bad = image;
    bf::store<std::uint32_t>(&bad[at + 16], 300);  // two tokens with id 300
    expect(bad, errc::model_binary_invalid, "id 300");
    bad = image;
    bad[at + 8 + 16 + 3] = '<';
    bad[at + 8 + 16 + 4] = 'a';
    bad[at + 8 + 16 + 5] = '>';  // "<bb>" -> "<a>>": differs; make it repeat "<a>" by length
    bf::store<std::uint32_t>(&bad[at + 20], 3);
    bad.resize(bad.size() - 1);
    bf::store<std::uint64_t>(&bad[56], s - 1);
    bf::store<std::uint64_t>(&bad[24], bad.size());
    expect(bad, errc::model_binary_invalid, "given twice");
    bad = image;
    bad[at + 8 + 16] = static_cast<char>(0xC3);
    expect(bad, errc::model_binary_invalid, "UTF-8");
    bad = image;
    bad[at - 1] = 1;  // the padding before the section
    if (image[at - 1] == 0) expect(bad, errc::model_binary_invalid, "padding");
    // Version 2 needs a section; version 1 must not have one.
    bad = image;
    bf::store<std::uint32_t>(&bad[16], 1);
    expect(bad, errc::model_binary_invalid, "reserved word");
    bad = tok.to_binary();
    std::string v1 = bytepiece::tokenizer(tok.model()).to_binary();
    bf::store<std::uint32_t>(&v1[16], 2);
    expect(v1, errc::model_binary_invalid, "reserved word");
    // Damage without a fixed checksum is caught by the checksum, as everywhere.
    bad = image;
    bad[at + 9] = static_cast<char>(bad[at + 9] ^ 4);
    CHECK(load_error(bad).code() == errc::model_binary_damaged);
}
