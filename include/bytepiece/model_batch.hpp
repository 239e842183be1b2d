// SPDX-License-Identifier: Apache-2.0
//
// Batches ready for a model: the ids of many texts truncated and padded into rows of one
// length, with an attention mask, in two flat row-major arrays; and `decode_batch` back.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "bytepiece/batch.hpp"
#include "bytepiece/detail/default_init_allocator.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/special_tokens.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// Which end of a row an operation works on.
enum class row_side {
    left,   ///< the start of the sequence
    right,  ///< the end of the sequence
};

/// How `encode_for_model` shapes the rows.
struct model_batch_options {
    /// Keep at most this many ids per text (0: no limit), dropping them at `truncation_side`.
    std::size_t max_length = 0;
    /// `right` drops the last ids (keeps the start), `left` the first ones (keeps the end).
    row_side truncation_side = row_side::right;
    /// The length of every row: 0 pads to the longest row of the batch; otherwise exactly this
    /// many (a row longer than that after truncation throws: set `max_length` too).
    std::size_t pad_to = 0;
    /// Also round the row length up to a multiple of this (1: no rounding), as tensor cores like.
    std::size_t pad_to_multiple_of = 1;
    /// Where the padding goes: `right` after the ids, `left` before them (for generation).
    row_side padding_side = row_side::right;
    /// The id padding positions hold (their mask is 0).
    std::uint32_t pad_id = 0;
};

/// The storage of a model batch's cells: a `std::vector` (same interface) whose `resize` does
/// not zero the new elements, since every cell is written once by its row.
///
/// Example: `bytepiece::cell_vector<std::uint32_t> v; v.resize(n);  // n ids, not yet written`
template <class T>
using cell_vector = std::vector<T, detail::default_init_allocator<T>>;

/// A batch for a model: `rows` rows of `width` ids each, row-major in `ids`, with
/// `attention_mask` alongside (1 for an id of the text, 0 for padding). Row i holds
/// `lengths[i]` ids of text i; `full_lengths[i]` is how many it had before truncation.
///
/// Example: `const std::uint32_t* r = b.row(2); for (std::size_t j = 0; j < b.width; ++j) use(r[j], b.mask_row(2)[j]);`
template <class Id = std::uint32_t>
struct basic_model_batch {
    std::size_t rows = 0;
    std::size_t width = 0;
    cell_vector<Id> ids;                        ///< rows * width ids, row-major
    cell_vector<std::uint8_t> attention_mask;   ///< rows * width, 1 where `ids` holds a token
    std::vector<std::size_t> lengths;           ///< tokens per row after truncation
    std::vector<std::size_t> full_lengths;      ///< tokens per text before truncation

    /// The ids of row `i` (`width` of them).
    ///
    /// Example: `std::vector<std::uint32_t> r(b.row(0), b.row(0) + b.width);`
    const Id* row(std::size_t i) const noexcept { return ids.data() + i * width; }

    /// The mask of row `i` (`width` bytes).
    ///
    /// Example: `std::size_t real = std::count(b.mask_row(0), b.mask_row(0) + b.width, 1);`
    const std::uint8_t* mask_row(std::size_t i) const noexcept { return attention_mask.data() + i * width; }

    /// The first position of row `i` that holds a token (nonzero under left padding).
    ///
    /// Example: `const std::uint32_t* first = b.row(i) + b.token_begin(i);`
    std::size_t token_begin(std::size_t i) const noexcept { return left_padded ? width - lengths[i] : 0; }

    bool left_padded = false;  ///< whether padding is on the left
};

/// The model batch of 32-bit ids.
using model_batch = basic_model_batch<std::uint32_t>;

