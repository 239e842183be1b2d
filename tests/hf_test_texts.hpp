// SPDX-License-Identifier: Apache-2.0
// Texts and oracle helpers shared by the tokenizer.json pipeline tests (test_hf_tokenizer,
// test_hf_cli): the edge cases every fixture is checked on, and HF's tokens and decoded text
// through tests/oracle/hf_decode.js.
#pragma once

#include "hf_oracle.hpp"
#include "test_support.hpp"

#include "bytepiece/detail/base64.hpp"
#include "bytepiece/detail/utf8.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace hf_test {

/// Every fixture of models/hf.
inline const std::vector<std::string>& fixtures() {
    static const std::vector<std::string> f = {
        "albert-30k-clean.from_spm.json",    "albert-30k-clean.transformers-albert.json",
        "spm-u2k-nmt_nfkc.from_spm.json",    "spm-u2k-identity.from_spm.json",
        "spm-u2k-bytefallback.from_spm.json", "bytepiece.eu.plus.40k.bytelevel.json",
        "bytepiece.zh.id.eu.40k.bytelevel.json",
    };
    return f;
}

/// The inputs of golden/edge_cases.jsonl (once each, valid UTF-8 only) and our own: whitespace
/// runs, literal special tokens, U+2581, combining marks, characters no vocab has, empty text.
inline std::vector<std::string> edge_texts() {
    std::vector<std::string> texts;
    std::set<std::string> seen;
    const auto add = [&](const std::string& t) {
        if (bytepiece::detail::utf8::is_valid(t) && seen.insert(t).second) texts.push_back(t);
    };
    std::ifstream in(test_support::shared_path("golden/edge_cases.jsonl"));
    for (std::string line; std::getline(in, line);) {
        const auto j = nlohmann::json::parse(line);
        std::string text;
        REQUIRE(bytepiece::detail::base64_decode(j.at("text_b64").get<std::string>(), text));
        add(text);
    }
    for (const char* t : {
             "", " ", "  ", "   a   b   ", "\t\n \r\n", "a  b   c    d", " leading", "trailing ", "\xE3\x80\x80" "full width",
             "</s>", "<s>", "<unk>", "[MASK]", "[CLS] a [SEP]", "x[MASK]y", "a [MASK] b", "a  [MASK]  b", "<pad><unk>",
             "<0x41>", "<0x41><0xE4>", "<0xZZ>", "<mask>", "<cls> <sep>",
             "\xE2\x96\x81", "\xE2\x96\x81\xE2\x96\x81 x", "a\xE2\x96\x81" "b", " \xE2\x96\x81 ",
             "e\xCC\x81", "a\xCC\x81\xCC\x81\xCC\x81", "\xEF\xBC\xA1\xCC\x81", "\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB",
             "\xF0\xA0\x80\x80\xF0\xA0\x80\x81", "\xE2\x98\x83\xE2\x98\x83", "\xEE\x80\x80", "\xF4\x8F\xBF\xBF",
             "(x) \"y\" - z. \xE2\x80\x93 \xC2\xA3 \xE2\x82\xAC", "1,200 2010, \xE2\x82\xAC" "1,200",
             "Hello  world! The caf\xC3\xA9's price: \xE2\x82\xAC" "1,200 (approx.) <mask> \xE4\xBD\xA0\xE5\xA5\xBD",
             "``quoted'' text", "HELLO \xC3\x89T\xC3\x89", "\x01\x02\x7F"}) {
        add(t);
    }
    add(std::string("nul\0inside", 10));
    return texts;
}

/// Runs tests/oracle/hf_decode.js on `requests` (JSON objects) and returns its answers.
inline std::vector<nlohmann::json> oracle_requests(const std::string& tokenizer_json, const std::vector<nlohmann::json>& requests) {
#if defined(BYTEPIECE_HF_ORACLE_DIR) && defined(BYTEPIECE_NODE)
    static int serial = 0;
    const std::string stem = hf_oracle::detail::work_dir() + "/requests." + std::to_string(::getpid()) + "." + std::to_string(serial++);
    {
        std::ofstream f(stem + ".jsonl", std::ios::binary);
        for (const auto& r : requests) f << r.dump() << '\n';
    }
    const std::string command = hf_oracle::detail::quote(BYTEPIECE_NODE) + " " +
                                hf_oracle::detail::quote(std::string(BYTEPIECE_HF_ORACLE_DIR) + "/hf_decode.js") + " " +
                                hf_oracle::detail::quote(tokenizer_json) + " " + hf_oracle::detail::quote(stem + ".jsonl");
    const auto r = test_support::run(command);
    std::remove((stem + ".jsonl").c_str());
    REQUIRE(r.status == 0);
    std::vector<nlohmann::json> out;
    std::size_t start = 0;
    while (start < r.out.size()) {
        const std::size_t nl = r.out.find('\n', start);
        out.push_back(nlohmann::json::parse(r.out.substr(start, nl - start)));
        start = nl + 1;
    }
    REQUIRE(out.size() == requests.size());
    return out;
#else
    (void)tokenizer_json, (void)requests;
    throw std::runtime_error("hf oracle: not built with the oracle paths");
#endif
}

}  // namespace hf_test
