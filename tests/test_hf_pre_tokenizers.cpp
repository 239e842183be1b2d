// SPDX-License-Identifier: Apache-2.0
// hf_pre_tokenizer against HF tokenizers 0.23 (node): every pre-tokenizer and option combination
// on edge texts, corpus lines and random Unicode; and the JSON errors.
#include "test_hf_pre_tokenizers_oracle.hpp"

#include <bytepiece/detail/hf_pre_tokenizers.hpp>

#include <optional>

using bytepiece::detail::hf_pre_tokenizer;
using nlohmann::json;
namespace hf_json = bytepiece::detail::hf_json;

namespace {

const std::string source = "tok.json";

hf_pre_tokenizer load(const json& value) { return hf_pre_tokenizer(hf_json::cursor(value, source, "pre_tokenizer")); }

std::vector<json> configs() {
    const std::string meta = "\xE2\x96\x81";
    std::vector<json> c;
    for (const std::string& rep : {meta, std::string(" "), std::string("_"), std::string("\xC3\xA9"), std::string("a")})
        for (const char* scheme : {"always", "first", "never", ""})
            for (int split = 0; split < 3; ++split) {
                json m = {{"type", "Metaspace"}, {"replacement", rep}};
                if (*scheme) m["prepend_scheme"] = scheme;
                if (split < 2) m["split"] = split == 1;
                c.push_back(m);
            }
    c.push_back({{"type", "Metaspace"}, {"replacement", meta}, {"add_prefix_space", true}});
    c.push_back({{"type", "Metaspace"}, {"replacement", meta}, {"add_prefix_space", false}, {"prepend_scheme", "never"}});
    c.push_back({{"type", "Metaspace"}, {"replacement", meta}, {"add_prefix_space", true}, {"prepend_scheme", "first"}});
    c.push_back({{"type", "Metaspace"}, {"replacement", meta}, {"str_rep", meta}});
    c.push_back({{"type", "WhitespaceSplit"}});
    c.push_back({{"type", "Whitespace"}});
    c.push_back({{"type", "BertPreTokenizer"}});
    c.push_back({{"type", "CharDelimiterSplit"}, {"delimiter", " "}});
    c.push_back({{"type", "CharDelimiterSplit"}, {"delimiter", meta}});
    const json patterns[] = {{{"String", " "}},       {{"String", ""}},         {{"String", "ab"}},
                             {{"String", ".*"}},      {{"Regex", "\\s+"}},      {{"Regex", "a*"}},
                             {{"Regex", ""}},         {{"Regex", "\\p{P}"}},    {{"Regex", " ?\\p{L}+"}},
                             {{"Regex", " {2,}"}},    {{"Regex", "[^\\n]*\\n+"}}};
    for (const char* behavior : {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"}) {
        for (const bool invert : {false, true})
            for (const auto& p : patterns)
                c.push_back({{"type", "Split"}, {"pattern", p}, {"behavior", behavior}, {"invert", invert}});
        c.push_back({{"type", "Punctuation"}, {"behavior", behavior}});
    }
    c.push_back({{"type", "Punctuation"}});
    c.push_back({{"type", "Digits"}, {"individual_digits", true}});
    c.push_back({{"type", "Digits"}, {"individual_digits", false}});
    for (const bool prefix : {true, false})
        for (int regex = 0; regex < 3; ++regex) {
            json b = {{"type", "ByteLevel"}, {"add_prefix_space", prefix}, {"trim_offsets", regex == 1}};
            if (regex < 2) b["use_regex"] = regex == 0;
            c.push_back(b);
        }
    const json first = {{"type", "Metaspace"}, {"replacement", meta}, {"prepend_scheme", "first"}};
    c.push_back({{"type", "Sequence"}, {"pretokenizers", {{{"type", "WhitespaceSplit"}}, first}}});
    c.push_back({{"type", "Sequence"}, {"pretokenizers", {{{"type", "Punctuation"}}, first}}});
    c.push_back({{"type", "Sequence"},
                 {"pretokenizers",
                  {{{"type", "Split"}, {"pattern", {{"Regex", "\\d"}}}, {"behavior", "Removed"}, {"invert", false}}, first}}});
    c.push_back({{"type", "Sequence"},
                 {"pretokenizers",
                  {{{"type", "Metaspace"}, {"replacement", meta}},
                   {{"type", "Digits"}, {"individual_digits", true}},
                   {{"type", "Punctuation"}}}}});
    c.push_back({{"type", "Sequence"},
                 {"pretokenizers",
                  {{{"type", "Split"},
                    {"pattern",
                     {{"Regex", "(?:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
                                "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}}},
                    {"behavior", "Isolated"},
                    {"invert", false}},
                   {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}});
    c.push_back({{"type", "Sequence"},
                 {"pretokenizers",
                  {{{"type", "WhitespaceSplit"}}, {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}}}}});
    c.push_back({{"type", "Sequence"}, {"pretokenizers", json::array()}});
    c.push_back({{"type", "Sequence"},
                 {"pretokenizers",
                  {{{"type", "Sequence"}, {"pretokenizers", {{{"type", "Whitespace"}}}}},
                   {{"type", "Digits"}, {"individual_digits", false}}}}});
    c.push_back({{"type", "Sequence"}, {"pretokenizers", {{{"type", "BertPreTokenizer"}}, first}}});
    return c;
}

std::optional<bytepiece::errc> load_error(const json& value) {
    try {
        load(value);
    } catch (const bytepiece::model_error& e) {
        return e.code();
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("hf_pre_tokenizer: every pre-tokenizer and option combination agrees with HF", "[hf][pre_tokenizer]") {
    if (!hf_oracle::available()) return;
    const auto texts = pre_tokenizer_oracle::sample_texts(60, 300);
    const auto cs = configs();
    const auto hf = pre_tokenizer_oracle::run(cs, texts);
    std::size_t compared = 0;
    for (std::size_t i = 0; i < cs.size(); ++i) {
        INFO("config " << cs[i].dump());
        REQUIRE(hf[i].loaded);
        const hf_pre_tokenizer p = load(cs[i]);
        for (std::size_t t = 0; t < texts.size(); ++t) {
            INFO("text " << json(texts[t]).dump());
            REQUIRE(pre_tokenizer_oracle::ours(p, texts[t]) == hf[i].texts[t]);
            ++compared;
        }
    }
    WARN("compared " << compared << " (pre-tokenizer, text) pairs with HF");
}

TEST_CASE("hf_pre_tokenizer: what HF refuses to load is refused", "[hf][pre_tokenizer]") {
    const std::string meta = "\xE2\x96\x81";
    const std::vector<std::pair<json, bytepiece::errc>> cases = {
        // spec 3.6: add_prefix_space false needs prepend_scheme "never"
        {{{"type", "Metaspace"}, {"replacement", meta}, {"add_prefix_space", false}}, bytepiece::errc::model_hf_invalid},
        {{{"type", "Metaspace"}, {"replacement", meta}, {"add_prefix_space", false}, {"prepend_scheme", "first"}},
         bytepiece::errc::model_hf_invalid},
        {{{"type", "Metaspace"}, {"replacement", "ab"}}, bytepiece::errc::model_hf_invalid},
        {{{"type", "Metaspace"}, {"replacement", ""}}, bytepiece::errc::model_hf_invalid},
        {{{"type", "Metaspace"}, {"replacement", meta}, {"prepend_scheme", "sometimes"}}, bytepiece::errc::model_hf_invalid},
        {{{"type", "Metaspace"}}, bytepiece::errc::model_hf_malformed},
        {{{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Bogus"}, {"invert", false}},
         bytepiece::errc::model_hf_invalid},
        {{{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Isolated"}}, bytepiece::errc::model_hf_malformed},
        {{{"type", "Digits"}}, bytepiece::errc::model_hf_malformed},
        {{{"type", "ByteLevel"}, {"add_prefix_space", true}}, bytepiece::errc::model_hf_malformed},
        {{{"type", "CharDelimiterSplit"}, {"delimiter", "ab"}}, bytepiece::errc::model_hf_invalid},
    };
    std::vector<json> values;
    for (const auto& c : cases) {
        INFO(c.first.dump());
        CHECK(load_error(c.first) == c.second);
        values.push_back(c.first);
    }
    if (!hf_oracle::available()) return;
    const auto hf = pre_tokenizer_oracle::run(values, {"a b"});
    for (std::size_t i = 0; i < values.size(); ++i) {
        INFO(values[i].dump());
        CHECK(!hf[i].loaded);
    }
}

TEST_CASE("hf_pre_tokenizer: unknown types and options are unsupported, naming the key", "[hf][pre_tokenizer]") {
    const std::string meta = "\xE2\x96\x81";
    const std::vector<json> cases = {
        {{"type", "UnicodeScripts"}},
        {{"type", "FixedLength"}, {"length", 5}},
        {{"type", "Nope"}},
        {{"type", "Metaspace"}, {"replacement", meta}, {"foo", 1}},
        {{"type", "Whitespace"}, {"foo", 1}},
        {{"type", "Sequence"}, {"pretokenizers", {{{"type", "WhitespaceSplit"}}, {{"type", "UnicodeScripts"}}}}},
        {{"type", "Split"}, {"pattern", {{"Regex", "(?<=a)b"}}}, {"behavior", "Isolated"}, {"invert", false}},
        {{"type", "Split"}, {"pattern", {{"Regex", "\\p{Han}+"}}}, {"behavior", "Isolated"}, {"invert", false}},
        {{"replacement", meta}},
    };
    for (const auto& c : cases) {
        INFO(c.dump());
        CHECK(load_error(c) == bytepiece::errc::model_hf_unsupported);
    }
    try {
        load(json{{"type", "Sequence"}, {"pretokenizers", {{{"type", "WhitespaceSplit"}}, {{"type", "UnicodeScripts"}}}}});
        FAIL("loaded");
    } catch (const bytepiece::model_error& e) {
        CHECK(std::string(e.what()).find("tok.json: pre_tokenizer.pretokenizers[1].type") != std::string::npos);
    }
    try {
        load(json{{"type", "Split"}, {"pattern", {{"Regex", "(?<=a)b"}}}, {"behavior", "Isolated"}, {"invert", false}});
        FAIL("loaded");
    } catch (const bytepiece::model_error& e) {
        CHECK(std::string(e.what()).find("pre_tokenizer.pattern.Regex") != std::string::npos);
        CHECK(std::string(e.what()).find("lookbehind") != std::string::npos);
    }
}

TEST_CASE("hf_pre_tokenizer: Metaspace prepend_scheme first only at the text start", "[hf][pre_tokenizer]") {
    // HF prepends under "first" only to the piece whose original offset is 0 (metaspace.rs).
    const auto p = load(json{{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "first"}});
    std::string out;
    std::vector<std::uint32_t> ends;
    p.pre_tokenize("a b", true, out, ends);
    p.pre_tokenize("c", false, out, ends);
    CHECK(out == "\xE2\x96\x81" "a" "\xE2\x96\x81" "bc");
    CHECK(ends == std::vector<std::uint32_t>{4, 8, 9});
    const auto always = load(json{{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}});
    out.clear();
    ends.clear();
    always.pre_tokenize("c", false, out, ends);
    CHECK(out == "\xE2\x96\x81" "c");
    always.pre_tokenize("", true, out, ends);  // an empty segment gives no pre-token
    CHECK(ends.size() == 1);
}

TEST_CASE("hf_pre_tokenizer: null is no pre-tokenizer", "[hf][pre_tokenizer]") {
    const auto p = load(json(nullptr));
    CHECK(p.is_identity());
    std::string out;
    std::vector<std::uint32_t> ends;
    p.pre_tokenize("a b", true, out, ends);
    p.pre_tokenize("", true, out, ends);
    CHECK(out == "a b");
    CHECK(ends == std::vector<std::uint32_t>{3});
}
