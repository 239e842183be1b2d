// SPDX-License-Identifier: Apache-2.0
// The random numbers are part of the reproducibility contract: these values are fixed forever.
#include <bytepiece/random.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

using bytepiece::splitmix64;

TEST_CASE("splitmix64 produces the published sequence", "[random]") {
    // Reference values of SplitMix64 (Steele, Lea, Flood 2014), seed 0.
    splitmix64 g(0);
    CHECK(g() == 0xE220A8397B1DCDAFull);
    CHECK(g() == 0x6E789E6AA1B965F4ull);
    CHECK(g() == 0x06C45D188009454Full);

    splitmix64 h(42);
    CHECK(h() == 0xBDD732262FEB6E95ull);
    CHECK(h() == 0x28EFE333B266F103ull);
    CHECK(h() == 0x47526757130F9F52ull);
}

TEST_CASE("splitmix64 discard, seed, state and equality", "[random]") {
    splitmix64 a(1234567), b(1234567);
    for (int i = 0; i < 999; ++i) a();
    b.discard(999);
    CHECK(a == b);
    CHECK(a() == 0x8B33CC4945DD1C5Full);
    CHECK(a != b);
    splitmix64 c(a.state());
    CHECK(c == a);
    c.seed(0);
    CHECK(c() == 0xE220A8397B1DCDAFull);
    static_assert(splitmix64::min() == 0 && splitmix64::max() == ~0ull);
    constexpr std::uint64_t first = [] {
        splitmix64 g(0);
        return g();
    }();
    static_assert(first == 0xE220A8397B1DCDAFull, "usable in constant expressions");
}

TEST_CASE("splitmix64 works with the standard distributions", "[random]") {
    splitmix64 g(7);
    std::uniform_int_distribution<int> d(1, 6);
    int seen[7] = {};
    for (int i = 0; i < 600; ++i) ++seen[d(g)];
    for (int v = 1; v <= 6; ++v) CHECK(seen[v] > 50);
}

TEST_CASE("uniform_double is the top 53 bits times 2^-53", "[random]") {
    splitmix64 g(42);
    CHECK(bytepiece::uniform_double(g) == 0x1.7bae644c5fd6dp-1);  // 0xBDD732262FEB6E95 >> 11
    splitmix64 h(42);
    const double u = bytepiece::uniform_double(h);
    CHECK(u == static_cast<double>(0xBDD732262FEB6E95ull >> 11) * 0x1p-53);
    splitmix64 o(42);
    CHECK(bytepiece::uniform_double_open(o) == (static_cast<double>(0xBDD732262FEB6E95ull >> 12) + 0.5) * 0x1p-52);
}

TEST_CASE("uniform_double stays in range at the extremes", "[random]") {
    struct fixed {
        using result_type = std::uint64_t;
        std::uint64_t value;
        static constexpr result_type min() { return 0; }
        static constexpr result_type max() { return ~0ull; }
        result_type operator()() { return value; }
    };
    fixed zero{0}, ones{~0ull};
    CHECK(bytepiece::uniform_double(zero) == 0.0);
    CHECK(bytepiece::uniform_double(ones) == 1.0 - 0x1p-53);
    CHECK(bytepiece::uniform_double(ones) < 1.0);
    CHECK(bytepiece::uniform_double_open(zero) == 0x1p-53);
    CHECK(bytepiece::uniform_double_open(ones) == 1.0 - 0x1p-53);
    CHECK(bytepiece::uniform_double_open(ones) < 1.0);
    CHECK(std::isfinite(bytepiece::standard_gumbel(zero)));
    CHECK(std::isfinite(bytepiece::standard_gumbel(ones)));
}

TEST_CASE("random_bits64 combines narrower generators in a fixed way", "[random]") {
    // std::mt19937's sequence is fixed by the standard: seed 5 gives 0x38d48b63, 0x0e2048ce.
    std::mt19937 mt(5);
    CHECK(bytepiece::random_bits64(mt) == 0x38D48B630E2048CEull);
    std::mt19937 mt2(5);
    CHECK(bytepiece::uniform_double(mt2) == 0x1.c6a45b1871024p-3);

    // minstd_rand: range [1, 2^31 - 2], so 30 bits per accepted draw, draws >= 2^30 rejected,
    // three accepted draws concatenated and the low 64 bits kept.
    std::minstd_rand lcg(3);
    CHECK(bytepiece::random_bits64(lcg) == 0xC829C1E958D5D10Bull);

    // A 64-bit engine passes through unchanged.
    std::mt19937_64 a(9), b(9);
    CHECK(bytepiece::random_bits64(a) == b());
}

TEST_CASE("the generator detection separates generators from seeds", "[random]") {
    static_assert(bytepiece::detail::is_uniform_random_bit_generator_v<splitmix64>);
    static_assert(bytepiece::detail::is_uniform_random_bit_generator_v<std::mt19937>);
    static_assert(!bytepiece::detail::is_uniform_random_bit_generator_v<int>);
    static_assert(!bytepiece::detail::is_uniform_random_bit_generator_v<std::uint64_t>);
    SUCCEED();
}

TEST_CASE("uniform_double is uniform (chi-square over 64 cells)", "[random]") {
    splitmix64 g(2024);
    const int cells = 64, n = 640000;
    std::vector<int> count(cells, 0);
    double sum = 0;
    for (int i = 0; i < n; ++i) {
        const double u = bytepiece::uniform_double(g);
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
        sum += u;
        ++count[static_cast<int>(u * cells)];
    }
    double chi2 = 0;
    const double expected = static_cast<double>(n) / cells;
    for (int c : count) chi2 += (c - expected) * (c - expected) / expected;
    // 63 degrees of freedom: the 1e-4 upper tail starts near 117.
    CHECK(chi2 < 117.0);
    CHECK(std::abs(sum / n - 0.5) < 0.002);
}
