// SPDX-License-Identifier: Apache-2.0
// Incremental decoding: for every model format, random id sequences (many of them single-byte
// pieces that split characters) fed one id at a time give, in total, exactly the tokenizer's
// decode of the whole sequence, and no piece of output ends inside a UTF-8 character.
#include <bytepiece/decode_stream.hpp>
#include <bytepiece/hf_tokenizer.hpp>
#include <bytepiece/sentencepiece_tokenizer.hpp>

#include "test_support.hpp"

namespace {

// Random sequences: half the ids drawn from `heavy` (single bytes and other pieces that are
// likely to cut characters), the rest from the whole vocabulary.
template <class Tokenizer>
void check_stream(const Tokenizer& tok, const std::vector<std::uint32_t>& heavy, std::uint32_t seed, int rounds = 60) {
    std::mt19937 rng(seed);
    bytepiece::decode_stream ds(tok);
    for (int round = 0; round < rounds; ++round) {
        const std::size_t n = rng() % 120;
        std::vector<std::uint32_t> ids;
        for (std::size_t i = 0; i < n; ++i) {
            if (!heavy.empty() && rng() % 2) ids.push_back(heavy[rng() % heavy.size()]);
            else ids.push_back(static_cast<std::uint32_t>(rng() % tok.vocab_size()));
        }
        std::string total;
        for (const auto id : ids) {
            const std::string part = ds.put(id);
            INFO("a put returned text that is not whole UTF-8 characters");
            CHECK(bytepiece::detail::utf8::is_valid(part));
            total += part;
        }
        total += ds.flush();
        const std::string whole = bytepiece::detail::decode_ordinary(tok, ids.data(), ids.size(), true);
        INFO("round " << round << ", " << ids.size() << " ids");
        REQUIRE(total == whole);
    }
}

// The ids of the pieces of `tok` that are a single byte >= 0x80 or hold a part of a
// multi-byte character: found by encoding texts of multi-byte characters in raw pieces.
std::vector<std::uint32_t> bytepiece_byte_ids(const bytepiece::tokenizer& tok) {
    std::vector<std::uint32_t> ids;
    for (int b = 0x80; b < 0x100; ++b) ids.push_back(*tok.piece_to_id(std::string(1, static_cast<char>(b))));
    for (const char* s : {"\xE2\x82", "\xAC", "\xE4\xB8", "\xAD\xE6", "\xF0\x9F\x98", "a\xC3", "\xA9 "})
        if (const auto id = tok.piece_to_id(s)) ids.push_back(*id);
    return ids;
}

}  // namespace

TEST_CASE("decode_stream equals decode for BytePiece models", "[decode_stream]") {
    for (const char* name : {"models/bytepiece.eu.plus.40k.model", "models/bytepiece.zh.id.eu.40k.model"}) {
        if (!test_support::require_shared(name)) continue;
        const auto tok = bytepiece::tokenizer::load(test_support::shared_path(name));
        INFO(name);
        auto heavy = bytepiece_byte_ids(tok);
        heavy.push_back(0);
        heavy.push_back(1);
        heavy.push_back(2);
        check_stream(tok, heavy, 11);
        // Real text, cut into pieces of characters by the model: a stream of its ids gives it back.
        const std::string text = test_support::read(test_support::shared_path("corpus/small.txt")).substr(0, 3000);
        const auto ids = tok.encode(text);
        bytepiece::decode_stream ds(tok);
        std::string total;
        for (const auto id : ids) total += ds.put(id);
        total += ds.flush();
        CHECK(total == tok.decode(ids));
    }
}

TEST_CASE("decode_stream gives a character as soon as its last byte arrives", "[decode_stream]") {
    const bytepiece::tokenizer tok(test_support::make_model({}));
    bytepiece::decode_stream ds(tok);
    const auto id = [&](unsigned char b) { return *tok.piece_to_id(std::string(1, static_cast<char>(b))); };
    CHECK(ds.put(id('a')) == "a");
    CHECK(ds.put(id(0xE2)).empty());
    CHECK(ds.put(id(0x82)).empty());
    CHECK(ds.put(id(0xAC)) == "\xE2\x82\xAC");
    CHECK(ds.put(id(0xE2)).empty());
    CHECK(ds.put(id('b')) == "b");  // the lone lead byte is dropped, as decode drops it
    CHECK(ds.put(id(0xF0)).empty());
    CHECK(ds.flush().empty());
    CHECK_THROWS_AS(ds.put(static_cast<std::uint32_t>(tok.vocab_size())), bytepiece::decode_error);
    CHECK(ds.put(id('c')) == "c");  // the refused id was not kept
}

