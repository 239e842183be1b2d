// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "bytepiece/detail/unicode_tables.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/normalizer.hpp"

#ifndef BYTEPIECE_NORMALIZATION_TEST_FILE
#define BYTEPIECE_NORMALIZATION_TEST_FILE ""
#endif

namespace {

namespace uc = bytepiece::detail::unicode;
using bytepiece::is_nfc_quick;
using bytepiece::nfc;

std::string utf8(const std::u32string& s) {
    std::string out;
    for (char32_t c : s) bytepiece::detail::utf8::append(c, out);
    return out;
}

std::string repeat(const std::string& s, std::size_t n) {
    std::string out;
    out.reserve(s.size() * n);
    for (std::size_t i = 0; i < n; ++i) out += s;
    return out;
}

// Bytes as hex, so that failures on combining marks and invalid bytes are readable.
std::string hex(const std::string& s) {
    std::string out;
    char buf[4];
    for (unsigned char b : s) {
        std::snprintf(buf, sizeof buf, "%02X ", b);
        out += buf;
    }
    return out;
}

// Well-formed UTF-8 sequence length at s[i], or 0. Written independently of utf8.hpp (from the
// ranges of Unicode Table 3-7) so that the oracle does not share the decoder under test.
std::size_t wellformed_length(const std::string& s, std::size_t i) {
    struct row {
        unsigned char lead_lo, lead_hi, second_lo, second_hi;
        std::size_t length;
    };
    static const row rows[] = {
        {0x00, 0x7F, 0, 0, 1},       {0xC2, 0xDF, 0x80, 0xBF, 2}, {0xE0, 0xE0, 0xA0, 0xBF, 3},
        {0xE1, 0xEC, 0x80, 0xBF, 3}, {0xED, 0xED, 0x80, 0x9F, 3}, {0xEE, 0xEF, 0x80, 0xBF, 3},
        {0xF0, 0xF0, 0x90, 0xBF, 4}, {0xF1, 0xF3, 0x80, 0xBF, 4}, {0xF4, 0xF4, 0x80, 0x8F, 4},
    };
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    for (const row& r : rows) {
        if (at(i) < r.lead_lo || at(i) > r.lead_hi) continue;
        if (r.length == 1) return 1;
        if (i + r.length > s.size()) return 0;
        if (at(i + 1) < r.second_lo || at(i + 1) > r.second_hi) return 0;
        for (std::size_t k = 2; k < r.length; ++k) {
            if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
        }
        return r.length;
    }
    return 0;
}

std::u32string decode_valid(const std::string& s) {
    std::u32string out;
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = wellformed_length(s, i);
        const auto b0 = static_cast<unsigned char>(s[i]);
        char32_t c = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
        for (std::size_t k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        out += c;
        i += n;
    }
    return out;
}

bool is_valid_utf8(const std::string& s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = wellformed_length(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

// Textbook NFC straight from the definitions of UAX #15 (quadratic, no quick check, no
// segmenting), used to cross-check the optimized normalizer on random input.
constexpr char32_t SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
constexpr char32_t LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

char32_t reference_compose(char32_t a, char32_t b) {
    if (a >= LBase && a < LBase + LCount && b >= VBase && b < VBase + VCount) {
        return SBase + ((a - LBase) * VCount + (b - VBase)) * TCount;
    }
    if (a >= SBase && a < SBase + SCount && (a - SBase) % TCount == 0 && b > TBase && b < TBase + TCount) {
        return a + (b - TBase);
    }
    return uc::compose_pair(a, b);
}

std::u32string reference_nfc(const std::u32string& in) {
    std::u32string d;
    for (char32_t c : in) {
        if (c >= SBase && c < SBase + SCount) {
            const char32_t s = c - SBase;
            d += LBase + s / NCount;
            d += VBase + (s % NCount) / TCount;
            if (s % TCount) d += TBase + s % TCount;
            continue;
        }
        const auto dr = uc::decomposition(c);
        if (dr.size == 0) {
            d += c;
        } else {
            d.append(dr.data, dr.size);
        }
    }
    for (bool swapped = true; swapped;) {
        swapped = false;
        for (std::size_t i = 1; i < d.size(); ++i) {
            if (uc::ccc(d[i]) != 0 && uc::ccc(d[i - 1]) > uc::ccc(d[i])) {
                std::swap(d[i - 1], d[i]);
                swapped = true;
            }
        }
    }
    for (std::size_t i = 1; i < d.size();) {
        std::size_t l = i;
        while (l > 0 && uc::ccc(d[l - 1]) != 0) --l;
        if (l == 0) {
            ++i;
            continue;
        }
        const std::size_t starter = l - 1;
        bool blocked = false;
        for (std::size_t b = starter + 1; b < i; ++b) {
            if (uc::ccc(d[b]) == 0 || uc::ccc(d[b]) >= uc::ccc(d[i])) blocked = true;
        }
        const char32_t composite = blocked ? 0 : reference_compose(d[starter], d[i]);
        if (composite) {
            d[starter] = composite;
            d.erase(i, 1);
        } else {
            ++i;
        }
    }
    return d;
}

// Expected NFC of any byte string: every ill-formed byte stays put and splits the text; the
// well-formed runs between them are normalized on their own.
std::string reference_nfc_bytes(const std::string& s) {
    std::string out;
    std::string run;
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = wellformed_length(s, i);
        if (n == 0) {
            out += utf8(reference_nfc(decode_valid(run)));
            run.clear();
            out += s[i];
            ++i;
        } else {
            run.append(s, i, n);
            i += n;
        }
    }
    out += utf8(reference_nfc(decode_valid(run)));
    return out;
}

std::u32string parse_code_points(const std::string& field) {
    std::u32string out;
    std::istringstream ss(field);
    std::string tok;
    while (ss >> tok) out += static_cast<char32_t>(std::stoul(tok, nullptr, 16));
    return out;
}

}  // namespace

TEST_CASE("NFC conforms to NormalizationTest.txt", "[normalizer][conformance]") {
    const std::string path = BYTEPIECE_NORMALIZATION_TEST_FILE;
    std::ifstream in;
    if (!path.empty()) in.open(path);
    if (path.empty() || !in) {
        WARN("NormalizationTest.txt not found (looked at '"
             << path << "'); it comes as /usr/share/unicode/NormalizationTest.txt.bz2 in the Debian package "
             << "unicode-data. Skipping the Unicode conformance test.");
        return;
    }

    std::vector<bool> in_part1(0x110000, false);
    std::string part;
    std::string line;
    std::size_t checked = 0;
    std::size_t failures = 0;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (line[0] == '@') {
            part = line.substr(0, line.find_first_of(" \t#"));
            continue;
        }
        std::vector<std::string> cols;
        std::istringstream ls(line);
        std::string field;
        while (cols.size() < 5 && std::getline(ls, field, ';')) cols.push_back(utf8(parse_code_points(field)));
        REQUIRE(cols.size() == 5);
        if (part == "@Part1") {
            const std::u32string c1 = parse_code_points(line.substr(0, line.find(';')));
            REQUIRE(c1.size() == 1);
            in_part1[c1[0]] = true;
        }
        const std::string& c2 = cols[1];
        const std::string& c4 = cols[3];
        const std::pair<std::size_t, const std::string*> expectations[] = {
            {0, &c2}, {1, &c2}, {2, &c2}, {3, &c4}, {4, &c4},
        };
        for (const auto& e : expectations) {
            const std::string got = nfc(cols[e.first]);
            const bool quick = is_nfc_quick(cols[e.first]);
            if (got != *e.second || (quick && got != cols[e.first])) {
                if (++failures <= 20) {
                    FAIL_CHECK(line << "\n  column c" << e.first + 1 << ": got " << hex(got) << " expected "
                                    << hex(*e.second) << (quick ? " (is_nfc_quick said yes)" : ""));
                }
            }
        }
        ++checked;
    }
    INFO("lines checked: " << checked);
    CHECK(failures == 0);
    REQUIRE(checked > 18000);

