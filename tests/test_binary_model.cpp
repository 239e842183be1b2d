// SPDX-License-Identifier: Apache-2.0
// The binary model format (detail/binary_model.hpp): exact round trips, format detection,
// and damaged or inconsistent files rejected with an error naming the file.
#include <bytepiece/detail/binary_model.hpp>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "test_support.hpp"

using bytepiece::errc;
using bytepiece::model_error;
using bytepiece::tokenizer;
namespace bf = bytepiece::detail::binary_format;

namespace {

// Recomputes the stored checksum, so that a test reaches the checks behind it.
void fix_checksum(std::string& image) {
    const std::uint64_t c = bf::checksum(image);
    bf::store<std::uint64_t>(&image[8], c);
}

std::uint64_t u64_at(const std::string& image, std::size_t offset) { return bf::load<std::uint64_t>(image.data() + offset); }

// The error `from_binary` throws on `image` (fails the test if it loads).
model_error load_error(const std::string& image, const std::string& source = "test.bpm") {
    try {
        (void)tokenizer::from_binary(image, source);
    } catch (const model_error& e) {
        return e;
    }
    FAIL("the image loaded");
    return model_error(errc::model_empty, "");
}

// A model of the 256 bytes plus pieces over a few letters, so pieces share prefixes.
bytepiece::model random_model(std::mt19937& rng, int pieces) {
    return test_support::make_model(test_support::random_pieces(rng, pieces, 6, 'a', 5, 1000));
}

std::string random_text(std::mt19937& rng, std::size_t n) {
    static const std::string alphabet = "abcdeab \n\xc3\xa9\xe4\xb8\xad";
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += alphabet[rng() % alphabet.size()];
    return s;
}

struct layout_of_image {
    std::uint64_t n, units, bytes;
    bf::layout at;
    explicit layout_of_image(const std::string& image)
        : n(u64_at(image, 32)), units(u64_at(image, 40)), bytes(u64_at(image, 48)), at(n, units, bytes) {}
};

}  // namespace

TEST_CASE("a binary model loads back to the same model, trie and ids", "[binary]") {
    std::mt19937 rng(7);
    for (int round = 0; round < 20; ++round) {
        const tokenizer tok(random_model(rng, 1 + static_cast<int>(rng() % 300)));
        const std::string image = tok.to_binary();
        CHECK(bf::has_magic(image));
        CHECK(tok.to_binary() == image);  // deterministic
        const tokenizer back = tokenizer::from_binary(image, "round.bpm");
        REQUIRE(back.vocab_size() == tok.vocab_size());
        CHECK(back.model().to_json() == tok.model().to_json());
        CHECK(back.model().total_count() == tok.model().total_count());
        CHECK(back.model().max_piece_length() == tok.model().max_piece_length());
        for (std::size_t id = 0; id < tok.vocab_size(); ++id) {
            const auto i = static_cast<std::uint32_t>(id);
            // Scores come from the counts by the same computation: bit for bit equal.
            CHECK(std::memcmp(&back.model().scores()[id], &tok.model().scores()[id], sizeof(double)) == 0);
            CHECK(back.model().piece(i) == tok.model().piece(i));
        }
        CHECK(back.trie().size() == tok.trie().size());
        CHECK(back.to_binary() == image);
        for (int t = 0; t < 5; ++t) {
            const std::string text = random_text(rng, rng() % 400);
            CHECK(back.encode(text) == tok.encode(text));
            CHECK(back.sample(text, 0.3, 99) == tok.sample(text, 0.3, 99));
        }
    }
}

TEST_CASE("the image does not depend on the score or id type", "[binary]") {
    std::mt19937 rng(11);
    const tokenizer tok(random_model(rng, 200));
    const auto narrow = bytepiece::basic_tokenizer<float, std::uint16_t>::from_binary(tok.to_binary());
    CHECK(narrow.to_binary() == tok.to_binary());
    const bytepiece::basic_tokenizer<float, std::uint16_t> built(
        bytepiece::basic_model<float, std::uint16_t>::from_json(tok.model().to_json()));
    for (int t = 0; t < 20; ++t) {
        const std::string text = random_text(rng, 300);
        CHECK(narrow.encode(text) == built.encode(text));
    }
}

