// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the test programs: where the shared data is, and small builders.
#pragma once

#include <bytepiece/bytepiece.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace test_support {

/// The shared data folder given to CMake (BYTEPIECE_SHARED_DIR).
inline std::string shared_dir() { return BYTEPIECE_SHARED_DIR; }

inline bool file_exists(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f) std::fclose(f);
    return f != nullptr;
}

/// True if `path` (below the shared folder) exists; otherwise records a warning that says
/// which file is missing and why the test is skipped.
inline bool require_shared(const std::string& relative) {
    const std::string path = shared_dir() + "/" + relative;
    if (file_exists(path)) return true;
    WARN("skipped: " << path << " is absent (set the CMake cache variable BYTEPIECE_SHARED_DIR to the "
                                "folder that holds corpus/, models/ and golden/)");
    return false;
}

inline std::string shared_path(const std::string& relative) { return shared_dir() + "/" + relative; }

inline std::string read(const std::string& path) { return bytepiece::detail::read_file(path); }

/// A model with all 256 single bytes (count `byte_count`) plus the given pieces.
inline bytepiece::model make_model(const std::vector<std::pair<std::string, std::uint64_t>>& extra,
                                   std::uint64_t byte_count = 1) {
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    for (int b = 0; b < 256; ++b) {
        std::string p(1, static_cast<char>(b));
        bool overridden = false;
        for (const auto& e : extra) overridden |= e.first == p;
        if (!overridden) counts.emplace_back(p, byte_count);
    }
    counts.insert(counts.end(), extra.begin(), extra.end());
    return bytepiece::model::from_counts(counts);
}

/// A unique scratch path in the build tree.
inline std::string scratch_path(const std::string& name) {
    return std::string(BYTEPIECE_BINARY_DIR) + "/tests/scratch_" + name;
}

inline void write(const std::string& path, const std::string& data) { bytepiece::detail::write_file_atomic(path, data); }

}  // namespace test_support
