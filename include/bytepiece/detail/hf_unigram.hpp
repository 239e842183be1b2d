// SPDX-License-Identifier: Apache-2.0
//
// The `Unigram` model of a Hugging Face tokenizer.json, with exactly the ids of HF tokenizers
// 0.23 (models/unigram/model.rs), on the shared segmentation core: the piece automaton and the
// Viterbi pass with f64 records and an unknown candidate (detail/viterbi.hpp), many pre-tokens
// per automaton scan (detail/text_windows.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "bytepiece/detail/hf_json.hpp"
#include "bytepiece/detail/piece_automaton.hpp"
#include "bytepiece/detail/text_windows.hpp"
#include "bytepiece/detail/viterbi.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/trie.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// HF's Unigram model: every vocab entry (specials, `<unk>`, `<0xXX>` alike) can be matched
/// from text; scores and sums in f64; an unknown character scores the lowest score of the
/// vocab minus 10; runs of unknowns are fused, then looked up again (byte fallback).
///
/// Example: `detail::hf_unigram<std::uint32_t> m(root.at("model"));`
template <class Id>
class hf_unigram {
    static_assert(std::is_integral_v<Id> && std::is_unsigned_v<Id>, "Id must be an unsigned integer type");

public:
    using id_type = Id;

    /// Reads the "model" object of a tokenizer.json (`model` is its cursor). Throws
    /// `model_error`: `model_not_unigram` for BPE, WordPiece and WordLevel, `model_hf_invalid`
    /// for what HF refuses (unk_id outside the vocab), `model_hf_malformed` for a wrong shape.
    ///
    /// Example: `detail::hf_unigram<std::uint32_t> m(root.at("model"));`
    explicit hf_unigram(const hf_json::cursor& model);

    /// Segments pre-tokens: `text` holds them back to back, ends[0, count) their end offsets
    /// (non-decreasing, the last text.size()). Calls f(token, id) for each output token in
    /// order, as HF's `Unigram::tokenize` gives them: unknown runs fused, then byte fallback.
    /// `token` is valid during the call. Thread-safe. Throws `argument_error`
    /// (`encode_no_unknown`) if a pre-token needs the unknown token and unk_id is null.
    ///
    /// Example: `m.encode(text, ends.data(), ends.size(), [&](std::string_view, std::uint32_t id) { ids.push_back(id); });`
    template <class F>
    void encode(std::string_view text, const std::uint32_t* ends, std::size_t count, F&& f) const;

    /// Number of vocab entries (ids 0 .. vocab_size() - 1).
    ///
    /// Example: `m.vocab_size()` is 30000 for ALBERT.
    std::size_t vocab_size() const noexcept { return offsets_.size() - 1; }

    /// The model's id of `token` (of a string listed twice, the later id), or nothing.
    ///
    /// Example: `m.token_to_id("<unk>")` is 1 for ALBERT.
    std::optional<id_type> token_to_id(std::string_view token) const noexcept {
        if (token.empty()) return empty_id_;
        const std::int32_t v = trie_.find(token);
        if (v < 0 || static_cast<std::size_t>(v) >= vocab_size()) return std::nullopt;
        return static_cast<id_type>(v);
    }

