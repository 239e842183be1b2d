// SPDX-License-Identifier: Apache-2.0
// HF's normalizers (tests/oracle/hf_normalize.js through node) next to detail::hf_normalizer,
// for the tests/test_hf_normalizers*.cpp files.
#pragma once

#include "hf_oracle.hpp"

#include <bytepiece/detail/hf_normalizers.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace hf_normalizer_oracle {

/// HF's normalization of each text with the normalizer `normalizer_json` (the value of a
/// "normalizer" key), or nothing if HF refuses to load it (an error, or a panic).
inline std::optional<std::vector<std::string>> normalize(const std::string& normalizer_json,
                                                         const std::vector<std::string>& texts) {
#if defined(BYTEPIECE_HF_ORACLE_DIR) && defined(BYTEPIECE_NODE)
    const std::string dir = hf_oracle::detail::work_dir();
    static int serial = 0;
    const std::string stem = dir + "/norm." + std::to_string(::getpid()) + "." + std::to_string(serial++);
    {
        std::ofstream f(stem + ".json", std::ios::binary);
        f << normalizer_json;
        std::ofstream t(stem + ".jsonl", std::ios::binary);
        for (const auto& s : texts) t << nlohmann::json(s).dump() << '\n';
    }
    const std::string command = hf_oracle::detail::quote(BYTEPIECE_NODE) + " " +
                                hf_oracle::detail::quote(std::string(BYTEPIECE_HF_ORACLE_DIR) + "/hf_normalize.js") +
                                " " + hf_oracle::detail::quote(stem + ".json") + " " +
                                hf_oracle::detail::quote(stem + ".jsonl") + " > " + hf_oracle::detail::quote(stem + ".out") +
                                " 2>/dev/null";
    const int rc = std::system(command.c_str());
    std::string out = test_support::read(stem + ".out");
    std::remove((stem + ".json").c_str());
    std::remove((stem + ".jsonl").c_str());
    std::remove((stem + ".out").c_str());
    if (rc != 0) return std::nullopt;
    std::vector<std::string> result;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
        const auto j = nlohmann::json::parse(line);
        if (j.is_object()) return std::nullopt;
        result.push_back(j.get<std::string>());
    }
    if (result.size() != texts.size()) throw std::runtime_error("hf_normalize.js: output lines do not match the texts");
    return result;
#else
    (void)normalizer_json, (void)texts;
    throw std::runtime_error("hf oracle: not built with the oracle paths");
#endif
}

/// Ours: the same normalizer read from `normalizer_json` (throws model_error as the reader does).
inline bytepiece::detail::hf_normalizer make(const std::string& normalizer_json) {
    static const std::string source = "test.json";
    const nlohmann::json j = bytepiece::detail::hf_json::parse(normalizer_json, source);
    return bytepiece::detail::hf_normalizer(bytepiece::detail::hf_json::cursor(j, source));
}

inline std::vector<std::string> ours(const std::string& normalizer_json, const std::vector<std::string>& texts) {
    const auto n = make(normalizer_json);
    std::vector<std::string> out(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) n.normalize(texts[i], out[i]);
    return out;
}

/// The normalizer value of a fixture tokenizer.json in the shared models folder.
inline std::string fixture_normalizer(const std::string& name) {
    const auto j = nlohmann::json::parse(test_support::read(test_support::shared_path("models/hf/" + name)));
    return j.at("normalizer").dump();
}

/// Readable form of a text for failure messages.
inline std::string show(const std::string& s) { return nlohmann::json(s).dump(); }

}  // namespace hf_normalizer_oracle
