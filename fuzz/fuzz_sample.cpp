// SPDX-License-Identifier: Apache-2.0
// Sampling arbitrary bytes with the small fixed model: the first byte picks alpha in [0, 10]
// (plus a few extreme values the API accepts), the next 8 bytes seed the generator. The
// sampled pieces concatenate to the normalized input, ids are piece ids, the ids and pieces
// overloads agree, a seed reproduces its draw, a negative alpha encodes deterministically, and
// a rejected alpha throws argument_error.
#include "fuzz_common.hpp"

#include <cmath>
#include <limits>

namespace {

const bytepiece::tokenizer& tok() {
    static const bytepiece::tokenizer t{fuzz::small_model()};
    return t;
}

double alpha_from(std::uint8_t b) {
    switch (b) {
        case 251: return 1e6;    // the largest accepted alpha
        case 252: return 1e-300;
        case 253: return 500.0;  // weights below 2^-700: the slow path
        case 254: return -1.0;   // deterministic encoding, as in BytePiece
        case 255: return std::numeric_limits<double>::quiet_NaN();  // rejected
        default: return b / 25.0;  // 0 .. 10
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const bytepiece::tokenizer& t = tok();
    fuzz::reader in(data, size);
    const double alpha = alpha_from(in.byte());
    const std::uint64_t seed = in.u64();
    const std::string_view text = in.rest();

    if (std::isnan(alpha) || alpha > 1e6) {
        bool threw = false;
        try {
            (void)t.sampler(alpha);
        } catch (const bytepiece::argument_error& e) {
            threw = e.code() == bytepiece::errc::invalid_argument;
        }
        FUZZ_CHECK(threw);
        return 0;
    }

    const std::string normalized = bytepiece::nfc(text);
    const auto s = t.sampler(alpha);
    if (alpha < 0.0) {
        FUZZ_CHECK(s.sample(text, seed) == t.encode(text));
        FUZZ_CHECK(t.sample(text, alpha, seed) == t.encode(text));
        FUZZ_CHECK(s.sample_pieces(text, seed) == t.tokenize(text));
        return 0;
    }
    const auto ids = s.sample(text, seed);
    for (auto id : ids) FUZZ_CHECK(id >= 3 && id < t.vocab_size());
    FUZZ_CHECK_MSG(t.decode_bytes(ids.data(), ids.size()) == normalized, fuzz::escaped(text));

    const auto pieces = s.sample_pieces(text, seed);
    FUZZ_CHECK(pieces.size() == ids.size());
    std::string joined;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        FUZZ_CHECK(t.id_to_piece(ids[i]) == pieces[i]);
        joined += pieces[i];
    }
    FUZZ_CHECK(joined == normalized);

    // The tokenizer's convenience overloads draw the same.
    FUZZ_CHECK(t.sample(text, alpha, seed) == ids);
    bytepiece::splitmix64 g(seed);
    FUZZ_CHECK(t.sample_pieces(text, alpha, g) == pieces);

    // Chunk by chunk with one generator equals the whole text.
    bytepiece::splitmix64 g2(seed);
    std::vector<std::uint32_t> by_chunk;
    bytepiece::for_each_chunk(normalized, [&](std::string_view chunk) { s.sample_chunk(chunk, g2, by_chunk); });
    FUZZ_CHECK(by_chunk == ids);
    return 0;
}
