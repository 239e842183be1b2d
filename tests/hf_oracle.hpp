// SPDX-License-Identifier: Apache-2.0
// HF tokenizers 0.23.2 as an oracle: tests/oracle/hf_ids.js run with node (both found by CMake,
// installed by scripts/deps.sh). Tests named test_hf_*.cpp may include this.
#pragma once

#include "test_support.hpp"

#include <nlohmann/json.hpp>

#include "bytepiece/detail/hash.hpp"

#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace hf_oracle {

using ids = std::vector<std::uint32_t>;

/// True if node and the oracle package are there; otherwise records a warning saying why the
/// oracle checks of the calling test are skipped.
inline bool available() {
#if defined(BYTEPIECE_HF_ORACLE_DIR) && defined(BYTEPIECE_NODE)
    if (std::string(BYTEPIECE_HF_ORACLE_DIR).empty()) {
        WARN("skipped: HF tokenizers oracle absent (run scripts/deps.sh test: it installs node and the npm "
             "package tokenizers 0.23.2 into tests/oracle)");
        return false;
    }
    return true;
#else
    WARN("skipped: this test was not built with the HF oracle paths (tests named test_hf_* get them)");
    return false;
#endif
}

namespace detail {

inline std::string work_dir() {
    const std::string dir = std::string(BYTEPIECE_BINARY_DIR) + "/hf_oracle";
    ::mkdir(dir.c_str(), 0777);
    return dir;
}

inline std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        if (c == '\'')
            q += "'\\''";
        else
            q += c;
    }
    return q + "'";
}

// Parses the oracle's output: one JSON array of ids per line.
inline std::vector<ids> parse(const std::string& out) {
    std::vector<ids> result;
    std::size_t i = 0;
    while (i < out.size()) {
        if (out[i] != '[') throw std::runtime_error("hf oracle: unexpected output near byte " + std::to_string(i));
        ++i;
        ids line;
        while (i < out.size() && out[i] != ']') {
            std::uint64_t v = 0;
            bool digits = false;
            while (i < out.size() && out[i] >= '0' && out[i] <= '9') {
                v = v * 10 + static_cast<unsigned>(out[i] - '0');
                ++i;
                digits = true;
            }
            if (!digits) throw std::runtime_error("hf oracle: expected an id near byte " + std::to_string(i));
            line.push_back(static_cast<std::uint32_t>(v));
            if (i < out.size() && out[i] == ',') ++i;
        }
        i += 2;  // "]\n"
        result.push_back(std::move(line));
    }
    return result;
}

inline std::vector<ids> run(const std::string& tokenizer_json, const std::string& texts_path, bool special, bool lines,
                            const std::string& out_path) {
#if defined(BYTEPIECE_HF_ORACLE_DIR) && defined(BYTEPIECE_NODE)
    const std::string tmp = out_path + ".tmp" + std::to_string(::getpid());
    const std::string command = quote(BYTEPIECE_NODE) + " " + quote(std::string(BYTEPIECE_HF_ORACLE_DIR) + "/hf_ids.js") +
                                " " + quote(tokenizer_json) + " " + quote(texts_path) + (special ? " --special" : "") +
                                (lines ? " --lines" : "") + " > " + quote(tmp);
    if (std::system(command.c_str()) != 0) throw std::runtime_error("hf oracle failed: " + command);
    if (std::rename(tmp.c_str(), out_path.c_str()) != 0) throw std::runtime_error("hf oracle: cannot rename " + tmp);
    return parse(test_support::read(out_path));
#else
    (void)tokenizer_json, (void)texts_path, (void)special, (void)lines, (void)out_path;
    throw std::runtime_error("hf oracle: not built with the oracle paths");
#endif
}

inline std::string base_name(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

// Where encode_lines keeps HF's ids: BYTEPIECE_HF_ORACLE_CACHE when CMake gives one (the test
// command gives its stages one folder, so that the sanitizer stage reuses what the Release stage
// computed), else the work folder.
inline std::string cache_dir() {
#if defined(BYTEPIECE_HF_ORACLE_CACHE)
    const std::string dir = BYTEPIECE_HF_ORACLE_CACHE;
    if (!dir.empty()) {
        ::mkdir(dir.c_str(), 0777);
        return dir;
    }
#endif
    return work_dir();
}

// The content's hash in hex: cached ids are keyed by what the files hold, not by their names.
inline std::string content_key(const std::string& path) {
    const std::string bytes = test_support::read(path);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(bytepiece::detail::hash_bytes(bytes)));
    return hex;
}

}  // namespace detail

/// HF's ids of each text (valid UTF-8) with the tokenizer.json at `tokenizer_json`; with
/// `special`, the post-processor runs (add_special_tokens = true). Call `available()` first.
inline std::vector<ids> encode(const std::string& tokenizer_json, const std::vector<std::string>& texts, bool special) {
    const std::string dir = detail::work_dir();
    static int serial = 0;
    const std::string stem = dir + "/texts." + std::to_string(::getpid()) + "." + std::to_string(serial++);
    {
        std::ofstream f(stem + ".jsonl", std::ios::binary);
        for (const auto& t : texts) f << nlohmann::json(t).dump() << '\n';
    }
    auto result = detail::run(tokenizer_json, stem + ".jsonl", special, false, stem + ".ids");
    std::remove((stem + ".jsonl").c_str());
    std::remove((stem + ".ids").c_str());
    if (result.size() != texts.size()) throw std::runtime_error("hf oracle: id lines do not match the texts");
    return result;
}

/// HF's ids of every line of the text file `corpus` (each line without its '\n'), computed once
/// for the files' contents and kept (see cache_dir), so that several tests can compare with them.
inline std::vector<ids> encode_lines(const std::string& tokenizer_json, const std::string& corpus, bool special) {
    const std::string cached = detail::cache_dir() + "/" + detail::base_name(tokenizer_json) + "." +
                               detail::content_key(tokenizer_json) + "." + detail::base_name(corpus) + "." +
                               detail::content_key(corpus) + (special ? ".special" : "") + ".ids";
    if (test_support::file_exists(cached)) return detail::parse(test_support::read(cached));
    return detail::run(tokenizer_json, corpus, special, true, cached);
}

/// The shared corpus file `corpus` (a name under corpus/), or, for `stride` > 1, a file of the
/// build tree holding every `stride`-th of its lines (the first, the stride+1-th, ...), so that
/// line i of the sample is line i * stride of the file.
inline std::string corpus_sample(const std::string& corpus, std::size_t stride) {
    const std::string source = test_support::shared_path("corpus/" + corpus);
    if (stride <= 1) return source;
    const std::string path = detail::work_dir() + "/" + corpus + ".every" + std::to_string(stride) + ".txt";
    if (test_support::file_exists(path)) return path;
    const std::string text = test_support::read(source);
    std::string sample;
    std::size_t index = 0;
    for (std::size_t begin = 0; begin < text.size(); ++index) {
        std::size_t end = text.find('\n', begin);
        if (end == std::string::npos) end = text.size();
        if (index % stride == 0) sample.append(text, begin, end - begin) += '\n';
        begin = end + 1;
    }
    test_support::write(path, sample);
    return path;
}

}  // namespace hf_oracle