namespace detail::batch {

template <class T>
struct is_bytepiece_tokenizer : std::false_type {};
template <class Score, class Id>
struct is_bytepiece_tokenizer<basic_tokenizer<Score, Id>> : std::true_type {};

// The ids of each text with any tokenizer, as parts to gather: BytePiece tokenizers share the
// work by bytes (a long text cut at chunk boundaries); the others group whole texts into about
// `pool.size() * tasks_per_thread` tasks of equal bytes, each encoded with the tokenizer's
// `encode_texts`, which scans many texts at once.
template <class Tokenizer, class Id>
batch_parts<Id> encode_any(const Tokenizer& tok, const std::string_view* texts, std::size_t count, thread_pool& pool,
                           const batch_options& options) {
    if constexpr (is_bytepiece_tokenizer<Tokenizer>::value) {
        return encode_parts(tok, texts, count, pool, options);
    } else {
        std::size_t total = 0;
        for (std::size_t t = 0; t < count; ++t) total += texts[t].size();
        const std::size_t tasks_wanted = pool.size() * std::max<std::size_t>(1, options.tasks_per_thread);
        const std::size_t target = std::max<std::size_t>({1, options.min_task_bytes, (total + tasks_wanted - 1) / tasks_wanted});
        batch_parts<Id> parts;
        parts.texts = count;
        parts.task_starts.push_back(0);
        for (std::size_t t = 0, filled = 0; t < count; ++t) {
            filled += texts[t].size();
            if (filled >= target && t + 1 < count) {
                parts.task_starts.push_back(t + 1);
                filled = 0;
            }
        }
        parts.task_starts.push_back(count);
        parts.text.resize(count);
        for (std::size_t t = 0; t < count; ++t) parts.text[t] = t;
        parts.size.assign(count, 0);
        const std::size_t tasks = parts.task_starts.size() - 1;
        parts.ids.resize(tasks);
        pool.parallel_for(tasks, [&](std::size_t k) {
            const std::size_t first = parts.task_starts[k];
            std::vector<Id>& out = parts.ids[k];
            tok.encode_texts(texts + first, parts.task_starts[k + 1] - first, [&](std::size_t i, const Id* ids, std::size_t n) {
                out.insert(out.end(), ids, ids + n);
                parts.size[first + i] = n;
            });
        });
        return parts;
    }
}

// Sets `lengths` and `width` from `full_lengths` and sizes `ids` and `attention_mask`.
template <class Id>
void shape(basic_model_batch<Id>& b, const model_batch_options& options) {
    if (options.pad_to_multiple_of == 0)
        BYTEPIECE_THROW(argument_error(errc::batch_bad_option, "model_batch_options.pad_to_multiple_of: must be at least 1"));
    b.left_padded = options.padding_side == row_side::left;
    b.lengths.resize(b.rows);
    std::size_t longest = 0;
    for (std::size_t i = 0; i < b.rows; ++i) {
        const std::size_t n = b.full_lengths[i];
        b.lengths[i] = options.max_length ? std::min(n, options.max_length) : n;
        longest = std::max(longest, b.lengths[i]);
    }
    std::size_t width = longest;
    if (options.pad_to) {
        if (longest > options.pad_to)
            BYTEPIECE_THROW(argument_error(errc::batch_bad_option,
                                           "model_batch_options.pad_to: " + std::to_string(options.pad_to) +
                                               " is shorter than a row of " + std::to_string(longest) +
                                               " ids (set max_length to truncate)"));
        width = options.pad_to;
    }
    b.width = (width + options.pad_to_multiple_of - 1) / options.pad_to_multiple_of * options.pad_to_multiple_of;
    b.ids.resize(b.rows * b.width);
    b.attention_mask.resize(b.rows * b.width);
}

// Writes row i's mask and its padding ids: everything of the row but the ids of the text.
template <class Id>
void pad_row(basic_model_batch<Id>& b, std::size_t i, Id pad) {
    const std::size_t width = b.width, n = b.lengths[i], at = b.token_begin(i);
    Id* dst = b.ids.data() + i * width;
    std::uint8_t* mask = b.attention_mask.data() + i * width;
    std::fill(dst, dst + at, pad);
    std::fill(dst + at + n, dst + width, pad);
    std::fill(mask, mask + at, std::uint8_t{0});
    std::fill(mask + at, mask + at + n, std::uint8_t{1});
    std::fill(mask + at + n, mask + width, std::uint8_t{0});
}

// Copies `m` ids, which stand at [pos, pos + m) in text i's whole sequence, to where row i keeps
// them: truncation keeps the window [skip, skip + lengths[i]) of that sequence.
template <class Id>
void place(basic_model_batch<Id>& b, std::size_t i, std::size_t pos, const Id* ids, std::size_t m, row_side truncation) {
    const std::size_t n = b.lengths[i];
    const std::size_t skip = truncation == row_side::left ? b.full_lengths[i] - n : 0;
    const std::size_t from = std::max(pos, skip), to = std::min(pos + m, skip + n);
    if (from >= to) return;
    std::copy(ids + (from - pos), ids + (to - pos), b.ids.data() + i * b.width + b.token_begin(i) + (from - skip));
}

// Lays parts out as a model batch, each task's ids copied once, straight into their rows.
template <class Id>
basic_model_batch<Id> to_model_batch(batch_parts<Id>&& parts, thread_pool& pool, const model_batch_options& options) {
    basic_model_batch<Id> b;
    b.rows = parts.texts;
    b.full_lengths.assign(b.rows, 0);
    const std::size_t segments = parts.size.size();
    std::vector<std::size_t> pos(segments);  // where each segment starts in its text's sequence
    for (std::size_t s = 0; s < segments; ++s) {
        std::size_t& full = b.full_lengths[parts.text[s]];
        pos[s] = full;
        full += parts.size[s];
    }
    shape(b, options);
    const Id pad = static_cast<Id>(options.pad_id);
    pool.parallel_for(parts.ids.size(), [&](std::size_t k) {
        const Id* src = parts.ids[k].data();
        for (std::size_t s = parts.task_starts[k]; s < parts.task_starts[k + 1]; ++s) {
            const std::size_t row = parts.text[s];
            if (pos[s] == 0) pad_row(b, row, pad);  // the text's first segment owns the padding
            place(b, row, pos[s], src, parts.size[s], options.truncation_side);
            src += parts.size[s];
        }
        std::vector<Id>().swap(parts.ids[k]);
    });
    return b;
}

}  // namespace detail::batch

