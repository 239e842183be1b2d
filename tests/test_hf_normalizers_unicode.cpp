// SPDX-License-Identifier: Apache-2.0
// The character data of detail::hf_normalizer: grapheme clusters against Unicode's own
// GraphemeBreakTest.txt, and every code point through each character-level normalizer against
// HF tokenizers 0.23.2 (via node).
#include "test_hf_normalizers_oracle.hpp"

#include <bytepiece/detail/utf8.hpp>

#include <fstream>
#include <set>

namespace oracle = hf_normalizer_oracle;
namespace hf_norm = bytepiece::detail::hf_norm;

namespace {

const char* const ucd_dir = "/usr/share/unicode";

std::string utf8_of(char32_t cp) {
    std::string s;
    bytepiece::detail::utf8::append(cp, s);
    return s;
}

bool is_scalar(char32_t cp) { return cp < 0xD800 || (cp > 0xDFFF && cp < 0x110000); }

// Code points assigned in the Unicode version of DerivedAge.txt.
std::vector<bool> assigned() {
    std::vector<bool> a(0x110000, false);
    std::ifstream f(std::string(ucd_dir) + "/DerivedAge.txt");
    std::string line;
    while (std::getline(f, line)) {
        if (line.empty() || line[0] == '#') continue;
        const std::size_t semi = line.find(';');
        const std::string range = line.substr(0, semi);
        const std::size_t dots = range.find("..");
        const char32_t lo = static_cast<char32_t>(std::stoul(range.substr(0, dots), nullptr, 16));
        const char32_t hi = dots == std::string::npos ? lo : static_cast<char32_t>(std::stoul(range.substr(dots + 2), nullptr, 16));
        for (char32_t c = lo; c <= hi; ++c) a[c] = true;
    }
    return a;
}

}  // namespace

TEST_CASE("hf normalizers: grapheme clusters as GraphemeBreakTest.txt", "[hf][normalizer]") {
    std::ifstream f(std::string(ucd_dir) + "/auxiliary/GraphemeBreakTest.txt");
    if (!f) {
        WARN("skipped: no GraphemeBreakTest.txt (Debian package unicode-data)");
        return;
    }
    std::string line;
    std::size_t cases = 0, same = 0;
    while (std::getline(f, line)) {
        line = line.substr(0, line.find('#'));
        if (line.empty()) continue;
        std::string text;
        std::vector<std::size_t> expected;  // byte offsets of the boundaries after the start
        bool surrogate = false;
        std::size_t i = 0;
        while (i < line.size()) {
            const unsigned char c = static_cast<unsigned char>(line[i]);
            if (c == ' ' || c == '\t') {
                ++i;
            } else if (line.compare(i, 2, "\xC3\xB7") == 0) {  // ÷
                if (!text.empty()) expected.push_back(text.size());
                i += 2;
            } else if (line.compare(i, 2, "\xC3\x97") == 0) {  // ×
                i += 2;
            } else {
                std::size_t j = i;
                while (j < line.size() && std::isxdigit(static_cast<unsigned char>(line[j]))) ++j;
                const auto cp = static_cast<char32_t>(std::stoul(line.substr(i, j - i), nullptr, 16));
                surrogate = surrogate || !is_scalar(cp);
                text += utf8_of(cp);
                i = j;
            }
        }
        if (surrogate) continue;
        std::vector<std::size_t> got;
        const auto* s = reinterpret_cast<const unsigned char*>(text.data());
        for (std::size_t at = 0; at < text.size();) {
            at = hf_norm::cluster_end(s, at, text.size());
            got.push_back(at);
        }
        ++cases;
        INFO(line);
        CHECK(got == expected);
        same += got == expected;
    }
    CHECK(cases > 500);
    CHECK(same == cases);
}

TEST_CASE("hf normalizers: every code point through each character-level normalizer, as HF", "[hf][normalizer]") {
    if (!hf_oracle::available()) return;
    const auto known = assigned();
    // Code points in groups of 256 per text, each after a newline (a starter that composes
    // with nothing and a grapheme boundary), followed by U+0323 U+0301 for the composing forms.
    struct form {
        const char* json;
        const char* suffix;
        bool newer_data;  // uses the current data (Rust's), not the Unicode 9.0 tables
    };
    const form forms[] = {
        {R"({"type":"NFD"})", "\xCC\xA3\xCC\x81", false},
        {R"({"type":"NFKD"})", "\xCC\xA3\xCC\x81", false},
        {R"({"type":"NFC"})", "\xCC\xA3\xCC\x81", false},
        {R"({"type":"NFKC"})", "\xCC\xA3\xCC\x81", false},
        {R"({"type":"NFC"})", "", false},
        {R"({"type":"StripAccents"})", "", false},
        {R"({"type":"Lowercase"})", "", true},
    };
    for (const form& fm : forms) {
        INFO(fm.json << " suffix " << oracle::show(fm.suffix));
        std::vector<std::string> texts;
        std::vector<std::vector<char32_t>> members;
        for (char32_t cp = 0; cp < 0x110000; ++cp) {
            if (!is_scalar(cp) || cp == '\n' || cp == '\r' || (cp >= 0x40000 && cp < 0xE0000) || cp >= 0xF0000) continue;
            if (members.empty() || members.back().size() == 256) {
                texts.emplace_back();
                members.emplace_back();
            }
            texts.back() += "\n" + utf8_of(cp) + fm.suffix;
            members.back().push_back(cp);
        }
        const auto hf = oracle::normalize(fm.json, texts);
        REQUIRE(hf.has_value());
        const auto ours = oracle::ours(fm.json, texts);
        std::size_t compared = 0, differing = 0, newer = 0;
        for (std::size_t t = 0; t < texts.size(); ++t) {
            auto split = [](const std::string& s) {
                std::vector<std::string> parts;
                std::size_t b = 1;
                for (std::size_t e; (e = s.find('\n', b)) != std::string::npos; b = e + 1) parts.push_back(s.substr(b, e - b));
                parts.push_back(s.substr(b));
                return parts;
            };
            const auto a = split(ours[t]), b = split((*hf)[t]);
            REQUIRE(a.size() == members[t].size());
            REQUIRE(b.size() == members[t].size());
            for (std::size_t k = 0; k < a.size(); ++k) {
                ++compared;
                if (a[k] == b[k]) continue;
                const char32_t cp = members[t][k];
                if (fm.newer_data && !known[cp]) {
                    ++newer;  // assigned after the Unicode version of the tables
                    continue;
                }
                ++differing;
                if (differing <= 20) {
                    INFO("U+" << std::hex << static_cast<unsigned>(cp) << ": ours " << oracle::show(a[k]) << ", HF "
                              << oracle::show(b[k]));
                    CHECK(a[k] == b[k]);
                }
            }
        }
        CHECK(compared > 300000);
        CHECK(differing == 0);
        if (newer) WARN(fm.json << ": " << newer << " code points unassigned in our Unicode data differ (newer in HF)");
    }
}
