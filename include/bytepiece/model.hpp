// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "bytepiece/detail/base64.hpp"
#include "bytepiece/detail/binary_model.hpp"
#include "bytepiece/detail/file.hpp"
#include "bytepiece/detail/model_json.hpp"
#include "bytepiece/detail/numpy_log.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/errors.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// A BytePiece vocabulary: byte-string pieces with their counts and scores.
///
/// Ids 0, 1 and 2 are `<pad>`, `<bos>` and `<eos>` and carry no piece; pieces have ids 3 .. N+2.
/// A piece's score is `ln(count) - ln(sum of all counts)`, computed in double precision with
/// the very logarithm the reference used (see detail/numpy_log.hpp) and then stored as `Score`,
/// so that equal-score ties resolve the same way on every platform. `Id` is the integer type ids are returned in. The model is a plain value: copyable,
/// movable, and immutable through its public interface.
template <class Score = double, class Id = std::uint32_t>
class basic_model {
    static_assert(std::is_floating_point_v<Score>, "Score must be a floating-point type");
    static_assert(std::is_integral_v<Id> && std::is_unsigned_v<Id>, "Id must be an unsigned integer type");
    friend struct detail::binary_model_access;

public:
    using score_type = Score;
    using id_type = Id;

    static constexpr id_type pad_id = 0;
    static constexpr id_type bos_id = 1;
    static constexpr id_type eos_id = 2;
    static constexpr id_type first_piece_id = 3;

    /// An empty model (only the three special ids). Mostly useful as a moved-from state.
    basic_model() { offsets_.assign(first_piece_id + 1, 0); counts_.assign(first_piece_id, 0); rescore(); }

    /// Builds a model from `(piece, count)` pairs, ordering pieces by (length, bytes) and giving
    /// them ids 3, 4, ... in that order, the way the reference trainer saves its models. Throws
    /// `model_error` on an empty or duplicate piece or a zero count. With `require_all_bytes`,
    /// all 256 single-byte pieces must be present so that every input can be encoded.
    ///
    /// Example: `auto m = model::from_counts({{"a", 5}, {"b", 3}, ...});`
    static basic_model from_counts(std::vector<std::pair<std::string, std::uint64_t>> pieces,
                                   bool require_all_bytes = true);

    /// Loads a BytePiece JSON model file (`{base64(piece): [id, text, count], ...}`), or a
    /// binary model written by `basic_tokenizer::save_binary` (told apart by its first bytes),
    /// validating everything: throws `io_error` if the file cannot be read and `model_error`,
    /// naming the file and the offending key or id, if it is not such a model or lacks any
    /// single byte. To get a tokenizer, `basic_tokenizer::load` is faster on a binary model,
    /// since it keeps the trie stored there.
    ///
    /// Example: `auto m = bytepiece::model::load("bytepiece.eu.plus.40k.model");`
    static basic_model load(const std::string& path);

    /// Parses a model from JSON text already in memory; `source` names it in error messages.
    /// Throws `model_error` like `load`.
    ///
    /// Example: `auto m = bytepiece::model::from_json(R"({"QQ==": [3, "A", 1], ...})", "inline");`
    static basic_model from_json(std::string_view json, std::string_view source = "<memory>");

    /// Serializes the model exactly as the reference saves it: 4-space indentation, non-ASCII
    /// unescaped, one entry per piece in id order, display text = piece bytes decoded as UTF-8
    /// with invalid bytes dropped, no trailing newline. A released model that is loaded and
    /// saved comes back byte-identical.
    ///
    /// Example: `std::string text = m.to_json();`
    std::string to_json() const;

    /// Writes `to_json()` to `path` through a temporary file and a rename, so that a failed
    /// write never leaves a truncated model behind. Throws `io_error` on failure.
    ///
    /// Example: `m.save("my.model");`
    void save(const std::string& path) const;

    /// Number of ids, the three special ids included.
    std::size_t vocab_size() const noexcept { return counts_.size(); }

    /// Number of pieces (`vocab_size() - 3`).
    std::size_t piece_count() const noexcept { return counts_.size() - first_piece_id; }

