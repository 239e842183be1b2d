// SPDX-License-Identifier: Apache-2.0
// Token healing of tokenizer.json (Unigram) models (hf_token_healing.hpp): corpus lines cut at
// every character on every fixture, candidates against a scan of the vocabulary read straight
// from the JSON, the examples, and the prompts and pre-tokenizers that are refused.
#include <bytepiece/hf_token_healing.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <set>

#include "test_support.hpp"

namespace {

using test_support::char_starts;
using test_support::require_shared;
using test_support::shared_path;

const std::vector<std::string> fixtures{
    "albert-30k-clean.from_spm.json",      "albert-30k-clean.transformers-albert.json", "spm-u2k-nmt_nfkc.from_spm.json",
    "spm-u2k-identity.from_spm.json",      "spm-u2k-bytefallback.from_spm.json",        "bytepiece.eu.plus.40k.bytelevel.json",
    "bytepiece.zh.id.eu.40k.bytelevel.json"};

const bytepiece::hf_tokenizer& hf_model(const std::string& name) {
    static std::map<std::string, bytepiece::hf_tokenizer> cache;
    auto it = cache.find(name);
    if (it == cache.end()) it = cache.emplace(name, bytepiece::hf_tokenizer::load(shared_path("models/hf/" + name))).first;
    return it->second;
}

std::vector<std::string> sample_lines(const std::string& file, std::size_t count, std::size_t max_bytes) {
    return test_support::sample_corpus_lines(file, count, max_bytes, [](const std::string&) { return true; });
}

std::string spelled(const std::vector<std::string>& tokens, std::size_t count) {
    std::string s;
    for (std::size_t i = 0; i < count; ++i) s += tokens[i];
    return s;
}

std::string meta(const std::string& s) {
    std::string out;
    for (char c : s) out += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
    return out;
}

}  // namespace

TEST_CASE("tokenizer.json healing: corpus lines cut at every character, on every fixture", "[heal][hf]") {
    const std::size_t per_file = test_support::full_run() ? 200 : 4;
    for (const auto& name : fixtures) {
        if (!require_shared("models/hf/" + name)) continue;
        const auto& tok = hf_model(name);
        const bytepiece::hf_token_healer healer(tok);
        std::size_t cuts = 0, refused = 0, on_boundary = 0, prefix = 0, next_is_candidate = 0;
        for (const std::string file : {"en.txt", "zh.txt", "mixed.txt", "code.txt"}) {
            for (const auto& line : sample_lines(file, per_file, 80)) {
                const auto full = tok.encode(line);
                const auto full_tokens = tok.tokenize(line);
                for (const std::size_t cut : char_starts(line)) {
                    ++cuts;
                    const std::string prompt = line.substr(0, cut);
                    INFO(name << " prompt '" << prompt << "'");
                    bytepiece::hf_healed_prompt h;
                    try {
                        h = healer.heal(prompt);
                    } catch (const bytepiece::argument_error& e) {
                        // Only a prompt that ends inside a possible added token may be refused here.
                        REQUIRE(e.code() == bytepiece::errc::heal_undefined);
                        REQUIRE(std::string(e.what()).find("added token") != std::string::npos);
                        ++refused;
                        continue;
                    }
                    // The ids split the prompt's encoding; the text remainder is the prompt's tail.
                    std::vector<std::uint32_t> joined = h.ids;
                    joined.insert(joined.end(), h.removed_ids.begin(), h.removed_ids.end());
                    REQUIRE(joined == tok.encode(prompt));
                    REQUIRE(h.text_kept_bytes <= prompt.size());
                    REQUIRE(h.text_remainder == prompt.substr(h.text_kept_bytes));
                    if (std::equal(h.ids.begin(), h.ids.end(), full.begin(), full.begin() + std::min(full.size(), h.ids.size())) &&
                        h.ids.size() <= full.size())
                        ++prefix;
                    // Is the cut a boundary of the full line's segmentation? The kept tokens spell
                    // the same text as some first tokens of the line.
                    const auto prompt_tokens = tok.tokenize(prompt);
                    const std::string kept = spelled(prompt_tokens, h.ids.size());
                    std::size_t j = 0, length = 0;
                    while (j < full_tokens.size() && length < kept.size()) length += full_tokens[j++].size();
                    if (length != kept.size() || spelled(full_tokens, j) != kept) continue;
                    ++on_boundary;
                    REQUIRE(j == h.ids.size());
                    REQUIRE(std::equal(h.ids.begin(), h.ids.end(), full.begin()));
                    // The line's next piece is one the constraint allows (counted: an added token
                    // or an unknown run is not a candidate).
                    if (j < full.size() && !h.remainder.empty()) {
                        const auto starting = healer.starting_with(h.remainder);
                        const auto prefixes = healer.prefixes_of(h.remainder);
                        if (std::binary_search(starting.begin(), starting.end(), full[j]) ||
                            std::binary_search(prefixes.begin(), prefixes.end(), full[j]))
                            ++next_is_candidate;
                    }
                }
            }
        }
        INFO(name << ": " << refused << " refused, " << on_boundary << " on a boundary, " << prefix << " prefixes, "
                  << next_is_candidate << " next pieces allowed, of " << cuts << " cuts");
        CHECK(refused * 50 < cuts);
        CHECK(on_boundary * 2 > cuts);
        if (test_support::full_run())
            std::printf("%s: %zu cuts, %zu refused, healed ids a prefix of the line's ids in %zu (%.1f%%), cut on a "
                        "boundary of the line's segmentation in %zu (%.1f%%)\n",
                        name.c_str(), cuts, refused, prefix, 100.0 * static_cast<double>(prefix) / static_cast<double>(cuts),
                        on_boundary, 100.0 * static_cast<double>(on_boundary) / static_cast<double>(cuts));
    }
}

