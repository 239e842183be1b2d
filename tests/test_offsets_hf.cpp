// SPDX-License-Identifier: Apache-2.0
// Offsets of tokenizer.json models: each normalizer step's alignment composed across a
// Sequence, the pre-tokenizer's pieces found back in the normalized text (Metaspace, Split,
// ByteLevel), added tokens matched before and after normalization, the post-processor's tokens.
#include <bytepiece/hf_tokenizer.hpp>

#include <optional>

#include "offsets_texts.hpp"

using bytepiece::byte_range;

namespace {

const char* const fixtures[] = {
    "models/hf/albert-30k-clean.from_spm.json",      "models/hf/albert-30k-clean.transformers-albert.json",
    "models/hf/spm-u2k-nmt_nfkc.from_spm.json",      "models/hf/spm-u2k-identity.from_spm.json",
    "models/hf/spm-u2k-bytefallback.from_spm.json", "models/hf/bytepiece.eu.plus.40k.bytelevel.json",
    "models/hf/bytepiece.zh.id.eu.40k.bytelevel.json"};

std::string joined(const std::vector<std::string>& tokens, std::size_t from, std::size_t to) {
    std::string s;
    for (std::size_t k = from; k < to; ++k) s += tokens[k];
    return s;
}

// The tokenizer and its normalizer on its own (to find normalization boundaries).
struct fixture {
    bytepiece::hf_tokenizer tok;
    std::optional<bytepiece::detail::hf_normalizer> norm;
    explicit fixture(const std::string& path) : tok(bytepiece::hf_tokenizer::load(path)) {
        const auto doc = nlohmann::json::parse(test_support::read(path));
        if (!doc["normalizer"].is_null()) norm.emplace(bytepiece::detail::hf_json::cursor(doc["normalizer"], path));
    }
    std::string normalize(std::string_view s) const {
        std::string out(s);
        if (norm) norm->normalize(s, out);
        return out;
    }
};

void check_text(const fixture& f, const std::string& text) {
    const bytepiece::hf_tokenizer& tok = f.tok;
    INFO("text: " << test_support::quote(text));
    for (const bool special : {false, true}) {
        std::vector<std::uint32_t> ids;
        std::vector<byte_range> offsets;
        tok.encode_with_offsets(text, ids, offsets, special);
        REQUIRE(ids == tok.encode(text, special));
        offsets_texts::check_monotone(offsets, ids.size(), text.size());
    }
    const auto e = tok.encode_with_offsets(text);
    const std::vector<byte_range>& offsets = e.offsets;
    const std::vector<std::string> tokens = tok.tokenize(text);
    REQUIRE(tokens.size() == e.ids.size());
    // Bytes in no range are what a step deleted (marks StripAccents drops, characters the
    // charsmap maps to nothing): taking them out changes no id.
    std::vector<bool> covered(text.size(), false);
    for (const auto& r : offsets)
        for (std::size_t k = r.begin; k < r.end; ++k) covered[k] = true;
    std::string kept;
    for (std::size_t k = 0; k < text.size(); ++k)
        if (covered[k]) kept += text[k];
    CHECK(tok.encode(kept) == e.ids);
    // A run of pieces with edges on character starts, no overlap with its neighbours and no
    // gap or inserted text inside is what its original range turns into: the tokens of that
    // range, joined, are the run's tokens, joined (the segmentation may differ inside).
    std::vector<bool> char_start(text.size() + 1, false);
    const auto* t = reinterpret_cast<const unsigned char*>(text.data());
    for (std::size_t k = 0; k < text.size(); k += bytepiece::detail::utf8::decode(t + k, t + text.size()).length)
        char_start[k] = true;
    char_start[text.size()] = true;
    // A normalization boundary: normalizing both sides apart gives the whole text's
    // normalization (a grapheme cluster, a canonical segment or a Replace match is not cut).
    const std::string whole = f.normalize(text);
    std::vector<int> boundary(text.size() + 1, -1);
    const auto on_boundary = [&](std::size_t k) {
        if (!char_start[k]) return false;
        if (boundary[k] < 0)
            boundary[k] = f.normalize(text.substr(0, k)) + f.normalize(text.substr(k)) == whole ? 1 : 0;
        return boundary[k] == 1;
    };
    for (std::size_t i = 0; i < e.ids.size(); ++i) {
        if (offsets[i].size() == 0 || !on_boundary(offsets[i].begin)) continue;
        if (i > 0 && offsets[i - 1].end > offsets[i].begin) continue;
        for (std::size_t j = i; j < e.ids.size() && j < i + 6; ++j) {
            if (offsets[j].size() == 0) break;
            if (j > i && offsets[j].begin > offsets[j - 1].end) break;  // a deleted stretch between
            if (j + 1 < e.ids.size() && offsets[j].end > offsets[j + 1].begin) continue;
            if (!on_boundary(offsets[j].end)) continue;
            const std::string sub = text.substr(offsets[i].begin, offsets[j].end - offsets[i].begin);
            const std::vector<std::string> again = tok.tokenize(sub);
            INFO("pieces " << i << ".." << j << ": " << test_support::quote(sub));
            // Metaspace prepends its ▁ to a text that does not start with one: a run from the
            // middle of the text has none unless a space was there.
            std::string got = joined(again, 0, again.size());
            const std::string want = joined(tokens, i, j + 1);
            const std::string mark = "\xE2\x96\x81";
            if (got.compare(0, mark.size(), mark) == 0 && want.compare(0, mark.size(), mark) != 0) got.erase(0, mark.size());
            CHECK(got == want);
        }
    }
}

std::vector<std::string> valid_adversarial_texts() {
    std::vector<std::string> texts;
    for (auto& s : offsets_texts::adversarial_texts())
        if (bytepiece::detail::utf8::is_valid(s)) texts.push_back(s);
    texts.push_back("Hello  world! The caf\xC3\xA9's price: \xE2\x82\xAC" "1,200 (approx.) <mask> \xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C"
                    "\xE4\xB8\x96\xE7\x95\x8C\xE3\x80\x82\xF0\xA0\x80\x80\xF0\xA0\x80\x81");
    texts.push_back("a [MASK] b[MASK]c   [MASK]");
    texts.push_back("<s>x</s> </s>\n<pad>");
    texts.push_back("``quoted'' \"plain\" (x) \xC2\xA3" "5 \xE2\x80\x93 \xE2\x82\xAC");
    texts.push_back("Cafe\xCC\x81 CAF\xC3\x89 \xC3\x85ngstr\xC3\xB6m \xEF\xAC\x81");
    texts.push_back("\xE2\x96\x81" "already" "\xE2\x96\x81" "escaped \xE2\x96\x81");
    texts.push_back("\n\n\nlines\n\nand more\n");
    return texts;
}

}  // namespace

