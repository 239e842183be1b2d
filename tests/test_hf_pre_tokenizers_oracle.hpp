// SPDX-License-Identifier: Apache-2.0
// HF's pre-tokenizers as an oracle: a pre_tokenizer JSON value is loaded into a minimal
// tokenizer.json by node's `tokenizers` package and its preTokenizeString gives the pieces.
// Shared by test_hf_pre_tokenizers*.cpp (and the regex tests, through Split).
#pragma once

#include "hf_oracle.hpp"

#include <bytepiece/detail/hf_pre_tokenizers.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace pre_tokenizer_oracle {

using pieces = std::vector<std::string>;

/// One result per config: HF's pieces of every text, or the load error as a string.
struct result {
    bool loaded = false;
    std::string error;
    std::vector<pieces> texts;
};

inline const char* script() {
    return R"js('use strict';
const { Tokenizer } = require('tokenizers');
const fs = require('fs');
const j = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const out = [];
for (const c of j.configs) {
  try {
    const tok = Tokenizer.fromString(JSON.stringify({version: '1.0', truncation: null, padding: null,
      added_tokens: [], normalizer: null, pre_tokenizer: c, post_processor: null, decoder: null,
      model: {type: 'Unigram', unk_id: 0, vocab: [['<unk>', 0]], byte_fallback: false}}));
    const pt = tok.getPreTokenizer();
    // Empty pieces never reach the model, so they are left out (as hf_pre_tokenizer does).
    out.push(j.texts.map((t) => (pt ? pt.preTokenizeString(t).map((x) => x[0]) : [t]).filter((s) => s.length)));
  } catch (e) {
    out.push(String(e));
  }
}
fs.writeFileSync(process.argv[3], JSON.stringify(out));
)js";
}

/// Runs HF on every (config, text) pair. Call hf_oracle::available() first.
inline std::vector<result> run(const std::vector<nlohmann::json>& configs, const std::vector<std::string>& texts) {
#if defined(BYTEPIECE_HF_ORACLE_DIR) && defined(BYTEPIECE_NODE)
    const std::string dir = hf_oracle::detail::work_dir();
    static int serial = 0;
    const std::string stem = dir + "/pre_tokenizers." + std::to_string(::getpid()) + "." + std::to_string(serial++);
    {
        std::ofstream f(stem + ".js", std::ios::binary);
        f << script();
    }
    {
        nlohmann::json in;
        in["configs"] = configs;
        in["texts"] = texts;
        std::ofstream f(stem + ".in.json", std::ios::binary);
        f << in.dump();
    }
    const std::string command = "NODE_PATH=" + hf_oracle::detail::quote(std::string(BYTEPIECE_HF_ORACLE_DIR) + "/node_modules") +
                                " " + hf_oracle::detail::quote(BYTEPIECE_NODE) + " " + hf_oracle::detail::quote(stem + ".js") +
                                " " + hf_oracle::detail::quote(stem + ".in.json") + " " +
                                hf_oracle::detail::quote(stem + ".out.json");
    if (std::system(command.c_str()) != 0) throw std::runtime_error("pre-tokenizer oracle failed: " + command);
    const auto out = nlohmann::json::parse(test_support::read(stem + ".out.json"));
    for (const char* ext : {".js", ".in.json", ".out.json"}) std::remove((stem + ext).c_str());
    std::vector<result> results;
    for (const auto& r : out) {
        result x;
        if (r.is_string()) {
            x.error = r.get<std::string>();
        } else {
            x.loaded = true;
            for (const auto& t : r) x.texts.push_back(t.get<pieces>());
        }
        results.push_back(std::move(x));
    }
    if (results.size() != configs.size()) throw std::runtime_error("pre-tokenizer oracle: result count");
    return results;
#else
    (void)configs, (void)texts;
    throw std::runtime_error("pre-tokenizer oracle: not built with the oracle paths");
#endif
}

/// Our pieces of `text` (at the start of the text) with a loaded pre-tokenizer.
inline pieces ours(const bytepiece::detail::hf_pre_tokenizer& p, const std::string& text) {
    std::string out = "junk";  // pre_tokenize appends
    std::vector<std::uint32_t> ends;
    p.pre_tokenize(text, true, out, ends);
    pieces r;
    std::uint32_t begin = 4;
    for (const auto e : ends) {
        r.push_back(out.substr(begin, e - begin));
        begin = e;
    }
    return r;
}

/// Edge texts, corpus lines and random Unicode strings (valid UTF-8), the same on every run.
inline std::vector<std::string> sample_texts(std::size_t per_corpus, std::size_t random_count) {
    std::vector<std::string> texts = {
        "", " ", "  ", "a", " a", "a ", "Hello world", "  Hello   world  ", "it's 42 apples, isn't it?! 3.14",
        "\xE2\x96\x81x \xE2\x96\x81\xE2\x96\x81y", "x\xE2\x96\x81", "\t\n x\xC2\xA0y\xE3\x80\x80z",
        "caf\xC3\xA9 na\xC3\xAFve \xE4\xB8\xAD\xE6\x96\x87 \xD9\xA1\xD9\xA2 \xC2\xB2\xC2\xBD", "a_b-c.d", "banana",
        "\xF0\x9F\x98\x80 emoji\xF0\x9F\x98\x81!", "...", "x\xE2\x80\x8Dy \xE2\x80\x8C", "\xCC\x81" "a",
        "line\r\nnext\n\nend", "we'll I'd they've you're", "a{2} [x] (y) $^ \\d", "\xEF\xBC\x91\xEF\xBC\x92 \xE2\x85\xA0"};
    for (const char* name : {"en.txt", "zh.txt", "code.txt", "mixed.txt"}) {
        const std::string path = test_support::shared_path(std::string("corpus/") + name);
        if (!test_support::file_exists(path)) continue;
        std::ifstream f(path, std::ios::binary);
        std::string line;
        std::size_t kept = 0;
        for (std::size_t i = 0; kept < per_corpus && std::getline(f, line); ++i)
            if (i % 97 == 0) texts.push_back(line), ++kept;
    }
    const char* alphabet[] = {" ", "  ", "\t", "\n", "\r", "a", "Z", "\xC3\xA9", "'", "s", "t", "re", "ll", "1", "\xD9\xA3",
                              "\xE4\xB8\xAD", "!", ",", ".", "\xC2\xA0", "\xE3\x80\x80", "\xE2\x96\x81", "\xF0\x9F\x98\x80",
                              "\xCC\x81", "_", "-", "\xC2\xB2", "(", "x", "ab", "\xE2\x80\x8D"};
    std::mt19937 rng(20240518);
    for (std::size_t i = 0; i < random_count; ++i) {
        std::string t;
        const auto len = rng() % 20;
        for (unsigned k = 0; k < len; ++k) {
            if (rng() % 4 != 0) {
                t += alphabet[rng() % (sizeof alphabet / sizeof alphabet[0])];
                continue;
            }
            // A random scalar value, mostly from the BMP.
            char32_t cp = rng() % 3 == 0 ? 0x10000 + rng() % 0x100000 : 0x20 + rng() % 0xFFE0;
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'q';
            char buf[4];
            t.append(buf, bytepiece::detail::utf8::encode(cp, buf));
        }
        texts.push_back(t);
    }
    return texts;
}

}  // namespace pre_tokenizer_oracle