TEST_CASE("tokenizer.json candidates equal a scan of the vocabulary read from the JSON", "[heal][hf]") {
    for (const auto& name : fixtures) {
        if (!require_shared("models/hf/" + name)) continue;
        const auto& tok = hf_model(name);
        const bytepiece::hf_token_healer healer(tok);
        // The vocabulary, independently of the library's reader.
        const auto j = nlohmann::json::parse(test_support::read(shared_path("models/hf/" + name)));
        const auto& vocab = j.at("model").at("vocab");
        std::vector<std::string> pieces;
        std::map<std::string, std::uint32_t> last_id;
        for (std::size_t id = 0; id < vocab.size(); ++id) {
            pieces.push_back(vocab[id][0].get<std::string>());
            last_id[pieces.back()] = static_cast<std::uint32_t>(id);
        }
        std::set<std::uint32_t> excluded;
        if (j.at("model").contains("unk_id") && !j.at("model").at("unk_id").is_null())
            excluded.insert(j.at("model").at("unk_id").get<std::uint32_t>());
        if (j.contains("added_tokens"))
            for (const auto& a : j.at("added_tokens")) {
                const auto it = last_id.find(a.at("content").get<std::string>());
                if (it != last_id.end()) excluded.insert(it->second);
            }
        std::vector<std::string> rs{"", "\xE2\x96\x81", "\xE2\x96\x81th", "the", "<unk>", "<0x41>", "\xC4\xA0", "\xC4\xA0in", "Ber"};
        for (const auto& line : sample_lines("en.txt", 4, 40))
            for (std::size_t k = 1; k <= 5 && k <= line.size(); ++k) rs.push_back(meta(line.substr(line.size() - k)));
        for (const std::string prompt : {"The weather in Ber", "今天天", "int main("}) rs.push_back(healer.heal(prompt).remainder);
        for (const auto& r : rs) {
            INFO(name << " remainder '" << r << "'");
            std::vector<std::uint32_t> want, want_pre;
            for (std::uint32_t id = 0; id < pieces.size(); ++id) {
                const std::string& p = pieces[id];
                if (p.empty() || excluded.count(id) || last_id[p] != id) continue;
                if (p.compare(0, r.size(), r) == 0) want.push_back(id);
                if (p.size() <= r.size() && r.compare(0, p.size(), p) == 0) want_pre.push_back(id);
            }
            CHECK(healer.starting_with(r) == want);
            CHECK(healer.prefixes_of(r) == want_pre);
            CHECK(healer.index().count_starting_with(r) == want.size());
        }
    }
}