TEST_CASE("load, model::load and the trie tell a binary model from JSON by its first bytes", "[binary]") {
    std::mt19937 rng(3);
    const tokenizer tok(random_model(rng, 120));
    const std::string bin = test_support::scratch_path("detect.bpm");
    const std::string json = test_support::scratch_path("detect.json");
    tok.save_binary(bin);
    tok.model().save(json);
    CHECK(test_support::read(bin) == tok.to_binary());
    const auto from_bin = tokenizer::load(bin);
    const auto from_json = tokenizer::load(json);
    CHECK(from_bin.to_binary() == from_json.to_binary());
    CHECK(bytepiece::model::load(bin).to_json() == test_support::read(json));
    const std::string text = random_text(rng, 2000);
    CHECK(from_bin.encode(text) == from_json.encode(text));
    // Options given to load apply to a binary model as to JSON.
    bytepiece::encode_options raw;
    raw.normalize = false;
    CHECK(tokenizer::load(bin, raw).options().normalize == false);
}

TEST_CASE("released models convert to binary and encode the corpus as their JSON does", "[binary][golden]") {
    for (const std::string name : {"bytepiece.eu.plus.40k", "bytepiece.eu.plus.160k"}) {
        if (!test_support::require_shared("models/" + name + ".model")) return;
        if (!test_support::require_shared("corpus/small.txt")) return;
        const auto json = tokenizer::load(test_support::shared_path("models/" + name + ".model"));
        const std::string path = test_support::scratch_path(name + ".bpm");
        json.save_binary(path);
        const auto bin = tokenizer::load(path);
        INFO(name);
        CHECK(bin.model().to_json() == test_support::read(test_support::shared_path("models/" + name + ".model")));
        const std::string text = test_support::read(test_support::shared_path("corpus/small.txt"));
        CHECK(bin.encode(text) == json.encode(text));
        std::remove(path.c_str());
    }
}

TEST_CASE("a damaged binary model is an error naming the file", "[binary][errors]") {
    std::mt19937 rng(5);
    const std::string image = tokenizer(random_model(rng, 80)).to_binary();

    SECTION("truncated anywhere") {
        for (std::size_t len = 0; len < image.size(); len += 1 + len / 8) {
            const auto e = load_error(image.substr(0, len), "cut.bpm");
            INFO("length " << len << ": " << e.what());
            CHECK(std::string(e.what()).find("cut.bpm") != std::string::npos);
            CHECK((e.code() == (len < 8 ? errc::model_binary_invalid : errc::model_binary_damaged)));
        }
    }
    SECTION("bytes appended") {
        CHECK(load_error(image + std::string(1, '\0')).code() == errc::model_binary_damaged);
    }
    SECTION("any single bit flipped") {
        for (int i = 0; i < 300; ++i) {
            std::string bad = image;
            const std::size_t at = rng() % bad.size();
            bad[at] = static_cast<char>(bad[at] ^ (1 << (rng() % 8)));
            const auto e = load_error(bad);
            INFO("bit flipped in byte " << at << ": " << e.what());
            if (at < 8) CHECK(e.code() == errc::model_binary_invalid);        // the magic
            else if (at >= 16 && at < 20) CHECK(e.code() == errc::model_binary_version);
            else CHECK(e.code() == errc::model_binary_damaged);                // size or checksum
        }
    }
    SECTION("the checksum is reported") {
        std::string bad = image;
        bad.back() = static_cast<char>(bad.back() ^ 1);
        const std::string what = load_error(bad).what();
        CHECK(what.find("checksum mismatch") != std::string::npos);
    }
    SECTION("a file from a newer format version") {
        std::string bad = image;
        bf::store<std::uint32_t>(&bad[16], 3);
        fix_checksum(bad);
        const auto e = load_error(bad);
        CHECK(e.code() == errc::model_binary_version);
        CHECK(std::string(e.what()).find("version 3") != std::string::npos);
    }
    SECTION("a file that is not a model at all") {
        const std::string path = test_support::scratch_path("not_a_model.bpm");
        test_support::write(path, std::string(reinterpret_cast<const char*>(bf::magic), 8) + "rest");
        CHECK_THROWS_WITH(tokenizer::load(path), Catch::Contains("not_a_model.bpm") && Catch::Contains("truncated"));
    }
}

