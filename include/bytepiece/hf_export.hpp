// SPDX-License-Identifier: Apache-2.0
//
// Export of a BytePiece model to a HuggingFace `tokenizer.json` with which HF tokenizers gives
// exactly BytePiece's ids.
//
// BytePiece segments bytes; HF's Unigram model segments characters. The export makes the two
// lattices coincide: a `ByteLevel` pre-tokenizer turns every byte of the text into one
// character of the GPT-2 byte alphabet, and every piece is written in that alphabet, so pieces
// that are not valid UTF-8 stay representable and no byte is ever unknown. A `Split` before it
// cuts the text into BytePiece's chunks, so that HF, like BytePiece, starts every chunk afresh.
// HF runs the Unigram search in float64 with the same strictly-greater rule as BytePiece; the
// scores are written as integers (BytePiece's scores times one power of two), which HF's JSON
// reader takes exactly, where decimals would land one ulp off about a quarter of the time.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bytepiece/detail/file.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/model.hpp"
#include "bytepiece/sentencepiece_export.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// Choices for `to_hf_json`.
struct hf_export_options {
    /// Give the file an NFC normalizer, as BytePiece's tokenizer normalizes by default. HF's NFC
    /// tables are Unicode 9.0 while BytePiece's are 15.0, so text with combining marks newer
    /// than Unicode 9.0 next to a base they compose with can normalize differently. Turn this
    /// off when the caller NFC-normalizes the text itself (or encodes raw bytes with
    /// `encode_options::normalize` false): the file then only chunks the text and maps bytes.
    bool normalize = true;
};

namespace detail {

// The power of two the scores are multiplied by, and the integers they become. A double s with
// |s| >= 2^e has its last significand bit at 2^(e-52), so s * 2^(52-e) is an integer; taking e
// from the smallest nonzero |score| makes every score an integer. HF reads a JSON integer
// exactly up to 2^64 in magnitude (serde_json keeps it as u64/i64, or for a negative beyond
// i64 converts the u64 once, exactly here since the value came from a double), and scaling
// all scores by one power of two changes neither a sum's rounding nor a comparison.
struct hf_score_scale {
    int k = 0;
    std::vector<std::uint64_t> magnitude;  // |score| * 2^k for ids 3.., in id order
};

inline int hf_needed_shift(double s) {
    // The smallest k with s * 2^k an integer: s = m * 2^(e-52) with m odd after stripping zeros.
    int e = 0;
    double m = std::frexp(std::fabs(s), &e);  // |s| = m * 2^e, m in [0.5, 1)
    m = std::ldexp(m, 53);                    // an integer below 2^53
    auto bits = static_cast<std::uint64_t>(m);
    int shift = 53 - e;
    while (bits != 0 && (bits & 1u) == 0) {
        bits >>= 1;
        --shift;
    }
    return shift;
}

template <class Score, class Id>
hf_score_scale hf_scale_scores(const basic_model<Score, Id>& m) {
    using model_type = basic_model<Score, Id>;
    double smallest = 0, largest = 0;
    for (std::size_t id = model_type::first_piece_id; id < m.vocab_size(); ++id) {
        const double a = std::fabs(static_cast<double>(m.score(static_cast<Id>(id))));
        if (a != 0 && (smallest == 0 || a < smallest)) smallest = a;
        if (a > largest) largest = a;
    }
    hf_score_scale out;
    if (smallest != 0) {
        int e = 0;
        std::frexp(smallest, &e);  // smallest in [2^(e-1), 2^e): floor(log2) is e - 1, exactly
        out.k = 52 - (e - 1);
    }
    constexpr double limit = 18446744073709551616.0;  // 2^64: beyond it HF's reader rounds
    if (std::ldexp(largest, out.k) >= limit) {
        // Scores spread over more than 2^11: the smallest exact scale may still fit.
        int k = -1074;
        for (std::size_t id = model_type::first_piece_id; id < m.vocab_size(); ++id) {
            const double s = static_cast<double>(m.score(static_cast<Id>(id)));
            if (s != 0) k = std::max(k, hf_needed_shift(s));
        }
        out.k = k;
        // Unreachable for scores basic_model computes (see to_hf_json); a guard, never a
        // silently rounded file.
        if (std::ldexp(largest, out.k) >= limit)
            BYTEPIECE_THROW(model_error(errc::model_hf_unsupported,
                                        "to_hf_json: the scores span too many binary orders of magnitude to be written "
                                        "as integers below 2^64, the only numbers HF tokenizers reads exactly"));
    }
    out.magnitude.reserve(m.piece_count());
    for (std::size_t id = model_type::first_piece_id; id < m.vocab_size(); ++id)
        out.magnitude.push_back(
            static_cast<std::uint64_t>(std::ldexp(std::fabs(static_cast<double>(m.score(static_cast<Id>(id)))), out.k)));
    return out;
}

// A piece as a JSON string in the byte alphabet. The alphabet has no control character, so
// only '"' and '\\' need escaping, as serde_json escapes them.
inline void append_hf_piece(std::string_view bytes, std::string& out) {
    out += '"';
    for (const char c : bytes) {
        if (c == '"' || c == '\\') out += '\\';
        detail::utf8::append(byte_to_alphabet(static_cast<unsigned char>(c)), out);
    }
    out += '"';
}

}  // namespace detail

