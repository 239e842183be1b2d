// SPDX-License-Identifier: Apache-2.0
//
// The random numbers behind stochastic tokenization, defined bit for bit.
//
// The standard distributions (`std::uniform_real_distribution` and friends) are allowed to
// produce different values on different standard libraries, so a seeded sample would not be
// reproducible across platforms. Everything here is specified exactly instead:
//
// - `splitmix64` is the generator of Steele, Lea and Flood (2014): a 64-bit counter advanced by
//   the golden-ratio constant and passed through a fixed mixing function.
// - `random_bits64(g)` turns any UniformRandomBitGenerator into 64 random bits by a documented
//   rule, and `uniform_double(g)` turns those bits into a double: the top 53 bits times 2^-53.
//
// With the same generator and seed, the values are identical on every platform and compiler.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// SplitMix64, the library's default random generator: small (one 64-bit word of state),
/// fast, statistically strong (it passes BigCrush) and fully specified, so a seed gives the
/// same sequence everywhere. Step: `state += 0x9E3779B97F4A7C15`; output: `z = state;
/// z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9; z = (z ^ z >> 27) * 0x94D049BB133111EB;
/// z ^ z >> 31`. It satisfies UniformRandomBitGenerator, so it also works with the standard
/// distributions. Its period is 2^64 and `discard(n)` is O(1), which makes disjoint streams
/// for threads cheap (`g.discard(thread_index << 40)`).
///
/// Example: `bytepiece::splitmix64 g(42); std::uint64_t x = g();`
class splitmix64 {
public:
    using result_type = std::uint64_t;

    /// Seeds the generator: the state is the seed itself (seed 0 is as good as any other).
    ///
    /// Example: `bytepiece::splitmix64 g(2024);`
    constexpr explicit splitmix64(std::uint64_t seed = 0) noexcept : state_(seed) {}

    /// Smallest value `operator()` returns (0).
    ///
    /// Example: `static_assert(bytepiece::splitmix64::min() == 0);`
    static constexpr result_type min() noexcept { return 0; }

    /// Largest value `operator()` returns (2^64 - 1).
    ///
    /// Example: `static_assert(bytepiece::splitmix64::max() == ~0ull);`
    static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

    /// Advances the state and returns the next 64 random bits.
    ///
    /// Example: `std::uint64_t bits = g();`
    constexpr result_type operator()() noexcept {
        std::uint64_t z = (state_ += gamma);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }

    /// Restarts the sequence from `seed`.
    ///
    /// Example: `g.seed(7);`
    constexpr void seed(std::uint64_t seed) noexcept { state_ = seed; }

    /// Skips `n` outputs in constant time (the state is a counter).
    ///
    /// Example: `g.discard(std::uint64_t(thread_index) << 40);`
    constexpr void discard(std::uint64_t n) noexcept { state_ += n * gamma; }

    /// The raw state, for checkpointing: `splitmix64(g.state())` continues where `g` is.
    ///
    /// Example: `auto saved = g.state();`
    constexpr std::uint64_t state() const noexcept { return state_; }

    /// Two generators are equal when they will produce the same sequence.
    ///
    /// Example: `assert(bytepiece::splitmix64(1) == bytepiece::splitmix64(1));`
    friend constexpr bool operator==(const splitmix64& a, const splitmix64& b) noexcept { return a.state_ == b.state_; }

    /// Two generators differ when their sequences do.
    ///
    /// Example: `assert(bytepiece::splitmix64(1) != bytepiece::splitmix64(2));`
    friend constexpr bool operator!=(const splitmix64& a, const splitmix64& b) noexcept { return a.state_ != b.state_; }

private:
    static constexpr std::uint64_t gamma = 0x9E3779B97F4A7C15ull;
    std::uint64_t state_;
};