    // Part 1 lists every code point NFC can change; all others must come back unchanged.
    std::size_t part1_failures = 0;
    std::size_t unlisted = 0;
    for (char32_t c = 0; c < 0x110000; ++c) {
        if (in_part1[c] || (c >= 0xD800 && c <= 0xDFFF)) continue;
        ++unlisted;
        const std::string x = utf8(std::u32string(1, c));
        if (nfc(x) != x && ++part1_failures <= 20) {
            FAIL_CHECK("code point " << hex(x) << "not listed in Part 1 but changed by NFC to " << hex(nfc(x)));
        }
    }
    CHECK(part1_failures == 0);
    CHECK(unlisted > 1000000);
}

TEST_CASE("NFC basics", "[normalizer]") {
    CHECK(nfc("") == "");
    CHECK(nfc(std::string_view()) == "");
    CHECK(is_nfc_quick(std::string_view()));
    CHECK(nfc("hello, world\n") == "hello, world\n");
    CHECK(nfc("e\xCC\x81") == "\xC3\xA9");                      // e + acute -> é
    CHECK(nfc("\xC3\xA9") == "\xC3\xA9");                        // already composed
    CHECK(nfc("\xE2\x84\xAB") == "\xC3\x85");                    // ANGSTROM SIGN is a singleton
    CHECK(nfc("\xE0\xA5\x98") == "\xE0\xA4\x95\xE0\xA4\xBC");    // U+0958 is excluded from composition
    CHECK(nfc("\xEF\xA4\x80") == "\xE8\xB1\x88");                // CJK compatibility ideograph U+F900
    CHECK(nfc("a\xCC\x85\xCC\x96") == "a\xCC\x96\xCC\x85");      // marks put in canonical order
    CHECK(nfc("e\xCC\x81\xCC\x96") == "\xC3\xA9\xCC\x96");       // é + grave below stays composed
    CHECK(nfc("\xCD\x84") == "\xCC\x88\xCC\x81");                // U+0344 non-starter decomposition
    CHECK(nfc("\xE4\xB8\xAD\xE6\x96\x87") == "\xE4\xB8\xAD\xE6\x96\x87");

    std::string out = "prefix:";
    bytepiece::nfc_append("e\xCC\x81", out);
    CHECK(out == "prefix:\xC3\xA9");
}