TEST_CASE("decode_stream equals decode for SentencePiece models", "[decode_stream]") {
    for (const char* name : {"models/sp/spm-u2k-bytefallback.model", "models/sp/albert-30k-clean.model",
                             "models/sp/spm-u2k-nmt_nfkc.model", "models/sp/spm-u2k-nodummy-nows.model",
                             "models/sp/spm-u2k-ws-suffix.model", "models/bytepiece.eu.plus.40k.sp.model"}) {
        if (!test_support::require_shared(name)) continue;
        const auto tok = bytepiece::sentencepiece_tokenizer::load(test_support::shared_path(name));
        INFO(name);
        std::vector<std::uint32_t> heavy;
        for (int b = 0; b < 256; ++b) {
            char piece[8];
            std::snprintf(piece, sizeof piece, "<0x%02X>", b);
            if (const auto id = tok.piece_to_id(piece)) heavy.push_back(*id);
        }
        for (std::uint32_t i = 0; i < 8 && i < tok.vocab_size(); ++i) heavy.push_back(i);  // unknown, controls
        check_stream(tok, heavy, 12);
    }
}

TEST_CASE("decode_stream equals decode for HF tokenizer.json files", "[decode_stream]") {
    for (const char* name : {"models/hf/spm-u2k-bytefallback.from_spm.json", "models/hf/albert-30k-clean.from_spm.json",
                             "models/hf/albert-30k-clean.transformers-albert.json",
                             "models/hf/bytepiece.eu.plus.40k.bytelevel.json", "models/hf/spm-u2k-nmt_nfkc.from_spm.json",
                             "models/bytepiece.eu.plus.40k.hf.json"}) {
        if (!test_support::require_shared(name)) continue;
        const auto tok = bytepiece::hf_tokenizer::load(test_support::shared_path(name));
        INFO(name);
        std::vector<std::uint32_t> heavy;
        for (int b = 0; b < 256; ++b) {
            char piece[8];
            std::snprintf(piece, sizeof piece, "<0x%02X>", b);
            if (const auto id = tok.token_to_id(piece)) heavy.push_back(*id);
        }
        for (std::uint32_t i = 0; i < 8 && i < tok.vocab_size(); ++i) heavy.push_back(i);
        check_stream(tok, heavy, 13, 40);
    }
}

TEST_CASE("decode_stream with special tokens and a custom decode function", "[decode_stream]") {
    const bytepiece::tokenizer tok(test_support::make_model({{"ab", 5}}));
    bytepiece::special_tokens sp;
    sp.append({"<|end|>"}, tok.vocab_size());
    const auto end_id = static_cast<std::uint32_t>(tok.vocab_size());
    const std::vector<std::uint32_t> ids = {*tok.piece_to_id("ab"), *tok.piece_to_id("\xC3"), end_id, *tok.piece_to_id("\xA9"),
                                            *tok.piece_to_id("ab")};
    for (const bool skip : {false, true}) {
        bytepiece::decode_stream ds(tok, sp, skip);
        std::string total;
        for (const auto id : ids) total += ds.put(id);
        total += ds.flush();
        CHECK(total == bytepiece::decode_with_specials(tok, ids, sp, skip));
        CHECK(total == (skip ? "abab" : "ab<|end|>ab"));  // the split character's bytes are dropped
    }
    std::size_t calls = 0;
    bytepiece::decode_stream custom([&](const std::uint32_t* p, std::size_t n) {
        ++calls;
        return std::string(n, static_cast<char>('a' + (n ? p[n - 1] % 26 : 0)));
    });
    CHECK(custom.put(1) == "b");
    CHECK(calls == 1);
}