namespace detail {

// UniformRandomBitGenerator detection, so that overloads taking a seed (an integer) and
// overloads taking a generator do not compete.
template <class G, class = void>
struct is_uniform_random_bit_generator : std::false_type {};

template <class G>
struct is_uniform_random_bit_generator<
    G, std::void_t<decltype(G::min()), decltype(G::max()), decltype(std::declval<G&>()())>>
    : std::bool_constant<std::is_unsigned_v<std::remove_cv_t<std::remove_reference_t<decltype(std::declval<G&>()())>>>> {};

template <class G>
inline constexpr bool is_uniform_random_bit_generator_v = is_uniform_random_bit_generator<std::remove_cv_t<G>>::value;

template <class G>
using enable_if_generator_t = std::enable_if_t<is_uniform_random_bit_generator_v<G>, int>;

// floor(log2(x + 1)) for x = max - min, i.e. how many whole bits one draw can supply.
constexpr int usable_bits(std::uint64_t span) noexcept {
    if (span == std::numeric_limits<std::uint64_t>::max()) return 64;
    int b = 0;
    while (b < 63 && (std::uint64_t{1} << (b + 1)) <= span + 1) ++b;
    return b;
}

}  // namespace detail

/// Returns 64 uniformly random bits drawn from any UniformRandomBitGenerator `g`, by a fixed
/// rule so that results are reproducible wherever `g`'s own sequence is. Let `b` be the number
/// of whole bits one draw supplies (`floor(log2(max - min + 1))`). A draw `v = g() - min`
/// counts only if `v < 2^b` (otherwise it is discarded and redrawn, which never happens when
/// the range is a power of two). Accepted draws are concatenated, first draw most significant,
/// until at least 64 bits are there; the low 64 bits are the result. So `splitmix64` and
/// `std::mt19937_64` give their output unchanged, `std::mt19937` gives `(first << 32) | second`.
///
/// Example: `std::mt19937 mt(5); std::uint64_t bits = bytepiece::random_bits64(mt);`
template <class URBG, detail::enable_if_generator_t<URBG> = 0>
std::uint64_t random_bits64(URBG& g) {
    constexpr std::uint64_t lo = static_cast<std::uint64_t>(URBG::min());
    constexpr std::uint64_t span = static_cast<std::uint64_t>(URBG::max()) - lo;
    static_assert(span > 0, "a generator must produce at least two values");
    constexpr int b = detail::usable_bits(span);
    if constexpr (b == 64) {
        return static_cast<std::uint64_t>(g()) - lo;
    } else {
        constexpr std::uint64_t limit = std::uint64_t{1} << b;
        std::uint64_t bits = 0;
        for (int have = 0; have < 64; have += b) {
            std::uint64_t v;
            do v = static_cast<std::uint64_t>(g()) - lo;
            while (v >= limit);
            bits = (bits << b) | v;
        }
        return bits;
    }
}

/// A uniform double in [0, 1): the top 53 bits of `random_bits64(g)` times 2^-53, so every
/// value is a multiple of 2^-53 and each of the 2^53 values is equally likely. Unlike
/// `std::uniform_real_distribution`, the result is the same on every platform.
///
/// Example: `bytepiece::splitmix64 g(1); double u = bytepiece::uniform_double(g);`
template <class URBG, detail::enable_if_generator_t<URBG> = 0>
double uniform_double(URBG& g) {
    return static_cast<double>(random_bits64(g) >> 11) * 0x1p-53;
}

/// A uniform double in the open interval (0, 1): `((bits >> 12) + 0.5) * 2^-52`, the midpoints
/// of 2^52 equal cells (52 bits, because a midpoint needs one more bit than the cell index and
/// a double holds 53), so neither 0 nor 1 can occur (what logarithms of uniforms need).
///
/// Example: `double u = bytepiece::uniform_double_open(g);  // 0 < u < 1`
template <class URBG, detail::enable_if_generator_t<URBG> = 0>
double uniform_double_open(URBG& g) {
    return (static_cast<double>(random_bits64(g) >> 12) + 0.5) * 0x1p-52;
}

/// A standard Gumbel variate, `-log(-log(u))` with `u = uniform_double_open(g)`. Used for
/// Gumbel-top-k sampling without replacement. The bits consumed are portable; the value goes
/// through the platform's `std::log`, which may differ in the last bit between C libraries.
///
/// Example: `double key = log_p + bytepiece::standard_gumbel(g);`
template <class URBG, detail::enable_if_generator_t<URBG> = 0>
double standard_gumbel(URBG& g) {
    return -std::log(-std::log(uniform_double_open(g)));
}

BYTEPIECE_NAMESPACE_END
