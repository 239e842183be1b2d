// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <cstring>

#include "bytepiece/detail/unicode_tables.hpp"

namespace uc = bytepiece::detail::unicode;

// The lookups are usable in constant expressions, e.g. to build tables at compile time.
static_assert(uc::is_decimal_digit(U'7'));
static_assert(uc::ccc(0x0301) == 230);
static_assert(uc::compose_pair(U'e', 0x0301) == 0x00E9);

TEST_CASE("is_decimal_digit covers General_Category Nd only", "[unicode]") {
    for (char32_t c = U'0'; c <= U'9'; ++c) CHECK(uc::is_decimal_digit(c));
    for (char32_t c = 0x0660; c <= 0x0669; ++c) CHECK(uc::is_decimal_digit(c));  // Arabic-Indic
    CHECK(uc::is_decimal_digit(0x0966));                                        // Devanagari zero
    CHECK(uc::is_decimal_digit(0xFF10));                                        // fullwidth zero
    CHECK(uc::is_decimal_digit(0xFF19));
    CHECK(uc::is_decimal_digit(0x1D7CE));  // mathematical bold digit zero

    CHECK_FALSE(uc::is_decimal_digit(U'/'));
    CHECK_FALSE(uc::is_decimal_digit(U':'));
    CHECK_FALSE(uc::is_decimal_digit(U'a'));
    CHECK_FALSE(uc::is_decimal_digit(0x00B2));  // superscript two is No, not Nd
    CHECK_FALSE(uc::is_decimal_digit(0x2460));  // circled digit one
    CHECK_FALSE(uc::is_decimal_digit(0x065F));
    CHECK_FALSE(uc::is_decimal_digit(0x066A));
    CHECK_FALSE(uc::is_decimal_digit(0x4E00));  // CJK "one" is a letter
    CHECK_FALSE(uc::is_decimal_digit(0x10FFFF));
    CHECK_FALSE(uc::is_decimal_digit(0x110000));

    // Nd comes in runs of ten consecutive digits; a table that lost or split a range would
    // break that.
    std::size_t count = 0;
    for (char32_t c = 0; c < 0x110000; ++c) count += uc::is_decimal_digit(c) ? 1 : 0;
    CHECK(count % 10 == 0);
    CHECK(count >= 650);
}

TEST_CASE("canonical combining class spot checks", "[unicode]") {
    CHECK(uc::ccc(U'A') == 0);
    CHECK(uc::ccc(0x00E9) == 0);
    CHECK(uc::ccc(0x0301) == 230);
    CHECK(uc::ccc(0x0316) == 220);
    CHECK(uc::ccc(0x0334) == 1);
    CHECK(uc::ccc(0x0345) == 240);
    CHECK(uc::ccc(0x05B0) == 10);
    CHECK(uc::ccc(0x093C) == 7);
    CHECK(uc::ccc(0x094D) == 9);
    CHECK(uc::ccc(0x0E38) == 103);
    CHECK(uc::ccc(0x1DCE) == 214);
    CHECK(uc::ccc(0x302A) == 218);
    CHECK(uc::ccc(0x3099) == 8);
    CHECK(uc::ccc(0x1D165) == 216);
    CHECK(uc::ccc(0x1E94A) == 7);
    CHECK(uc::ccc(0x4E00) == 0);
    CHECK(uc::ccc(0x10FFFF) == 0);
    CHECK(uc::ccc(0x110000) == 0);
}

TEST_CASE("decomposition and composition tables agree on simple cases", "[unicode]") {
    const auto e_acute = uc::decomposition(0x00E9);
    REQUIRE(e_acute.size == 2);
    CHECK(e_acute.data[0] == U'e');
    CHECK(e_acute.data[1] == 0x0301);

    // U+1E09 LATIN SMALL LETTER C WITH CEDILLA AND ACUTE: the stored form is fully recursive.
    const auto c_cedilla_acute = uc::decomposition(0x1E09);
    REQUIRE(c_cedilla_acute.size == 3);
    CHECK(c_cedilla_acute.data[0] == U'c');
    CHECK(c_cedilla_acute.data[1] == 0x0327);
    CHECK(c_cedilla_acute.data[2] == 0x0301);

    CHECK(uc::decomposition(U'e').size == 0);
    CHECK(uc::decomposition(0xAC00).size == 0);   // Hangul is arithmetic, not tabulated
    CHECK(uc::decomposition(0x00B2).size == 0);   // compatibility mappings are not canonical
    CHECK(uc::decomposition(0x212B).size == 2);   // ANGSTROM SIGN -> A + ring (via U+00C5)

    CHECK(uc::compose_pair(U'e', 0x0301) == 0x00E9);
    CHECK(uc::compose_pair(0x00E7, 0x0301) == 0x1E09);
    CHECK(uc::compose_pair(U'e', U'e') == 0);
    CHECK(uc::compose_pair(0x0915, 0x093C) == 0);  // U+0958 is a composition exclusion
    CHECK(uc::compose_pair(0x0308, 0x0301) == 0);  // U+0344 is a non-starter decomposition

    CHECK(std::strlen(uc::unicode_version) >= 5);
}