TEST_CASE("the aligned HF normalizer writes what the plain one writes") {
    for (const char* relative : fixtures) {
        if (!test_support::require_shared(relative)) continue;
        const std::string json = test_support::read(test_support::shared_path(relative));
        const auto doc = nlohmann::json::parse(json);
        if (doc["normalizer"].is_null()) continue;
        const std::string source = relative;
        const bytepiece::detail::hf_normalizer norm(bytepiece::detail::hf_json::cursor(doc["normalizer"], source));
        std::mt19937 rng(11);
        std::string plain, aligned;
        bytepiece::alignment a;
        for (int k = 0; k < 300; ++k) {
            const std::string text = offsets_texts::random_text(rng, 1 + k % 50, k % 2 == 0);
            INFO(relative << " " << test_support::quote(text));
            norm.normalize(text, plain);
            norm.normalize(text, aligned, a);
            REQUIRE(aligned == plain);
            if (!text.empty()) {
                // Every output byte has an origin, within the text.
                REQUIRE((aligned.empty() ? a.empty() : a.original(0, aligned.size()).end <= text.size()));
            }
        }
    }
}

TEST_CASE("hand-checked HF offsets: Metaspace, Replace, NFKD + StripAccents, added tokens, template") {
    const char* relative = "models/hf/albert-30k-clean.transformers-albert.json";
    if (!test_support::require_shared(relative)) return;
    const auto tok = bytepiece::hf_tokenizer::load(test_support::shared_path(relative));
    // "Hello   world": "▁hello" from "Hello" with ▁ prepended, "▁world" from the three spaces
    // (one ▁ by Replace " {2,}" -> " ", then Metaspace) and "world".
    auto e = tok.encode_with_offsets("Hello   world", true);
    REQUIRE(e.ids == tok.encode("Hello   world", true));
    REQUIRE(e.ids.size() == 4);
    CHECK(e.offsets[0] == byte_range{0, 0});    // [CLS]
    CHECK(e.offsets[1] == byte_range{0, 5});    // ▁hello
    CHECK(e.offsets[2] == byte_range{5, 13});   // ▁world
    CHECK(e.offsets[3] == byte_range{13, 13});  // [SEP]
    // "Café" precomposed (é is 2 bytes): NFKD then StripAccents leave "e" from the whole é.
    e = tok.encode_with_offsets("caf\xC3\xA9");
    REQUIRE(e.ids.size() == 1);
    CHECK(tok.id_to_token(e.ids[0]) == "\xE2\x96\x81" "cafe");
    CHECK(e.offsets[0] == byte_range{0, 5});
    // Added tokens split off before normalization get exactly their bytes; [MASK] strips the
    // space on its left into its own range.
    const std::string text = "x (y) [MASK]";
    e = tok.encode_with_offsets(text);
    REQUIRE(e.ids == tok.encode(text));
    const auto paren = tok.token_to_id("(");
    const auto mask = tok.token_to_id("[MASK]");
    REQUIRE(paren);
    REQUIRE(mask);
    bool saw_paren = false, saw_mask = false;
    for (std::size_t i = 0; i < e.ids.size(); ++i) {
        if (e.ids[i] == *paren) {
            CHECK(e.offsets[i] == byte_range{2, 3});
            saw_paren = true;
        }
        if (e.ids[i] == *mask) {
            CHECK(text.substr(e.offsets[i].begin, e.offsets[i].size()).find("[MASK]") != std::string::npos);
            CHECK(e.offsets[i].end == text.size());
            saw_mask = true;
        }
    }
    CHECK(saw_paren);
    CHECK(saw_mask);
}