TEST_CASE("is_nfc_quick", "[normalizer]") {
    CHECK(is_nfc_quick(""));
    CHECK(is_nfc_quick("plain ASCII text"));
    CHECK(is_nfc_quick("caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xEA\xB0\x80"));
    CHECK(is_nfc_quick("a\xCC\x96\xCC\x85"));      // QC=Yes marks in order
    CHECK_FALSE(is_nfc_quick("cafe\xCC\x81"));      // U+0301 is NFC_QC=Maybe
    CHECK_FALSE(is_nfc_quick("a\xCC\x85\xCC\x96"));  // QC=Yes marks out of order
    CHECK_FALSE(is_nfc_quick("\xE0\xA5\x98"));      // U+0958 is NFC_QC=No
    CHECK(is_nfc_quick("\xFF\x80 bytes"));           // nfc leaves ill-formed bytes alone
}

TEST_CASE("Hangul composes arithmetically", "[normalizer]") {
    const auto s = [](std::u32string x) { return utf8(x); };
    CHECK(nfc(s(U"\u1100\u1161")) == s(U"\uAC00"));               // L V
    CHECK(nfc(s(U"\u1100\u1161\u11A8")) == s(U"\uAC01"));         // L V T
    CHECK(nfc(s(U"\uAC00\u11A8")) == s(U"\uAC01"));               // LV + T
    CHECK(nfc(s(U"\uAC00\u11C2")) == s(U"\uAC1B"));               // last T
    CHECK(nfc(s(U"\uAC00\u11A7")) == s(U"\uAC00\u11A7"));         // U+11A7 is not a trailing jamo
    CHECK(nfc(s(U"\uAC01\u11A8")) == s(U"\uAC01\u11A8"));         // LVT takes no second T
    CHECK(nfc(s(U"\u1100\u11A8")) == s(U"\u1100\u11A8"));         // L T without V
    CHECK(nfc(s(U"\u1100\u0301\u1161")) == s(U"\u1100\u0301\u1161"));  // a mark blocks L V
    CHECK(nfc(s(U"\u1112\u1175\u11C2")) == s(U"\uD7A3"));         // last syllable
    CHECK(nfc(s(U"\uD7A3")) == s(U"\uD7A3"));
    CHECK(nfc(s(U"\u1100\u1161\u11A8\u1100\u1161")) == s(U"\uAC01\uAC00"));
}

