// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes encoded with a small fixed model, normalized and raw. Raw mode: the pieces
// are exactly the input. Normalized: the pieces are exactly nfc(input), so for valid UTF-8
// decode(encode(x)) == nfc(x). Every id is a piece id. Viterbi's path scores at least as much
// as the all-single-bytes path and equals the score of the pieces tokenize reports.
#include "fuzz_common.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace {

struct fixture {
    bytepiece::tokenizer normalized{fuzz::small_model()};
    bytepiece::tokenizer raw{fuzz::small_model(), bytepiece::encode_options{false, false, false}};
};

const fixture& get() {
    static const fixture f;
    return f;
}

// Textbook Viterbi over one chunk, for a differential check of the tokenizer's trie walk:
// for each end position, candidate pieces by start ascending (longest first), replacing only
// on a strictly greater sum best[start] + score, which is the reference's tie rule and the
// same floating-point operations in the same order, so the ids must be identical.
std::vector<std::uint32_t> reference_viterbi(const bytepiece::tokenizer& tok, std::string_view chunk) {
    const std::size_t n = chunk.size(), max_len = tok.model().max_piece_length();
    std::vector<double> best(n + 1, -std::numeric_limits<double>::infinity());
    std::vector<std::pair<std::size_t, std::uint32_t>> back(n + 1);
    best[0] = 0;
    for (std::size_t e = 1; e <= n; ++e)
        for (std::size_t s = e > max_len ? e - max_len : 0; s < e; ++s) {
            const auto id = tok.piece_to_id(chunk.substr(s, e - s));
            if (!id) continue;
            const double candidate = best[s] + tok.model().score(*id);
            if (candidate > best[e]) {
                best[e] = candidate;
                back[e] = {s, *id};
            }
        }
    std::vector<std::uint32_t> ids;
    for (std::size_t e = n; e > 0; e = back[e].first) ids.push_back(back[e].second);
    return {ids.rbegin(), ids.rend()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const fixture& f = get();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::size_t vocab = f.raw.vocab_size();

    // Raw mode.
    const auto raw_ids = f.raw.encode(text);
    for (auto id : raw_ids) FUZZ_CHECK(id >= 3 && id < vocab);
    FUZZ_CHECK_MSG(f.raw.decode_bytes(raw_ids.data(), raw_ids.size()) == text, fuzz::escaped(text));
    const auto raw_pieces = f.raw.tokenize(text);
    FUZZ_CHECK(raw_pieces.size() == raw_ids.size());
    std::string joined;
    for (std::size_t i = 0; i < raw_pieces.size(); ++i) {
        FUZZ_CHECK(!raw_pieces[i].empty());
        FUZZ_CHECK(f.raw.id_to_piece(raw_ids[i]) == raw_pieces[i]);
        joined += raw_pieces[i];
    }
    FUZZ_CHECK(joined == text);
    // Viterbi is optimal: never worse than one piece per byte.
    double bytes_score = 0.0;
    for (unsigned char c : text) bytes_score += f.raw.score(std::vector<std::uint32_t>{*f.raw.piece_to_id(std::string(1, static_cast<char>(c)))});
    FUZZ_CHECK(f.raw.score(raw_ids) >= bytes_score - 1e-9 * (1.0 + std::abs(bytes_score)));

    // The same with options per call, with <bos>/<eos>, appending to a non-empty vector.
    std::vector<std::uint32_t> out{7};
    f.normalized.encode(text, out, bytepiece::encode_options{true, true, false});
    FUZZ_CHECK(out.size() == raw_ids.size() + 3 && out[0] == 7 && out[1] == 1 && out.back() == 2);
    FUZZ_CHECK(std::equal(raw_ids.begin(), raw_ids.end(), out.begin() + 2));

    // Normalized mode.
    const std::string normalized = bytepiece::nfc(text);
    const auto ids = f.normalized.encode(text);
    for (auto id : ids) FUZZ_CHECK(id >= 3 && id < vocab);
    FUZZ_CHECK_MSG(f.normalized.decode_bytes(ids.data(), ids.size()) == normalized, fuzz::escaped(text));
    if (fuzz::is_valid_utf8(text)) FUZZ_CHECK_MSG(f.normalized.decode(ids) == normalized, fuzz::escaped(text));
    FUZZ_CHECK(f.raw.encode(normalized) == ids);
    const auto pieces = f.normalized.tokenize(text);
    FUZZ_CHECK(pieces.size() == ids.size());
    joined.clear();
    for (const auto& p : pieces) joined += p;
    FUZZ_CHECK(joined == normalized);

    // Each chunk's ids equal the textbook Viterbi's.
    std::size_t at = 0;
    bytepiece::for_each_chunk(normalized, [&](std::string_view chunk) {
        const auto want = reference_viterbi(f.raw, chunk);
        FUZZ_CHECK_MSG(at + want.size() <= ids.size() && std::equal(want.begin(), want.end(), ids.begin() + static_cast<std::ptrdiff_t>(at)),
                       fuzz::escaped(chunk));
        at += want.size();
    });
    FUZZ_CHECK(at == ids.size());

    // encode_chunk on the raw bytes gives one segmentation of the whole input.
    std::vector<std::uint32_t> chunk_ids;
    f.raw.encode_chunk(text, chunk_ids);
    FUZZ_CHECK(f.raw.decode_bytes(chunk_ids.data(), chunk_ids.size()) == text);
    return 0;
}