TEST_CASE("hand-checked HF offsets: ByteLevel maps characters back to the bytes they stand for") {
    const char* relative = "models/hf/bytepiece.eu.plus.40k.bytelevel.json";
    if (!test_support::require_shared(relative)) return;
    const auto tok = bytepiece::hf_tokenizer::load(test_support::shared_path(relative));
    // 𠀀𠀁 (4 bytes each, unknown to the model) are eight byte pieces: one byte each.
    const std::string text = "\xF0\xA0\x80\x80\xF0\xA0\x80\x81";
    const auto e = tok.encode_with_offsets(text);
    REQUIRE(e.ids == tok.encode(text));
    REQUIRE(e.ids.size() == 8);
    for (std::size_t i = 0; i < 8; ++i) CHECK(e.offsets[i] == byte_range{i, i + 1});
    // Text NFC leaves alone partitions exactly.
    const std::string plain = "Hello world, again.\nSecond line\n";
    const auto p = tok.encode_with_offsets(plain);
    std::size_t at = 0;
    for (const auto& r : p.offsets) {
        CHECK(r.begin == at);
        at = r.end;
    }
    CHECK(at == plain.size());
}

TEST_CASE("HF offsets hold on adversarial and random text for every fixture") {
    for (const char* relative : fixtures) {
        if (!test_support::require_shared(relative)) continue;
        INFO(relative);
        const fixture f(test_support::shared_path(relative));
        for (const auto& text : valid_adversarial_texts()) check_text(f, text);
        std::mt19937 rng(5);
        for (int k = 0; k < 120; ++k) check_text(f, offsets_texts::random_text(rng, 1 + k % 40, true));
    }
}

TEST_CASE("HF offsets refuse text that is not UTF-8, as encode does") {
    const char* relative = "models/hf/spm-u2k-identity.from_spm.json";
    if (!test_support::require_shared(relative)) return;
    const auto tok = bytepiece::hf_tokenizer::load(test_support::shared_path(relative));
    CHECK_THROWS_AS(tok.encode_with_offsets("bad \xFF byte"), bytepiece::argument_error);
}
