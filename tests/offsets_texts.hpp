// SPDX-License-Identifier: Apache-2.0
// Texts for the offsets tests: random mixtures of what makes normalization change lengths
// (NFD sequences, marks out of canonical order, Hangul jamo, compatibility characters,
// ill-formed bytes, CRLF, runs of spaces), and the property checks every format shares.
#pragma once

#include "test_support.hpp"

#include <random>
#include <string>
#include <vector>

namespace offsets_texts {

inline std::string utf8(char32_t cp) {
    std::string s;
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else if (cp < 0x800) {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        s += static_cast<char>(0xE0 | (cp >> 12));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        s += static_cast<char>(0xF0 | (cp >> 18));
        s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return s;
}

/// A random text of about `atoms` pieces of trouble. With `valid_only`, no ill-formed UTF-8.
inline std::string random_text(std::mt19937& rng, int atoms, bool valid_only = false) {
    static const char* const words[] = {"Hello", "world", "the", "tokenization", "caf", "na", "ve", "de", "123",
                                        "2026", ",", ".", "!", "?", "\xE4\xB8\xAD\xE6\x96\x87", "\xE2\x82\xAC",
                                        "\xF0\x9F\x98\x80", "\xC3\xA9", "\xEA\xB0\x80"};
    std::string s;
    std::uniform_int_distribution<int> pick(0, 15);
    for (int i = 0; i < atoms; ++i) {
        switch (pick(rng)) {
            case 0: case 1: case 2: case 3: s += words[rng() % (sizeof words / sizeof *words)]; break;
            case 4: s += ' '; break;
            case 5: s += std::string(1 + rng() % 4, ' '); break;
            case 6: s += rng() % 2 ? "\n" : "\r\n"; break;
            case 7: s += utf8(0x300 + rng() % 0x70); break;             // a combining mark
            case 8: s += "e" + utf8(0x323) + utf8(0x301); break;         // marks in order
            case 9: s += "a" + utf8(0x301) + utf8(0x323); break;         // marks out of order
            case 10: {                                                    // jamo: L V (T)
                s += utf8(0x1100 + rng() % 19);
                s += utf8(0x1161 + rng() % 21);
                if (rng() % 2) s += utf8(0x11A8 + rng() % 27);
                break;
            }
            case 11: s += utf8(0xAC00 + rng() % 11172); break;           // a Hangul syllable
            case 12: s += utf8(rng() % 2 ? 0xF900 + rng() % 64 : 0x212B); break;  // singletons
            case 13:
                if (valid_only) s += '\t';
                else s += static_cast<char>(0x80 + rng() % 0x80);            // an ill-formed byte
                break;
            case 14: s += utf8(0xFF21 + rng() % 26); break;               // fullwidth (NFKC)
            default: s += utf8(0x20 + rng() % 0x5F); break;
        }
    }
    return s;
}

/// Hand-made texts every format is checked on.
inline std::vector<std::string> adversarial_texts() {
    return {"",
            "Cafe\xCC\x81 costs 5\xE2\x82\xAC\n",
            "e\xCC\x81\xCC\x81\xCC\x81",
            "\xCC\x81\xCC\x81 starts with marks",
            "a\xCC\x81\xCC\xA3 b\xCC\xA3\xCC\x81",
            "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8\xE1\x84\x80\xE1\x85\xA1",
            "line one\r\nline two\r\n\r\n",
            "   leading and trailing   ",
            "many     spaces\t\ttabs",
            "\xFF\xFE bad \xC3 bytes \xE2\x82",
            "\xEF\xBC\xA8\xEF\xBD\x85\xEF\xBD\x8C\xEF\xBD\x8C\xEF\xBD\x8F",
            "\xEF\xAC\x81ne \xE2\x84\xAB \xE2\x85\xA2",
            std::string(300, ' ') + "x",
            "e" + std::string(200, '\xCC') };
}

/// Checks what every encoding with offsets must satisfy: one range per id, ranges within the
/// text, begins and ends never decreasing.
inline void check_monotone(const std::vector<bytepiece::byte_range>& offsets, std::size_t ids, std::size_t size) {
    REQUIRE(offsets.size() == ids);
    for (std::size_t i = 0; i < offsets.size(); ++i) {
        INFO("piece " << i);
        REQUIRE(offsets[i].begin <= offsets[i].end);
        REQUIRE(offsets[i].end <= size);
        if (i > 0) {
            REQUIRE(offsets[i - 1].begin <= offsets[i].begin);
            REQUIRE(offsets[i - 1].end <= offsets[i].end);
        }
    }
}

}  // namespace offsets_texts