/// Lays out `flat` (the ids of many texts) as a model batch: truncated, padded and masked as
/// `options` say. Rows are filled on `pool`. Throws `argument_error` (`errc::batch_bad_option`)
/// if `pad_to` is below a row's length after truncation or `pad_to_multiple_of` is 0.
///
/// Example: `auto b = bytepiece::to_model_batch(bytepiece::encode_batch(tok, lines, pool), pool, opts);`
template <class Id>
basic_model_batch<Id> to_model_batch(const basic_batch_result<Id>& flat, thread_pool& pool,
                                     const model_batch_options& options = {}) {
    basic_model_batch<Id> b;
    b.rows = flat.size();
    b.full_lengths.resize(b.rows);
    for (std::size_t i = 0; i < b.rows; ++i) b.full_lengths[i] = flat.offsets[i + 1] - flat.offsets[i];
    detail::batch::shape(b, options);
    const Id pad = static_cast<Id>(options.pad_id);
    // Tasks of about 16k cells, so that many short rows do not become many tiny tasks.
    const std::size_t rows_per_task = std::max<std::size_t>(1, (std::size_t{1} << 14) / std::max<std::size_t>(1, b.width));
    const std::size_t tasks = (b.rows + rows_per_task - 1) / rows_per_task;
    pool.parallel_for(tasks, [&](std::size_t k) {
        const std::size_t last = std::min(b.rows, (k + 1) * rows_per_task);
        for (std::size_t i = k * rows_per_task; i < last; ++i) {
            detail::batch::pad_row(b, i, pad);
            detail::batch::place(b, i, 0, flat.begin(i), b.full_lengths[i], options.truncation_side);
        }
    });
    return b;
}

/// Encodes every text of `texts` with `tok` (a BytePiece, SentencePiece or HF tokenizer) on
/// `pool`, as `encode_batch` does (row i's ids are `tok.encode(texts[i])` before
/// truncation), and lays the ids out for a model: see `model_batch_options`.
///
/// Example: `bytepiece::model_batch_options o; o.max_length = 512; auto b = bytepiece::encode_for_model(tok, lines, pool, o);`
template <class Tokenizer, class Range>
basic_model_batch<typename Tokenizer::id_type> encode_for_model(const Tokenizer& tok, const Range& texts, thread_pool& pool,
                                                                const model_batch_options& options = {},
                                                                const batch_options& tasks = {}) {
    const std::vector<std::string_view> v = detail::batch::views(texts);
    return detail::batch::to_model_batch(
        detail::batch::encode_any<Tokenizer, typename Tokenizer::id_type>(tok, v.data(), v.size(), pool, tasks), pool, options);
}

/// `encode_for_model` on a pool of `threads` made for this call (0: one per hardware thread).
///
/// Example: `auto b = bytepiece::encode_for_model(tok, lines, 2, opts);`
template <class Tokenizer, class Range>
basic_model_batch<typename Tokenizer::id_type> encode_for_model(const Tokenizer& tok, const Range& texts, std::size_t threads,
                                                                const model_batch_options& options = {},
                                                                const batch_options& tasks = {}) {
    thread_pool pool(threads);
    return encode_for_model(tok, texts, pool, options, tasks);
}

/// The text of each row of `b` (its ids where the mask is 1) with `tok`, on `pool`; row i
/// gives `tok.decode` of its ids. Throws what `decode` throws (the lowest row's error).
///
/// Example: `std::vector<std::string> texts = bytepiece::decode_batch(tok, b, pool);`
template <class Tokenizer, class Id>
std::vector<std::string> decode_batch(const Tokenizer& tok, const basic_model_batch<Id>& b, thread_pool& pool) {
    std::vector<std::string> out(b.rows);
    pool.parallel_for(b.rows, [&](std::size_t i) {
        out[i] = detail::decode_ordinary(tok, b.row(i) + b.token_begin(i), b.lengths[i], true);
    });
    return out;
}

/// The text of each text of `r` with `tok`, on `pool`.
///
/// Example: `auto texts = bytepiece::decode_batch(tok, bytepiece::encode_batch(tok, lines, pool), pool);`
template <class Tokenizer, class Id>
std::vector<std::string> decode_batch(const Tokenizer& tok, const basic_batch_result<Id>& r, thread_pool& pool) {
    std::vector<std::string> out(r.size());
    pool.parallel_for(r.size(), [&](std::size_t i) {
        out[i] = detail::decode_ordinary(tok, r.begin(i), static_cast<std::size_t>(r.end(i) - r.begin(i)), true);
    });
    return out;
}

BYTEPIECE_NAMESPACE_END