TEST_CASE("tokenizer.json healing on the issue's examples", "[heal][hf]") {
    if (require_shared("models/hf/bytepiece.zh.id.eu.40k.bytelevel.json")) {
        // The byte-level export has the BytePiece model's ids: "今天天" gives back the last "天".
        const auto& tok = hf_model("bytepiece.zh.id.eu.40k.bytelevel.json");
        const bytepiece::hf_token_healer healer(tok);
        const auto h = healer.heal("今天天");
        CHECK(h.text_remainder == "天");
        CHECK(h.ids == tok.encode("今天"));
        const auto candidates = healer.starting_with(h.remainder);
        REQUIRE(!candidates.empty());
        CHECK(std::binary_search(candidates.begin(), candidates.end(), tok.encode("天气").at(0)));
    }
    if (require_shared("models/hf/albert-30k-clean.from_spm.json")) {
        const auto& tok = hf_model("albert-30k-clean.from_spm.json");
        const bytepiece::hf_token_healer healer(tok);
        const auto h = healer.heal("The weather in Ber");
        // The last pre-token is "▁Ber": at most it is given back, in the model's spelling.
        CHECK(h.remainder.size() <= meta(" Ber").size());
        CHECK(meta(" Ber").compare(meta(" Ber").size() - h.remainder.size(), std::string::npos, h.remainder) == 0);
        CHECK(h.text_remainder.size() <= 4);
        // A trailing space is a pre-token of its own; the empty prompt gives back the prefix "▁".
        const auto s = healer.heal("Hello ");
        CHECK(s.remainder == "\xE2\x96\x81");
        CHECK(s.text_remainder == " ");
        const auto e = healer.heal("");
        CHECK(e.ids.empty());
        CHECK(e.remainder == "\xE2\x96\x81");
        CHECK(e.text_remainder.empty());
    }
}

TEST_CASE("tokenizer.json healing refuses prompts that end inside an added token", "[heal][hf]") {
    if (!require_shared("models/hf/albert-30k-clean.transformers-albert.json")) return;
    const auto& tok = hf_model("albert-30k-clean.transformers-albert.json");
    const bytepiece::hf_token_healer healer(tok);
    try {
        (void)healer.heal("Hello [CL");
        FAIL("no error");
    } catch (const bytepiece::argument_error& e) {
        CHECK(e.code() == bytepiece::errc::heal_undefined);
        CHECK(std::string(e.what()).find("[CLS]") != std::string::npos);
    }
    // A prompt that ends with a whole added token keeps every id.
    const auto h = healer.heal("Hello [MASK]");
    CHECK(h.ids == tok.encode("Hello [MASK]"));
    CHECK(h.removed_ids.empty());
    CHECK(h.remainder.empty());
    CHECK(h.text_remainder.empty());
    // Added tokens before the end do not matter.
    const auto k = healer.heal("[CLS] (Hello) wor");
    std::vector<std::uint32_t> joined = k.ids;
    joined.insert(joined.end(), k.removed_ids.begin(), k.removed_ids.end());
    CHECK(joined == tok.encode("[CLS] (Hello) wor"));
    CHECK(!k.remainder.empty());
}