TEST_CASE("ill-formed UTF-8 passes through unchanged", "[normalizer][utf8]") {
    const std::string cases[] = {
        "\x80",
        "\xBF",
        "a\x80\x80z",
        "\xC3",                  // truncated 2-byte
        "\xE4\xB8",              // truncated 3-byte
        "\xF0\x9F\x98",          // truncated 4-byte
        "\xE4\xB8x",             // interrupted
        "\xC0\xAF",              // overlong '/'
        "\xC1\xBF",
        "\xE0\x80\xAF",          // overlong 3-byte
        "\xE0\x9F\xBF",
        "\xF0\x80\x80\xAF",      // overlong 4-byte
        "\xF0\x8F\xBF\xBF",
        "\xED\xA0\x80",          // U+D800
        "\xED\xBF\xBF",          // U+DFFF
        "\xED\xA0\x80\xED\xB0\x80",  // surrogate pair in CESU-8
        "\xF4\x90\x80\x80",      // U+110000
        "\xF5\x80\x80\x80",
        "\xF8\x88\x80\x80\x80",
        "\xFC\x84\x80\x80\x80\x80",
        "\xFE",
        "\xFF",
        "\xFE\xFF",
        std::string("a\0b", 3),  // NUL is valid and unchanged
    };
    for (const std::string& c : cases) {
        INFO("input " << hex(c));
        CHECK(nfc(c) == c);
        CHECK(nfc("x" + c + "y") == "x" + c + "y");
    }
    // U+D7FF, U+E000, U+10FFFF and U+FFFF are the legal edges around the rejected ranges.
    for (const std::string c : {"\xED\x9F\xBF", "\xEE\x80\x80", "\xF4\x8F\xBF\xBF", "\xEF\xBF\xBF"}) {
        const auto d = bytepiece::detail::utf8::decode(reinterpret_cast<const unsigned char*>(c.data()),
                                                       reinterpret_cast<const unsigned char*>(c.data()) + c.size());
        CHECK(d.cp != bytepiece::detail::utf8::invalid);
        CHECK(d.length == c.size());
    }
}

TEST_CASE("ill-formed bytes block composition and reordering", "[normalizer][utf8]") {
    // A mark after an invalid byte has no starter to join.
    CHECK(nfc("e\xFF\xCC\x81") == "e\xFF\xCC\x81");
    CHECK(nfc("e\x80\xCC\x81") == "e\x80\xCC\x81");
    CHECK(nfc("e\xC3\xCC\x81") == "e\xC3\xCC\x81");   // truncated lead byte before the mark
    CHECK(nfc("\xE1\x84\x80\xFF\xE1\x85\xA1") == "\xE1\x84\x80\xFF\xE1\x85\xA1");  // L | V
    // Marks on either side are not reordered across it, but each side is normalized.
    CHECK(nfc("a\xCC\x81\xFF\xCC\x96") == "\xC3\xA1\xFF\xCC\x96");
    CHECK(nfc("a\xCC\x85\xFF\xCC\x96") == "a\xCC\x85\xFF\xCC\x96");
    CHECK(nfc("e\xCC\x81\xFF" "e\xCC\x81") == "\xC3\xA9\xFF\xC3\xA9");
    CHECK(nfc("\xCC\x81\xFF") == "\xCC\x81\xFF");
}

TEST_CASE("long runs of combining marks stay linear", "[normalizer]") {
    const std::string acute = "\xCC\x81";
    const std::string input = "e" + repeat(acute, 100000);
    const std::string expected = "\xC3\xA9" + repeat(acute, 99999);
    CHECK(nfc(input) == expected);

    // Alternating classes 230/220: the worst case for a naive insertion sort.
    const std::string grave_below = "\xCC\x96";
    const std::string mixed = "a" + repeat(acute + grave_below, 50000);
    const std::string mixed_expected = "\xC3\xA1" + repeat(grave_below, 50000) + repeat(acute, 49999);
    CHECK(nfc(mixed) == mixed_expected);

    // A run with no starter at all.
    const std::string marks = repeat(grave_below + acute, 30000);
    CHECK(nfc(marks) == repeat(grave_below, 30000) + repeat(acute, 30000));
}