TEST_CASE("a binary model whose checksum holds is still checked section by section", "[binary][errors]") {
    std::mt19937 rng(9);
    const tokenizer tok(random_model(rng, 60));
    const std::string image = tok.to_binary();
    const layout_of_image l(image);
    auto expect = [&](std::string bad, errc code, const std::string& phrase) {
        fix_checksum(bad);
        const auto e = load_error(bad, "crafted.bpm");
        INFO("expected \"" << phrase << "\": " << e.what());
        CHECK(e.code() == code);
        CHECK(std::string(e.what()).find("crafted.bpm") != std::string::npos);
        CHECK(std::string(e.what()).find(phrase) != std::string::npos);
    };
    // Pieces are ordered by (length, bytes): id 3 + b is the single byte b, ids from 259 on
    // are longer.
    const std::size_t first_long = 256;  // index (id - 3) of the first multi-byte piece
    std::string bad;

    bad = image;
    bf::store<std::uint32_t>(&bad[20], 65);
    expect(bad, errc::model_binary_invalid, "header");
    bad = image;
    bad[60] = 1;
    expect(bad, errc::model_binary_invalid, "reserved");
    bad = image;
    bf::store<std::uint64_t>(&bad[32], l.n + 100);
    expect(bad, errc::model_binary_invalid, "make");
    bad = image;
    bf::store<std::uint64_t>(&bad[40], 12);
    expect(bad, errc::model_binary_invalid, "trie of 12 units");

    bad = image;
    bf::store<std::uint64_t>(&bad[l.at.counts + 8 * 40], 0);
    expect(bad, errc::model_bad_count, "id 43: count 0");
    bad = image;
    bf::store<std::uint64_t>(&bad[l.at.counts], ~std::uint64_t{0});
    expect(bad, errc::model_bad_count, "overflows");

    bad = image;  // piece first_long takes no bytes
    bf::store<std::uint32_t>(&bad[l.at.offsets + 4 * (first_long + 1)], bf::load<std::uint32_t>(&bad[l.at.offsets + 4 * first_long]));
    expect(bad, errc::model_empty_piece, "give no bytes");
    bad = image;  // a piece that runs past the bytes, while the last offset is right
    bf::store<std::uint32_t>(&bad[l.at.offsets + 4 * 10], static_cast<std::uint32_t>(l.bytes + 5));
    bf::store<std::uint32_t>(&bad[l.at.offsets + 4 * 11], static_cast<std::uint32_t>(l.bytes + 6));
    expect(bad, errc::model_binary_invalid, "id 12: offsets 9 to " + std::to_string(l.bytes + 5) + " run past");
    bad = image;
    bf::store<std::uint32_t>(&bad[l.at.offsets], 1);
    expect(bad, errc::model_binary_invalid, "first piece starts at 1");
    bad = image;
    bf::store<std::uint32_t>(&bad[l.at.offsets + 4 * l.n], static_cast<std::uint32_t>(l.bytes - 1));
    expect(bad, errc::model_binary_invalid, "last piece ends");

    bad = image;  // the single byte 0x41 becomes a second 0x42
    bad[l.at.bytes + 0x41] = 0x42;
    expect(bad, errc::model_missing_byte, "0x41");

    bad = image;  // a long piece's last byte changed: its walk ends off its node or off the trie
    {
        const std::uint32_t end = bf::load<std::uint32_t>(&image[l.at.offsets + 4 * (first_long + 1)]);
        bad[l.at.bytes + end - 1] = static_cast<char>(bad[l.at.bytes + end - 1] ^ 0x40);
        expect(bad, errc::model_binary_invalid, "id 259");
    }
    bad = image;  // a long piece made a copy of another: both walk to one node
    {
        const std::uint32_t a = bf::load<std::uint32_t>(&image[l.at.offsets + 4 * first_long]);
        const std::uint32_t b = bf::load<std::uint32_t>(&image[l.at.offsets + 4 * (first_long + 1)]);
        const std::uint32_t c = bf::load<std::uint32_t>(&image[l.at.offsets + 4 * (first_long + 2)]);
        if (b - a == c - b) {
            bad.replace(l.at.bytes + b, c - b, image.substr(l.at.bytes + a, b - a));
            expect(bad, errc::model_binary_invalid, "repeated piece");
        }
    }

    auto unit = [&](std::size_t i, int field) { return l.at.trie + 12 * i + 4 * static_cast<std::size_t>(field); };
    bad = image;
    bf::store<std::uint32_t>(&bad[unit(5, 0)], static_cast<std::uint32_t>(l.units - 255));
    expect(bad, errc::model_binary_invalid, "trie unit 5: base");
    bad = image;
    bf::store<std::uint32_t>(&bad[unit(0, 1)], 0);
    expect(bad, errc::model_binary_invalid, "root");
    bad = image;
    bf::store<std::uint32_t>(&bad[unit(0, 2)], static_cast<std::uint32_t>(l.n + 3));
    expect(bad, errc::model_binary_invalid, "is not a piece id");
    bad = image;  // the root holds a value: one value too many
    bf::store<std::uint32_t>(&bad[unit(0, 2)], 3);
    expect(bad, errc::model_binary_invalid, "values for");

    // Two values swapped: each piece walks to a node holding the other's id.
    bad = image;
    {
        const std::uint32_t root_base = bf::load<std::uint32_t>(&image[unit(0, 0)]);
        const std::size_t ua = root_base + 'a', ub = root_base + 'b';
        const std::string va = image.substr(unit(ua, 2), 4), vb = image.substr(unit(ub, 2), 4);
        bad.replace(unit(ua, 2), 4, vb);
        bad.replace(unit(ub, 2), 4, va);
        expect(bad, errc::model_binary_invalid, "gives the piece the value");
    }
    // A free cell that names the root as its parent, though no piece goes through it.
    bad = image;
    {
        std::size_t free_cell = 0;
        for (std::size_t i = 1; i < l.units && !free_cell; ++i)
            if (bf::load<std::uint32_t>(&image[unit(i, 1)]) == 0xFFFFFFFFu && i >= 256) free_cell = i;
        REQUIRE(free_cell);
        bf::store<std::uint32_t>(&bad[unit(free_cell, 1)], 0);
        expect(bad, errc::model_binary_invalid, "lies on no piece's path");
    }
}