TEST_CASE("tokenizer.json healing refuses pre-tokenizers it cannot bound, by name", "[heal][hf]") {
    if (!require_shared("models/hf/spm-u2k-identity.from_spm.json")) return;
    auto j = nlohmann::json::parse(test_support::read(shared_path("models/hf/spm-u2k-identity.from_spm.json")));
    const std::vector<std::pair<nlohmann::json, std::string>> refused{
        {{{"type", "Whitespace"}}, "Whitespace"},
        {{{"type", "WhitespaceSplit"}}, "WhitespaceSplit"},
        {{{"type", "BertPreTokenizer"}}, "BertPreTokenizer"},
        {{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}, "use_regex"},
        {{{"type", "Split"}, {"pattern", {{"Regex", "\\d+"}}}, {"behavior", "Isolated"}, {"invert", false}}, "Split"},
        {{{"type", "Punctuation"}, {"behavior", "Isolated"}}, "Punctuation"},
        {{{"type", "Digits"}, {"individual_digits", true}}, "Digits"},
        {{{"type", "Sequence"}, {"pretokenizers", {{{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "always"}, {"split", true}},
                                                  {{"type", "Digits"}, {"individual_digits", false}}}}},
         "Digits"},
    };
    for (const auto& [pre, word] : refused) {
        j["pre_tokenizer"] = pre;
        const auto tok = bytepiece::hf_tokenizer::from_json(j.dump(), "variant.json");
        INFO(pre.dump());
        try {
            const bytepiece::hf_token_healer healer(tok);
            FAIL("no error");
        } catch (const bytepiece::argument_error& e) {
            CHECK(e.code() == bytepiece::errc::heal_undefined);
            CHECK(std::string(e.what()).find(word) != std::string::npos);
        }
    }
    // No pre-tokenizer, and Metaspace without split: one pre-token per segment, healed.
    for (const nlohmann::json& pre : {nlohmann::json(nullptr),
                                      nlohmann::json{{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "first"}, {"split", false}}}) {
        j["pre_tokenizer"] = pre;
        const auto tok = bytepiece::hf_tokenizer::from_json(j.dump(), "variant.json");
        const bytepiece::hf_token_healer healer(tok);
        for (const std::string line : {"The weather in Berlin is fine.", "Hello world"}) {
            const auto full = tok.encode(line);
            for (const std::size_t cut : char_starts(line)) {
                const auto h = healer.heal(line.substr(0, cut));
                std::vector<std::uint32_t> joined = h.ids;
                joined.insert(joined.end(), h.removed_ids.begin(), h.removed_ids.end());
                REQUIRE(joined == tok.encode(line.substr(0, cut)));
            }
        }
    }
}

TEST_CASE("tokenizer.json healing across chunks: prompts with newlines on the byte-level exports", "[heal][hf]") {
    // The corpus lines hold no '\n'; here the BytePiece chunk split has several chunks, and the
    // prompt may end inside a run of '\n' (which a continuation can extend) or just after it.
    for (const std::string name : {"bytepiece.eu.plus.40k.bytelevel.json", "bytepiece.zh.id.eu.40k.bytelevel.json"}) {
        if (!require_shared("models/hf/" + name)) continue;
        const auto& tok = hf_model(name);
        const bytepiece::hf_token_healer healer(tok);
        const auto en = sample_lines("en.txt", 6, 40);
        const auto zh = sample_lines("zh.txt", 6, 30);
        std::size_t on_boundary = 0, cuts = 0;
        for (std::size_t i = 0; i + 1 < en.size(); ++i) {
            const std::string text = en[i] + "\n" + zh[i] + "\n\n" + en[i + 1] + "\n";
            const auto full = tok.encode(text);
            const auto full_tokens = tok.tokenize(text);
            for (const std::size_t cut : char_starts(text)) {
                ++cuts;
                const std::string prompt = text.substr(0, cut);
                INFO(name << " prompt '" << prompt << "'");
                const auto h = healer.heal(prompt);
                std::vector<std::uint32_t> joined = h.ids;
                joined.insert(joined.end(), h.removed_ids.begin(), h.removed_ids.end());
                REQUIRE(joined == tok.encode(prompt));
                // Only the last chunk is healed: the text given back holds no '\n' followed by
                // something else.
                const std::size_t nl = h.text_remainder.find('\n');
                if (nl != std::string::npos) REQUIRE(h.text_remainder.find_first_not_of('\n', nl) == std::string::npos);
                const std::string kept = spelled(tok.tokenize(prompt), h.ids.size());
                std::size_t j = 0, length = 0;
                while (j < full_tokens.size() && length < kept.size()) length += full_tokens[j++].size();
                if (length != kept.size() || spelled(full_tokens, j) != kept) continue;
                ++on_boundary;
                REQUIRE(std::equal(h.ids.begin(), h.ids.end(), full.begin()));
            }
        }
        INFO(on_boundary << " of " << cuts);
        CHECK(on_boundary * 10 > cuts * 8);
    }
}