namespace {

struct rng {
    std::mt19937 engine{20240611u};  // fixed seed: failures must reproduce
    std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(engine() % n); }
    char32_t in(char32_t lo, char32_t hi) { return lo + below(hi - lo + 1); }
};

// Code points where normalization has work to do, or that sit next to such work.
char32_t interesting_code_point(rng& r) {
    switch (r.below(12)) {
        case 0: return r.in(U'a', U'z');
        case 1: return r.in(0x0300, 0x036F);  // combining diacritics
        case 2: return r.in(0x00C0, 0x024F);  // Latin composites
        case 3: return r.in(0x1E00, 0x1FFF);  // Latin/Greek extended, multi-level composites
        case 4: return r.in(0x1100, 0x1112);  // Hangul L
        case 5: return r.in(0x1161, 0x1175);  // Hangul V
        case 6: return r.in(0x11A7, 0x11C3);  // Hangul T and its edges
        case 7: return r.below(2) ? r.in(0xAC00, 0xD7A3) : 0xAC00 + 28 * r.below(399);  // syllables, LV
        case 8: return r.in(0x0900, 0x0DFF);  // Indic: nuktas, two-part vowels, exclusions
        case 9: return r.in(0x0591, 0x05C7);  // Hebrew points, many classes
        case 10: return r.in(0x0340, 0x0345);  // singletons and non-starter decompositions
        default: {
            const char32_t c = r.in(0, 0x10FFFF);
            return c >= 0xD800 && c <= 0xDFFF ? U'?' : c;
        }
    }
}

std::string random_bytes(rng& r) {
    std::string s;
    const std::uint32_t target = r.below(65);
    while (s.size() < target) {
        switch (r.below(8)) {
            case 0: s += static_cast<char>(r.below(256)); break;
            case 1: s += static_cast<char>(0x80 + r.below(64)); break;  // stray continuation
            case 2: {                                                    // truncated sequence
                std::string enc = utf8(std::u32string(1, interesting_code_point(r)));
                if (enc.size() > 1) enc.resize(1 + r.below(static_cast<std::uint32_t>(enc.size() - 1)));
                s += enc;
                break;
            }
            case 3: {
                static const char* const bad[] = {"\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xED\xA0\x80",
                                                  "\xF4\x90\x80\x80", "\xF5", "\xFF", "\xF0\x80\x80\x80"};
                s += bad[r.below(8)];
                break;
            }
            default: s += utf8(std::u32string(1, interesting_code_point(r))); break;
        }
    }
    return s;
}

}  // namespace

TEST_CASE("random byte strings", "[normalizer][property]") {
    rng r;
    std::size_t valid = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        const std::string x = random_bytes(r);
        const std::string y = nfc(x);
        INFO("input " << hex(x));
        REQUIRE(y == reference_nfc_bytes(x));
        REQUIRE(nfc(y) == y);
        if (is_nfc_quick(x)) REQUIRE(y == x);
        if (is_valid_utf8(x)) ++valid;
    }
    CHECK(valid > 1000);
}

TEST_CASE("random valid strings with marks, Hangul and composites", "[normalizer][property]") {
    rng r;
    std::size_t quick_yes = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        std::u32string cps;
        const std::uint32_t n = r.below(24);
        for (std::uint32_t i = 0; i < n; ++i) cps += interesting_code_point(r);
        const std::string x = utf8(cps);
        const std::string y = nfc(x);
        INFO("input " << hex(x));
        REQUIRE(y == utf8(reference_nfc(cps)));
        REQUIRE(nfc(y) == y);
        if (is_nfc_quick(x)) {
            ++quick_yes;
            REQUIRE(y == x);
        }
        // The quick check may say "maybe" on NFC text, but never "yes" on the wrong text.
        if (is_nfc_quick(y)) REQUIRE(nfc(y) == y);
    }
    CHECK(quick_yes > 100);
}