    /// The vocab string of `id`. Throws `decode_error` if id >= vocab_size().
    ///
    /// Example: `m.id_to_token(1)` is "<unk>" for ALBERT.
    std::string_view id_to_token(id_type id) const {
        if (id >= vocab_size())
            BYTEPIECE_THROW(decode_error(errc::decode_bad_id, "id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                                                  std::to_string(vocab_size()) + ")"));
        return token(id);
    }

    /// The unknown token's id, if the model has one.
    ///
    /// Example: `m.unk_id().value_or(0)`
    std::optional<id_type> unk_id() const noexcept { return unk_id_; }

    /// Whether unknown runs become `<0xXX>` tokens.
    ///
    /// Example: `if (m.byte_fallback()) ...`
    bool byte_fallback() const noexcept { return byte_fallback_; }

private:
    using automaton_type = piece_automaton<double, double>;
    using info_type = automaton_type::piece_info;
    using rules = exact_records_with_unknown<double>;

    struct workspace {
        std::vector<std::uint32_t> bounds;
        window_workspace<double> window;
    };

    // Scores beyond this could make f64 sums over a text overflow to infinity, where HF's
    // first-come rule and this pass's would part.
    static constexpr double score_limit = 1e290;
    static constexpr std::uint32_t no_byte = std::numeric_limits<std::uint32_t>::max();

    std::string_view token(std::size_t id) const noexcept {
        return std::string_view(blob_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
    }

    template <class F>
    void emit_text(std::string_view window, const std::uint32_t* bounds, std::size_t c, workspace& ws, F& f) const;

    std::string blob_;                  // the vocab strings back to back
    std::vector<std::size_t> offsets_;  // where each id's string starts, then the end
    double_array_trie trie_;            // every non-empty string -> its (last) id; absent single bytes -> vocab
    automaton_type automaton_;
    character_pieces chars_;
    std::array<std::uint32_t, 256> byte_ids_{};  // the id of "<0xXX>", or no_byte
    std::optional<id_type> unk_id_;
    std::optional<id_type> empty_id_;  // the id of "", which no text matches
    bool byte_fallback_ = false;
};

template <class Id>
hf_unigram<Id>::hf_unigram(const hf_json::cursor& model) {
    if (!model.is_object()) model.malformed("should be an object, not " + model.type_name());
    // HF reads a model without "type" as the first kind whose fields fit; only Unigram has an
    // array for its vocab.
    if (model.has("type")) {
        const std::string_view type = model.at("type").string();
        if (type == "BPE" || type == "WordPiece" || type == "WordLevel")
            model.at("type").fail(errc::model_not_unigram, "is " + std::string(type) + ": only Unigram models are supported");
        if (type != "Unigram")
            model.at("type").malformed("is \"" + std::string(type) + "\", not one of BPE, WordPiece, WordLevel, Unigram");
    } else if (model.has("vocab") && !model.at("vocab").is_array()) {
        model.fail(errc::model_not_unigram, "is not a Unigram model (its vocab is not a list of pairs)");
    }
    // Other keys are ignored, as HF's Unigram reader ignores them.
    const hf_json::cursor vocab = model.at("vocab");
    const std::size_t n = vocab.size();
    if (n + 5 >= (std::size_t{1} << 27) || (n > 0 && n - 1 > std::size_t{std::numeric_limits<id_type>::max()}))
        vocab.fail(errc::model_too_large, std::to_string(n) + " entries are more than this tokenizer can number");

    std::vector<double> scores(n);
    offsets_.assign(1, 0);
    offsets_.reserve(n + 1);
    double min_score = std::numeric_limits<double>::infinity();
    for (std::size_t id = 0; id < n; ++id) {
        const hf_json::cursor entry = vocab[id];
        if (entry.size() != 2) entry.malformed("should be a [token, score] pair");
        blob_ += entry[0].string();
        offsets_.push_back(blob_.size());
        const double score = entry[1].number();
        if (!(std::abs(score) <= score_limit))
            entry[1].unsupported("is beyond ±1e290, where sums of scores could overflow");
        scores[id] = score;
        min_score = std::min(min_score, score);
    }

    if (model.find("unk_id")) {
        const hf_json::cursor u = model.at("unk_id");
        const std::uint64_t v = u.unsigned_integer();
        if (n == 0) u.invalid("is set but the vocab is empty");
        if (v >= n) u.invalid("is " + std::to_string(v) + ", outside the vocab of " + std::to_string(n) + " entries");
        unk_id_ = static_cast<id_type>(v);
    }
    if (model.has("byte_fallback")) byte_fallback_ = model.at("byte_fallback").boolean();

    // The trie: every non-empty string, a string listed twice under its later id (HF's map
    // keeps the last insert, and a match is looked up by its string). Every single byte no
    // string covers becomes the key of a piece scoring -inf (id n), so that the automaton's
    // root has every byte as a child; the unknown candidates of 1-4 bytes are ids n+1..n+4.
    std::vector<std::pair<std::string_view, std::int32_t>> keys;
    keys.reserve(n + 256);
    for (std::size_t id = 0; id < n; ++id) {
        const std::string_view t = token(id);
        if (t.empty())
            empty_id_ = static_cast<id_type>(id);
        else
            keys.emplace_back(t, static_cast<std::int32_t>(id));
    }
    std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::size_t kept = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (kept > 0 && keys[kept - 1].first == keys[i].first)
            keys[kept - 1] = keys[i];  // ids ascend within equal strings: the last is the later
        else
            keys[kept++] = keys[i];
    }
    keys.resize(kept);
    std::array<bool, 256> single{};
    for (const auto& k : keys)
        if (k.first.size() == 1) single[static_cast<unsigned char>(k.first[0])] = true;
    static const std::array<char, 256> all_bytes = [] {
        std::array<char, 256> a{};
        for (int b = 0; b < 256; ++b) a[static_cast<std::size_t>(b)] = static_cast<char>(b);
        return a;
    }();
    for (std::size_t b = 0; b < 256; ++b)
        if (!single[b]) keys.emplace_back(std::string_view(&all_bytes[b], 1), static_cast<std::int32_t>(n));
    for (std::size_t b = 0; b < 128; ++b) chars_.ascii_piece[b] = single[b];
    chars_.vocab = n;
    trie_ = double_array_trie::build(std::move(keys));

    // An empty vocab has no lowest score; its unknown score is never summed (any text fails
    // for want of unk_id, which an empty vocab cannot have).
    const double unknown_score = n == 0 ? 0.0 : min_score - 10.0;
    automaton_ = automaton_type(
        trie_, n + 5,
        [&](std::size_t id) -> double {
            if (id < n) return scores[id];
            if (id == n) return -std::numeric_limits<double>::infinity();
            return unknown_score;
        },
        [&](std::size_t id) -> std::uint64_t { return id < n ? offsets_[id + 1] - offsets_[id] : id == n ? 1 : id - n; });
    for (std::uint32_t len = 1; len <= 4; ++len)
        chars_.unknown_entry[len] = static_cast<std::uint32_t>(n + len) << automaton_type::entry_shift;
    chars_.pad_entry = automaton_.padding() << automaton_type::entry_shift;

    static constexpr char hex[] = "0123456789ABCDEF";
    for (std::size_t b = 0; b < 256; ++b) {
        const char name[] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
        const std::optional<id_type> id = token_to_id(std::string_view(name, sizeof name));
        byte_ids_[b] = id ? static_cast<std::uint32_t>(*id) : no_byte;
    }
}

template <class Id>
template <class F>
void hf_unigram<Id>::encode(std::string_view text, const std::uint32_t* ends, std::size_t count, F&& f) const {
    workspace_lease<workspace> lease;
    workspace& ws = lease.get();
    // Windows of consecutive pre-tokens, scanned at once; empty pre-tokens give nothing.
    std::size_t start = 0;  // of the window
    std::size_t i = 0;
    while (i < count) {
        ws.bounds.assign(1, 0);
        std::size_t end = start;
        for (; i < count; ++i) {
            const std::size_t e = ends[i];
            if (e < end || e > text.size())
                BYTEPIECE_THROW(argument_error(errc::invalid_argument,
                                               "hf_unigram::encode: pre-token ends that decrease or pass the text's end"));
            if (e == end) continue;
            if (e - end >= text_window_limit)
                BYTEPIECE_THROW(argument_error(errc::invalid_argument, "hf_unigram::encode: a pre-token of 2 GiB or more"));
            if (ws.bounds.size() > 1 && e - start > text_window_bytes) break;
            ws.bounds.push_back(static_cast<std::uint32_t>(e - start));
            end = e;
        }
        if (ws.bounds.size() == 1) break;  // only empty pre-tokens were left
        const std::string_view window = text.substr(start, end - start);
        segment_window<rules>(automaton_, trie_, chars_, window, ws.bounds.data(), ws.bounds.size() - 1, ws.window,
                              [&](std::size_t c) { emit_text(window, ws.bounds.data(), c, ws, f); });
        start = end;
    }
}

template <class Id>
template <class F>
void hf_unigram<Id>::emit_text(std::string_view window, const std::uint32_t* bounds, std::size_t c, workspace& ws,
                               F& f) const {
    // HF fails the encode when an unknown candidate is taken anywhere in the pass, even one
    // that the best path does not keep.
    if (!unk_id_ && took_unknown(ws.window, chars_, bounds, c))
        BYTEPIECE_THROW(argument_error(errc::encode_no_unknown,
                                       "tokenizer.json: the text has a character the Unigram vocab does not cover, "
                                       "and its unk_id is null"));
    const info_type* info = automaton_.info();
    const std::size_t n = vocab_size();
    const std::size_t unk = unk_id_ ? static_cast<std::size_t>(*unk_id_) : n;  // n: no piece is it
    const std::vector<std::uint32_t>& path = ws.window.path;
    std::size_t pos = bounds[c];
    std::size_t run_start = 0, run_length = 0;  // consecutive unk_id nodes, fused
    const auto flush_run = [&] {
        if (run_length == 0) return;
        const std::string_view run = window.substr(run_start, run_length);
        run_length = 0;
        if (const std::optional<id_type> id = token_to_id(run)) {
            f(run, *id);
            return;
        }
        if (byte_fallback_) {
            bool all = true;
            for (const char ch : run) all = all && byte_ids_[static_cast<unsigned char>(ch)] != no_byte;
            if (all) {
                for (const char ch : run) {
                    const std::uint32_t id = byte_ids_[static_cast<unsigned char>(ch)];
                    f(token(id), static_cast<id_type>(id));
                }
                return;
            }
        }
        f(run, *unk_id_);
    };
    for (std::size_t k = path.size(); k-- > 0;) {
        const std::uint32_t id = automaton_type::id_of(path[k]);
        const std::size_t len = automaton_type::entry(info, path[k]).length();
        if (id < n && id != unk) {
            flush_run();
            f(window.substr(pos, len), static_cast<id_type>(id));
        } else {
            // An unknown character, or the unknown token's own string matched from the vocab.
            if (run_length == 0) run_start = pos;
            run_length += len;
        }
        pos += len;
    }
    flush_run();
}

}  // namespace detail
BYTEPIECE_NAMESPACE_END