/// The text of a HuggingFace `tokenizer.json` with which HF tokenizers (0.23) gives exactly
/// `m`'s ids for every text: compact JSON, keys in the order HF writes them.
///
/// The file: normalizer NFC (none if `options.normalize` is false); pre-tokenizer a `Split` on
/// the regex `[^\n]*\n+` (Isolated: BytePiece's chunks, a line with the newlines after it)
/// followed by `ByteLevel` without prefix space or regex (each byte becomes one character of
/// the GPT-2 byte alphabet, `byte_to_alphabet`); decoder `ByteLevel`; no added tokens and no
/// post-processor; model `Unigram` with `unk_id` null and no byte fallback. Ids 0-2 are
/// `<pad>`, `<s>`, `</s>` with score -10^21, never chosen (and not added tokens, so a literal
/// `</s>` in a text stays text, as in BytePiece); every piece keeps its id, written in the
/// byte alphabet, with its float64 score times 2^k as a JSON integer, k = 52 - floor(log2 of
/// the smallest |score|) (50 or 51 for the released models), or where that would reach 2^64,
/// the smallest k that makes every score an integer. Decoding gives the text's bytes back.
/// Throws `model_error` (`model_empty`) for a model without pieces. (A score that no k could
/// write below 2^64 would be refused with `model_hf_unsupported`, but BytePiece's scores are
/// differences of two logarithms below 45, so multiples of 2^-53 that always fit below 2^59,
/// in float as in double.)
///
/// Example: `std::string json = bytepiece::to_hf_json(bytepiece::model::load("bytepiece.eu.plus.40k.model"));`
template <class Score, class Id>
std::string to_hf_json(const basic_model<Score, Id>& m, const hf_export_options& options = {}) {
    using model_type = basic_model<Score, Id>;
    static_assert(model_type::first_piece_id == 3, "ids 0-2 are written as <pad>, <s>, </s>");
    if (m.piece_count() == 0)
        BYTEPIECE_THROW(model_error(errc::model_empty, "to_hf_json: the model holds no pieces"));
    const detail::hf_score_scale scale = detail::hf_scale_scores(m);

    std::string out;
    out.reserve(512 + m.vocab_size() * 24 + m.piece_count() * 4);
    out += R"({"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":)";
    out += options.normalize ? R"({"type":"NFC"})" : "null";
    out += R"(,"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"[^\n]*\n+"},)"
           R"("behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,)"
           R"("use_regex":false}]},"post_processor":null,"decoder":{"type":"ByteLevel","add_prefix_space":false,)"
           R"("trim_offsets":false,"use_regex":false},"model":{"type":"Unigram","unk_id":null,"vocab":[)";
    // -10^21 as an integer: below any scaled score (all under 2^64 < 10^20), and exactly 10^21
    // once read, since 5^21 < 2^53.
    out += R"(["<pad>",-1000000000000000000000],["<s>",-1000000000000000000000],["</s>",-1000000000000000000000])";
    char digits[24];
    for (std::size_t i = 0; i < scale.magnitude.size(); ++i) {
        const auto id = static_cast<Id>(model_type::first_piece_id + i);
        out += ",[";
        detail::append_hf_piece(m.piece(id), out);
        out += ',';
        if (scale.magnitude[i] != 0 && static_cast<double>(m.score(id)) < 0) out += '-';
        const auto r = std::to_chars(digits, digits + sizeof digits, scale.magnitude[i]);
        out.append(digits, static_cast<std::size_t>(r.ptr - digits));
        out += ']';
    }
    out += R"(],"byte_fallback":false}})";
    return out;
}

/// Writes `to_hf_json(m, options)` to `path` through a temporary file and a rename, so that a
/// failed write never leaves a truncated file behind. Throws `io_error` on failure, and
/// `model_error` as `to_hf_json` does (before anything is written).
///
/// Example: `bytepiece::save_hf_json(bytepiece::model::load("my.model"), "tokenizer.json");`
template <class Score, class Id>
void save_hf_json(const basic_model<Score, Id>& m, const std::string& path, const hf_export_options& options = {}) {
    detail::write_file_atomic(path, to_hf_json(m, options));
}

BYTEPIECE_NAMESPACE_END
