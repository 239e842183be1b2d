// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>

#include "bytepiece/detail/numpy_log.hpp"
#include "numpy_log_vectors.hpp"

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>
#define BYTEPIECE_TEST_HAVE_VRCP14 1
#endif

namespace {

using bytepiece::detail::numpy_log;

/// The bits of `x`, so that comparisons see signs of zero and NaN payloads and nothing is
/// forgiven by tolerance.
std::uint64_t bits(double x) {
    std::uint64_t u;
    std::memcpy(&u, &x, sizeof u);
    return u;
}

/// The double whose bits are `u`.
double from_bits(std::uint64_t u) {
    double x;
    std::memcpy(&x, &u, sizeof x);
    return x;
}

/// Distance in units in the last place between two finite doubles of the same sign, used only for
/// the sanity bound against the platform's log.
std::uint64_t ulp_distance(double a, double b) {
    const std::uint64_t ua = bits(a), ub = bits(b);
    return ua > ub ? ua - ub : ub - ua;
}

#ifdef BYTEPIECE_TEST_HAVE_VRCP14
/// round(VRCP14PD(m) * 32) on this CPU for the mantissa m = 1 + prefix / 2^16, computed with the
/// very instructions SVML uses; only called after a runtime check for AVX-512F.
__attribute__((target("avx512f"))) int hardware_rounded_rcp32(std::uint32_t prefix) {
    const double m = from_bits(0x3FF0000000000000u | (static_cast<std::uint64_t>(prefix) << 36));
    // The masked forms with an explicit source keep GCC 12 from warning about the undefined
    // vector the unmasked intrinsics start from.
    const __m512d zero = _mm512_setzero_pd();
    const __m512d c = _mm512_mask_rcp14_pd(zero, 0xFF, _mm512_set1_pd(m));
    const __m512d rounded = _mm512_mask_roundscale_round_pd(zero, 0xFF, c, 0x58, _MM_FROUND_NO_EXC);
    return static_cast<int>(_mm512_cvtsd_f64(rounded) * 32.0);
}
#endif

}  // namespace

TEST_CASE("numpy_log reproduces numpy 1.24's np.log bit for bit", "[numpy_log]") {
    std::size_t mismatches = 0;
    for (const auto& v : numpy_log_vectors::all) {
        const double got = numpy_log(v.x);
        if (bits(got) != bits(v.log_x)) {
            ++mismatches;
            INFO("x = " << v.x << " (bits " << std::hex << bits(v.x) << "), got bits " << bits(got)
                        << ", numpy bits " << bits(v.log_x));
            CHECK(bits(got) == bits(v.log_x));
        }
    }
    CHECK(mismatches == 0);
    CHECK(std::size(numpy_log_vectors::all) > 2000);
}

TEST_CASE("numpy_log special values follow numpy", "[numpy_log]") {
    const double inf = std::numeric_limits<double>::infinity();
    constexpr std::uint64_t default_nan = 0xFFF8000000000000u;

    CHECK(bits(numpy_log(1.0)) == 0);  // +0, not -0
    CHECK(bits(numpy_log(0.0)) == bits(-inf));
    CHECK(bits(numpy_log(-0.0)) == bits(-inf));
    CHECK(bits(numpy_log(inf)) == bits(inf));
    CHECK(bits(numpy_log(-inf)) == default_nan);
    CHECK(bits(numpy_log(-1.0)) == default_nan);
    CHECK(bits(numpy_log(-0x1p-1074)) == default_nan);
    CHECK(bits(numpy_log(-std::numeric_limits<double>::max())) == default_nan);

    // NaNs pass through the vector path: quieted, sign and payload kept.
    CHECK(bits(numpy_log(from_bits(0x7FF8000000000000u))) == 0x7FF8000000000000u);
    CHECK(bits(numpy_log(from_bits(0xFFF8000000000000u))) == 0xFFF8000000000000u);
    CHECK(bits(numpy_log(from_bits(0x7FF0000000000001u))) == 0x7FF8000000000001u);
    CHECK(bits(numpy_log(from_bits(0xFFF0000000000001u))) == 0xFFF8000000000001u);
    CHECK(bits(numpy_log(from_bits(0x7FF4000000000000u))) == 0x7FFC000000000000u);
}

TEST_CASE("numpy_log stays within one ulp of the platform log", "[numpy_log]") {
    // Not a statement about numpy, only a guard against a gross slip (a wrong table entry or
    // exponent) in inputs the vectors do not reach.
    std::uint64_t worst = 0;
    for (int i = 2; i <= 200000; ++i) {
        const double x = static_cast<double>(i);
        worst = std::max(worst, ulp_distance(numpy_log(x), std::log(x)));
    }
    for (int e = -1074; e <= 1023; ++e) {
        const double x = std::ldexp(1.0, e) * 1.2345678901234567;
        if (x > 0 && std::isfinite(x)) worst = std::max(worst, ulp_distance(numpy_log(x), std::log(x)));
    }
    CHECK(worst <= 1);
}

TEST_CASE("rcp_steps match this CPU's VRCP14PD", "[numpy_log]") {
#ifdef BYTEPIECE_TEST_HAVE_VRCP14
    if (!__builtin_cpu_supports("avx512f")) {
        WARN("CPU without AVX-512F: the VRCP14PD step table is checked only by the numpy vectors here");
        return;
    }
    std::size_t mismatches = 0;
    for (std::uint32_t prefix = 0; prefix < 65536; ++prefix) {
        int expected = 32;
        for (const std::uint32_t step : bytepiece::detail::numpy_log_data::rcp_steps) expected -= prefix >= step ? 1 : 0;
        if (hardware_rounded_rcp32(prefix) != expected) ++mismatches;
    }
    CHECK(mismatches == 0);
#else
    WARN("not x86-64 with GCC or Clang: the VRCP14PD step table is checked only by the numpy vectors here");
#endif
}
