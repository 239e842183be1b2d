// SPDX-License-Identifier: Apache-2.0
// detail::regex against Oniguruma inside HF tokenizers 0.23 (node), through the Split
// pre-tokenizer with behavior Isolated: the pieces are the matches and the text between them,
// so equal pieces mean equal match spans (empty matches aside, which split nothing).
#include "test_hf_pre_tokenizers_oracle.hpp"

#include <bytepiece/detail/regex.hpp>

using bytepiece::detail::regex;
using nlohmann::json;

namespace {

json split_config(const std::string& pattern) {
    return {{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}};
}

pre_tokenizer_oracle::pieces isolated(const regex& r, const std::string& text) {
    pre_tokenizer_oracle::pieces p;
    std::size_t prev = 0;
    r.for_each_match(text, [&](std::size_t b, std::size_t e) {
        if (b > prev) p.push_back(text.substr(prev, b - prev));
        if (e > b) p.push_back(text.substr(b, e - b));
        prev = e;
    });
    if (prev < text.size()) p.push_back(text.substr(prev));
    return p;
}

std::size_t compare(const std::vector<std::string>& patterns, const std::vector<std::string>& texts) {
    std::vector<json> configs;
    for (const auto& p : patterns) configs.push_back(split_config(p));
    const auto hf = pre_tokenizer_oracle::run(configs, texts);
    std::size_t compared = 0;
    for (std::size_t i = 0; i < patterns.size(); ++i) {
        INFO("pattern " << json(patterns[i]).dump());
        REQUIRE(hf[i].loaded);
        const regex r(patterns[i]);
        for (std::size_t t = 0; t < texts.size(); ++t) {
            INFO("text " << json(texts[t]).dump());
            REQUIRE(isolated(r, texts[t]) == hf[i].texts[t]);
            ++compared;
        }
    }
    return compared;
}

}  // namespace

TEST_CASE("regex: tokenizer.json patterns match as Oniguruma does on edge, corpus and random texts", "[hf][regex]") {
    if (!hf_oracle::available()) return;
    const std::vector<std::string> patterns = {
        " {2,}", "[^\\n]*\\n+", "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", "\\s+",
        "\\w+|[^\\w\\s]+",
        "(?:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
        "\\s+(?!\\S)|\\s+",
        "\\p{N}", "\\d{1,3}", "[\\p{P}\\p{S}]", ".", ".*", "a*", "", "\\s*", "x*?y?", "(?=\\s)", "(?!\\S)\\s", "$", "^\\s*",
        "^", "(\\p{L}|\\p{N})+", "[^ ]+", " ?[a-z]+", "\\p{Ll}+?\\p{Ll}", "(?:\\s|\\p{P}){2,4}", "a{,2}", "a{2}|b{1,}",
        "{", "a{", "\\A.|.\\z|\\n\\Z", "[\\]a-c-]", "[^\\x00-\\x7F]+", "\\x{1F600}|\\u00e9", "\\W+", "[\\W\\d]", "\\S+",
        "\\p{^L}+", "\\P{N}\\p{Zs}", "(?:ab)*c?", "(a|ab)(c|bcd)?", "\\.\\-\\'"};
    const auto texts = pre_tokenizer_oracle::sample_texts(100, 600);
    WARN("compared " << compare(patterns, texts) << " (pattern, text) pairs with HF");
}

TEST_CASE("regex: every class agrees with Oniguruma on every code point", "[hf][regex]") {
    if (!hf_oracle::available()) return;
    // Every scalar value once, in order, in chunks; each unit is matched on its own.
    std::vector<std::string> texts;
    std::string chunk;
    for (char32_t cp = 1; cp < 0x110000; ++cp) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        char buf[4];
        chunk.append(buf, bytepiece::detail::utf8::encode(cp, buf));
        if (cp % 0x8000 == 0) texts.push_back(std::move(chunk)), chunk.clear();
    }
    texts.push_back(chunk);
    // The main categories, \w and \s in and out of brackets (the subcategories come from the same
    // table); \h stands for an escape this engine refuses.
    const std::vector<std::string> classes = {"\\w", "\\W",     "\\s",     "\\d",     "\\p{L}", "\\p{N}",    "\\p{P}", "\\p{S}",
                                              "\\p{M}", "\\p{Z}", "\\p{C}", "\\p{Lu}", "[\\w]",  "[^\\w\\s]", ".",      "\\h"};
    std::vector<std::string> patterns;
    for (const auto& c : classes) {
        bool ok = true;
        try {
            regex r(c);
        } catch (const bytepiece::detail::regex_unsupported&) {
            ok = false;
        }
        if (ok) patterns.push_back(c + "+");  // runs: equal pieces mean equal membership
    }
    CHECK(patterns.size() + 1 == classes.size());  // \h is not supported
    WARN("compared " << compare(patterns, texts) << " (class, 32K-code-point chunk) pairs with HF");
}

TEST_CASE("regex: what Oniguruma refuses is refused", "[hf][regex]") {
    const std::vector<std::string> bad = {"*a", "(", ")", "[a", "{1}x", "\\", "(?", "[b-a]", "a|*", "[\\w-z]"};
    std::vector<json> configs;
    for (const auto& p : bad) {
        INFO(p);
        CHECK_THROWS_AS(regex(p), bytepiece::detail::regex_unsupported);
        configs.push_back(split_config(p));
    }
    if (!hf_oracle::available()) return;
    const auto hf = pre_tokenizer_oracle::run(configs, {"a"});
    for (std::size_t i = 0; i < bad.size(); ++i) {
        INFO(bad[i]);
        CHECK(!hf[i].loaded);
    }
}
