// SPDX-License-Identifier: Apache-2.0
// Decoding SentencePiece ids: hand-built models for each rule of SentencePiece 0.1.97's
// Decode, and libsentencepiece itself on its own encodings of every fixture text and on random
// id sequences.
#include <bytepiece/detail/sentencepiece_decode.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sp_charsmap_builder.hpp"
#include "sp_test_texts.hpp"
#include "test_support.hpp"

#if BYTEPIECE_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

namespace {

using bytepiece::detail::sentencepiece_decoder;
using piece_type = bytepiece::sentencepiece_model::piece_type;

const std::string sym = "\xE2\x96\x81";

// Ids 0-8 as below, then the 256 byte pieces at 9 + byte.
bytepiece::sentencepiece_model small_model(bool dummy = true, bool remove = true) {
    std::vector<std::pair<std::string, piece_type>> pieces = {
        {"<unk>", piece_type::unknown},     {"<s>", piece_type::control},
        {"</s>", piece_type::control},      {sym + "Hello", piece_type::normal},
        {sym + "world", piece_type::normal}, {"ab" + sym + "c" + sym, piece_type::normal},
        {sym, piece_type::normal},          {"<mask>", piece_type::user_defined},
        {sym + "x", piece_type::unused}};
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        pieces.emplace_back(name, piece_type::byte);
    }
    auto m = sp_test::make_model({}, pieces, dummy, remove);
    m.trainer.byte_fallback = true;
    return m;
}

std::string decode(const sentencepiece_decoder& d, const std::vector<int>& ids) {
    std::string out = "stale";
    d.decode(ids.data(), ids.size(), out);
    return out;
}

}  // namespace

TEST_CASE("decode: control, unknown, U+2581 and the first piece's space", "[sentencepiece][decode]") {
    const sentencepiece_decoder d(small_model());
    CHECK(decode(d, {}) == "");
    CHECK(decode(d, {3, 4}) == "Hello world");
    CHECK(decode(d, {1, 3, 2, 4, 2}) == "Hello world");   // control pieces give nothing
    CHECK(decode(d, {6, 6, 3}) == "Hello");               // with whitespace removal every leading piece loses one
    CHECK(decode(d, {0, 3}) == " \xE2\x81\x87  Hello");   // unk surface, then a space that is not the first
    CHECK(decode(d, {5, 4}) == "ab c  world");
    CHECK(decode(d, {7, 8, 7}) == "<mask> x<mask>");      // user-defined and unused pieces decode as text

    auto m = small_model();
    m.trainer.unk_surface = std::string("?\0!", 3);       // read through c_str(): ends at the NUL
    CHECK(decode(sentencepiece_decoder(m), {0, 0}) == "??");

    const sentencepiece_decoder keep(small_model(true, false));
    CHECK(decode(keep, {6, 6, 3}) == "  Hello");          // only the first piece loses its space
    CHECK(decode(keep, {1, 6, 3}) == " Hello");
    const sentencepiece_decoder none(small_model(false, false));
    CHECK(decode(none, {3, 4}) == " Hello world");
}