TEST_CASE("random changes under a valid checksum load or fail cleanly, never crash", "[binary][errors]") {
    std::mt19937 rng(13);
    const tokenizer tok(random_model(rng, 40));
    const std::string image = tok.to_binary();
    const std::string text = random_text(rng, 500);
    bytepiece::encode_options raw;
    raw.normalize = false;
    int loaded = 0, rejected = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string bad = image;
        const int changes = 1 + static_cast<int>(rng() % 4);
        for (int c = 0; c < changes; ++c) {
            const std::size_t at = 16 + rng() % (bad.size() - 16);
            bad[at] = static_cast<char>(rng());
        }
        fix_checksum(bad);
        try {
            const auto t = tokenizer::from_binary(bad, "random.bpm");
            ++loaded;
            // Whatever loaded is a working tokenizer: ids in range that give the bytes back.
            std::vector<std::uint32_t> ids;
            t.encode(text, ids, raw);
            for (auto id : ids) REQUIRE((id >= 3 && id < t.vocab_size()));
            REQUIRE(t.decode_bytes(ids.data(), ids.size()) == text);
        } catch (const model_error& e) {
            ++rejected;
            REQUIRE(std::string(e.what()).find("random.bpm") != std::string::npos);
        }
    }
    INFO(loaded << " loaded, " << rejected << " rejected");
    CHECK(rejected > 0);
    CHECK(loaded > 0);  // changed counts and padding load
}
