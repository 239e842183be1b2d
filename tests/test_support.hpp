// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the test programs: where the shared data is, and small builders.
#pragma once

#include <bytepiece/bytepiece.hpp>

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
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

/// `count` random pieces for a `make_model`, duplicates dropped: each 2 to 1 + `length_span`
/// bytes long, drawn from the `letters` letters from `first` on, with a count in 1..`max_count`.
inline std::vector<std::pair<std::string, std::uint64_t>> random_pieces(std::mt19937& rng, int count, unsigned length_span,
                                                                        char first, unsigned letters, unsigned max_count) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    for (int i = 0; i < count; ++i) {
        std::string p(2 + rng() % length_span, first);
        for (auto& c : p) c = static_cast<char>(first + static_cast<int>(rng() % letters));
        bool duplicate = false;
        for (const auto& e : out) duplicate |= e.first == p;
        if (!duplicate) out.emplace_back(p, 1 + rng() % max_count);
    }
    return out;
}

/// A unique scratch path in the build tree.
inline std::string scratch_path(const std::string& name) {
    return std::string(BYTEPIECE_BINARY_DIR) + "/tests/scratch_" + name;
}

inline void write(const std::string& path, const std::string& data) { bytepiece::detail::write_file_atomic(path, data); }

/// The exit status and standard output of a shell command line.
struct command_result {
    int status;
    std::string out;
};

/// Runs a shell command line and captures its standard output (append `2>&1` for stderr).
inline command_result run(const std::string& command) {
    command_result r{-1, {}};
    std::FILE* p = popen(command.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
    const int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

/// Path of the built `bytepiece` tool, or empty when tools are not built.
inline std::string cli() {
#ifdef BYTEPIECE_CLI_PATH
    return BYTEPIECE_CLI_PATH;
#else
    return "";
#endif
}

/// Single-quotes a path for the shell (test paths never contain quotes).
inline std::string quote(const std::string& s) { return "'" + s + "'"; }

/// Regularized upper incomplete gamma Q(a, x), for chi-square p-values (Q(k/2, x/2)): the
/// power series of P below a + 1, Legendre's continued fraction (modified Lentz) above it.
inline double gamma_q(double a, double x) {
    if (x <= 0) return 1.0;
    const double log_prefix = -x + a * std::log(x) - std::lgamma(a);
    if (x < a + 1) {
        double term = 1.0 / a, sum = term;
        for (int n = 1; n < 1000000; ++n) {
            term *= x / (a + n);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return 1.0 - sum * std::exp(log_prefix);
    }
    const double tiny = 1e-300;
    double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int i = 1; i < 1000000; ++i) {
        const double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (std::abs(d) < tiny) d = tiny;
        c = b + an / c;
        if (std::abs(c) < tiny) c = tiny;
        d = 1 / d;
        const double delta = d * c;
        h *= delta;
        if (std::abs(delta - 1) < 1e-16) break;
    }
    return std::exp(log_prefix) * h;
}

}  // namespace test_support