    /// The bytes of piece `id` (empty for the special ids 0..2). `id` must be < vocab_size().
    std::string_view piece(id_type id) const noexcept {
        return std::string_view(bytes_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
    }

    /// The count of piece `id` (0 for the special ids).
    std::uint64_t count(id_type id) const noexcept { return counts_[id]; }

    /// The score `ln(count / total)` of piece `id` (-infinity for the special ids).
    score_type score(id_type id) const noexcept { return scores_[id]; }

    /// All scores, indexed by id: a dense array for hot loops.
    const score_type* scores() const noexcept { return scores_.data(); }

    /// Sum of all piece counts.
    std::uint64_t total_count() const noexcept { return total_; }

    /// Length in bytes of the longest piece.
    std::size_t max_piece_length() const noexcept { return max_len_; }

private:
    static basic_model from_raw(std::vector<detail::raw_piece> raw, std::string_view source, bool require_all_bytes) {
        const std::string src(source);
        if (raw.empty()) BYTEPIECE_THROW(model_error(errc::model_empty, src + ": the model has no pieces"));
        if (raw.size() > std::numeric_limits<id_type>::max() - first_piece_id)
            BYTEPIECE_THROW(model_error(errc::model_too_large, src + ": " + std::to_string(raw.size()) +
                                                                   " pieces do not fit the id type"));
        // Order by id, then check the ids are exactly 3 .. N+2 with no gap or repeat.
        std::sort(raw.begin(), raw.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
        for (std::size_t i = 0; i < raw.size(); ++i) {
            const std::uint64_t want = first_piece_id + i;
            if (raw[i].id == want) continue;
            if (i > 0 && raw[i].id == raw[i - 1].id)
                BYTEPIECE_THROW(model_error(errc::model_duplicate_id,
                                            src + ": id " + std::to_string(raw[i].id) + " is used by two pieces (key \"" +
                                                key_of(raw[i].bytes) + "\" and key \"" + key_of(raw[i - 1].bytes) + "\")"));
            BYTEPIECE_THROW(model_error(errc::model_bad_ids, src + ": ids must run from 3 to " +
                                                                 std::to_string(raw.size() + 2) + " without gaps; id " +
                                                                 std::to_string(want) + " is missing (next id is " +
                                                                 std::to_string(raw[i].id) + ", key \"" +
                                                                 key_of(raw[i].bytes) + "\")"));
        }
        basic_model m;
        m.counts_.assign(first_piece_id, 0);
        m.offsets_.assign(first_piece_id + 1, 0);
        m.counts_.reserve(raw.size() + first_piece_id);
        m.offsets_.reserve(raw.size() + first_piece_id + 1);
        std::size_t bytes = 0;
        for (const auto& r : raw) bytes += r.bytes.size();
        m.bytes_.reserve(bytes);
        std::uint64_t total = 0;
        bool have_byte[256] = {};
        for (const auto& r : raw) {
            if (r.count == 0)
                BYTEPIECE_THROW(model_error(errc::model_bad_count, src + ": key \"" + key_of(r.bytes) + "\": count 0 is not positive"));
            if (r.bytes.empty()) BYTEPIECE_THROW(model_error(errc::model_empty_piece, src + ": id " + std::to_string(r.id) + " has an empty piece"));
            if (total + r.count < total)
                BYTEPIECE_THROW(model_error(errc::model_bad_count, src + ": key \"" + key_of(r.bytes) +
                                                                       "\": the sum of counts overflows 64 bits"));
            total += r.count;
            if (r.bytes.size() == 1) have_byte[static_cast<unsigned char>(r.bytes[0])] = true;
            m.bytes_ += r.bytes;
            m.offsets_.push_back(static_cast<std::uint32_t>(m.bytes_.size()));
            m.counts_.push_back(r.count);
            m.max_len_ = std::max(m.max_len_, r.bytes.size());
        }
        if (m.bytes_.size() > std::numeric_limits<std::uint32_t>::max())
            BYTEPIECE_THROW(model_error(errc::model_too_large, src + ": pieces total more than 4 GiB"));
        // Duplicates first: a repeated key is the more specific diagnosis than a byte that is
        // missing because its slot was taken by the repeat.
        m.check_duplicates(src);
        if (require_all_bytes) {
            for (int b = 0; b < 256; ++b)
                if (!have_byte[b]) {
                    std::string piece(1, static_cast<char>(b));
                    BYTEPIECE_THROW(model_error(errc::model_missing_byte,
                                                src + ": the single-byte piece 0x" + hex2(b) + " (key \"" + key_of(piece) +
                                                    "\") is missing; all 256 bytes must be pieces so every input encodes"));
                }
        }
        m.total_ = total;
        m.rescore();
        return m;
    }

    void check_duplicates(const std::string& src) const {
        std::vector<std::string_view> views;
        views.reserve(piece_count());
        for (std::size_t id = first_piece_id; id < vocab_size(); ++id) views.push_back(piece(static_cast<id_type>(id)));
        std::sort(views.begin(), views.end());
        for (std::size_t i = 1; i < views.size(); ++i)
            if (views[i] == views[i - 1])
                BYTEPIECE_THROW(model_error(errc::model_duplicate_piece,
                                            src + ": key \"" + key_of(views[i]) + "\" appears more than once"));
    }

    // The reference computes np.log(count) - np.log(sum) in float64 with numpy's own log,
    // whose last bit differs from a correctly rounded log for about a quarter of all counts;
    // those bits decide equal-score ties, so the same log (detail::numpy_log) is used here,
    // and only the final difference is narrowed to Score.
    void rescore() {
        scores_.assign(counts_.size(), -std::numeric_limits<score_type>::infinity());
        if (total_ == 0) return;
        const double log_total = detail::numpy_log(static_cast<double>(total_));
        for (std::size_t id = first_piece_id; id < counts_.size(); ++id)
            scores_[id] = static_cast<score_type>(detail::numpy_log(static_cast<double>(counts_[id])) - log_total);
    }

    static std::string key_of(std::string_view bytes) {
        std::string k;
        detail::base64_encode_append(bytes.substr(0, 48), k);
        if (bytes.size() > 48) k += "...";
        return k;
    }
    static std::string hex2(int b) {
        static const char hex[] = "0123456789ABCDEF";
        return {hex[b >> 4], hex[b & 15]};
    }

    std::string bytes_;                   // all pieces, back to back, in id order
    std::vector<std::uint32_t> offsets_;  // piece id occupies bytes_[offsets_[id], offsets_[id+1])
    std::vector<std::uint64_t> counts_;   // by id
    std::vector<score_type> scores_;      // by id
    std::uint64_t total_ = 0;
    std::size_t max_len_ = 0;
};

// The members that load, build and save a model are defined out of the class, so that they are
// not inline: with BYTEPIECE_COMPILED, the extern template below then keeps every translation
// unit from compiling them (and all they call) again; src/bytepiece.cpp compiles them once.

template <class Score, class Id>
basic_model<Score, Id> basic_model<Score, Id>::from_counts(std::vector<std::pair<std::string, std::uint64_t>> pieces,
                                                           bool require_all_bytes) {
    std::sort(pieces.begin(), pieces.end(), [](const auto& a, const auto& b) {
        if (a.first.size() != b.first.size()) return a.first.size() < b.first.size();
        return a.first < b.first;
    });
    std::vector<detail::raw_piece> raw;
    raw.reserve(pieces.size());
    for (std::size_t i = 0; i < pieces.size(); ++i)
        raw.push_back({std::move(pieces[i].first), first_piece_id + i, pieces[i].second});
    return from_raw(std::move(raw), "<counts>", require_all_bytes);
}

template <class Score, class Id>
basic_model<Score, Id> basic_model<Score, Id>::load(const std::string& path) {
    return detail::binary_model_access::load_file<basic_model>(path).first;
}

template <class Score, class Id>
basic_model<Score, Id> basic_model<Score, Id>::from_json(std::string_view json, std::string_view source) {
    return from_raw(detail::parse_model_json(json, source), source, true);
}

template <class Score, class Id>
std::string basic_model<Score, Id>::to_json() const {
    std::string out;
    out.reserve(piece_count() * 48 + 2);
    out += '{';
    std::string text;
    for (std::size_t id = first_piece_id; id < vocab_size(); ++id) {
        const std::string_view p = piece(static_cast<id_type>(id));
        out += id == first_piece_id ? "\n    \"" : ",\n    \"";
        detail::base64_encode_append(p, out);
        out += "\": [\n        ";
        out += std::to_string(id);
        out += ",\n        ";
        text.clear();
        detail::utf8::append_valid(p, text);
        detail::append_json_string(text, out);
        out += ",\n        ";
        out += std::to_string(counts_[id]);
        out += "\n    ]";
    }
    out += piece_count() ? "\n}" : "}";
    return out;
}

template <class Score, class Id>
void basic_model<Score, Id>::save(const std::string& path) const {
    detail::write_file_atomic(path, to_json());
}

/// The model with double scores and 32-bit ids: what almost everyone wants.
using model = basic_model<>;

#ifdef BYTEPIECE_COMPILED
// Compiled once in src/bytepiece.cpp (see there).
extern template class basic_model<double, std::uint32_t>;
#endif

BYTEPIECE_NAMESPACE_END