TEST_CASE("decode: byte runs become text, ill-formed bytes U+FFFD each", "[sentencepiece][decode]") {
    const sentencepiece_decoder d(small_model());
    auto b = [](int byte) { return 9 + byte; };
    CHECK(decode(d, {b(0xE4), b(0xB8), b(0xAD)}) == "\xE4\xB8\xAD");
    CHECK(decode(d, {b(0xE4), b(0xB8), 1, b(0xAD)}) == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // split by a control
    CHECK(decode(d, {b(0xFF), b('a'), b(0xC3)}) == "\xEF\xBF\xBD" "a\xEF\xBF\xBD");
    CHECK(decode(d, {b(0xED), b(0xA0), b(0x80)}) == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
    CHECK(decode(d, {b(' '), 3}) == " " + std::string(" Hello"));  // bytes count as text already written
    CHECK(decode(d, {b(0)}) == std::string(1, '\0'));
}

TEST_CASE("decode: ids outside the vocabulary throw decode_error naming id and position", "[sentencepiece][decode]") {
    const sentencepiece_decoder d(small_model());
    std::string out;
    const std::vector<long long> bad = {3, 4, 265};
    try {
        d.decode(bad.data(), bad.size(), out);
        FAIL("accepted id 265");
    } catch (const bytepiece::decode_error& e) {
        CHECK(e.code() == bytepiece::errc::decode_bad_id);
        CHECK_THAT(e.what(), Catch::Contains("id 265 at position 2"));
    }
    const std::vector<int> negative = {-1};
    CHECK_THROWS_AS(d.decode(negative.data(), negative.size(), out), bytepiece::decode_error);
    const std::vector<std::uint32_t> ok = {3, 4};
    d.decode(ok.data(), ok.size(), out);
    CHECK(out == "Hello world");
}

TEST_CASE("decode: an id whose piece is also a reserved piece decodes as that piece", "[sentencepiece][decode]") {
    // SentencePiece maps each id to its piece and back, reserved pieces first.
    auto m = small_model();
    m.pieces.push_back({"<s>", -5.0f, piece_type::normal});       // id 265: the CONTROL <s>'s string
    m.pieces.push_back({"<0x41>", -5.0f, piece_type::normal});    // id 266: the BYTE A's string
    m.pieces.push_back({std::string("n\0ul", 4), -5.0f, piece_type::normal});  // id 267: never found back
    const sentencepiece_decoder d(m);
    CHECK(decode(d, {3, 265, 4}) == "Hello world");
    CHECK(decode(d, {266, 266}) == "AA");
    CHECK(decode(d, {267, 3}) == std::string("n\0ul", 4) + " Hello");
}

TEST_CASE("decode: the denormalizer applies when its charsmap is not empty", "[sentencepiece][decode]") {
    auto m = small_model();
    // Copied rather than emplace()d: clang rejects optional<normalizer_spec>::emplace() (its
    // default member initializers are not usable inside the enclosing class's definition).
    m.denormalizer = m.normalizer;
    m.denormalizer->remove_extra_whitespaces = true;
    m.denormalizer->precompiled_charsmap = sp_test::build_charsmap({{"H", "J"}, {"  ", "_"}});
    m.denormalizer->add_dummy_prefix = false;
    m.denormalizer->escape_whitespaces = false;
    CHECK(decode(sentencepiece_decoder(m), {3, 5}) == "Jelloab c");
    m.denormalizer->precompiled_charsmap.clear();
    CHECK(decode(sentencepiece_decoder(m), {3, 5}) == "Helloab c ");
}

#if BYTEPIECE_HAVE_SENTENCEPIECE
TEST_CASE("decode: equals libsentencepiece 0.1.97's DecodeIds on its encodings and on random ids",
          "[sentencepiece][decode][oracle]") {
    const auto models = sp_test::unigram_models();
    if (models.empty()) {
        WARN("no SentencePiece fixtures under " << test_support::shared_dir() << "; skipped");
        return;
    }
    std::vector<std::string> texts = sp_test::edge_texts();
    const std::size_t stride = sp_test::line_stride();
    if (stride != 1) WARN("every " << stride << "th corpus line (BYTEPIECE_TEST_FULL=1: all)");
    for (const char* corpus : {"small.txt", "en.txt", "zh.txt", "mixed.txt", "code.txt"})
        for (auto& line : sp_test::corpus_lines(corpus, stride)) texts.push_back(std::move(line));
    std::mt19937 rng(7);
    for (const auto& path : models) {
        const auto m = bytepiece::sentencepiece_model::load(path);
        const sentencepiece_decoder d(m, path);
        sentencepiece::SentencePieceProcessor sp;
        REQUIRE(sp.Load(path).ok());
        const int vocab = sp.GetPieceSize();
        REQUIRE(static_cast<std::size_t>(vocab) == d.vocab_size());
        std::size_t mismatches = 0;
        std::vector<int> ids;
        std::string ours, theirs;
        auto compare = [&](const std::string& what) {
            REQUIRE(sp.Decode(ids, &theirs).ok());
            d.decode(ids.data(), ids.size(), ours);
            if (ours != theirs && ++mismatches <= 5)
                CHECK(sp_test::escaped(ours) == sp_test::escaped(theirs) + "   <- " + path + ": " + what);
        };
        for (const auto& text : texts) {
            REQUIRE(sp.Encode(text, &ids).ok());
            compare(sp_test::escaped(text));
        }
        // Random sequences, weighted towards the ids with rules of their own: control,
        // unknown, user-defined, byte pieces (so that runs form ill-formed UTF-8) and pieces
        // starting with U+2581.
        std::vector<int> special, spaced;
        for (int id = 0; id < vocab; ++id) {
            if (!sp.IsUnknown(id) && !sp.IsControl(id) && !sp.IsByte(id) && !sp.IsUnused(id) &&
                sp.IdToPiece(id).compare(0, 3, sym) != 0 && id > 300)
                continue;
            (sp.IdToPiece(id).compare(0, 3, sym) == 0 ? spaced : special).push_back(id);
        }
        for (int t = 0; t < 3000; ++t) {
            ids.clear();
            for (std::size_t k = rng() % 12; k > 0; --k) {
                const unsigned pick = rng() % 4;
                if (pick == 0 && !special.empty()) ids.push_back(special[rng() % special.size()]);
                else if (pick == 1 && !spaced.empty()) ids.push_back(spaced[rng() % spaced.size()]);
                else ids.push_back(static_cast<int>(rng() % static_cast<unsigned>(vocab)));
            }
            compare("random ids");
        }
        INFO(path);
        CHECK(mismatches == 0);
    }
}
#endif
