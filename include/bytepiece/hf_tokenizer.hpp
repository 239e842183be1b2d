// SPDX-License-Identifier: Apache-2.0
//
// Hugging Face `tokenizer.json` files with a Unigram model, with exactly the ids of HF
// tokenizers 0.23: added tokens, normalizer, pre-tokenizer, Unigram model, post-processor,
// and the decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "bytepiece/detail/file.hpp"
#include "bytepiece/detail/hf_added_tokens.hpp"
#include "bytepiece/detail/hf_decoders.hpp"
#include "bytepiece/detail/hf_json.hpp"
#include "bytepiece/detail/hf_normalizers.hpp"
#include "bytepiece/detail/hf_post_processors.hpp"
#include "bytepiece/detail/hf_pre_tokenizers.hpp"
#include "bytepiece/detail/hf_unigram.hpp"
#include "bytepiece/detail/text_windows.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/offsets.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// A tokenizer for Hugging Face `tokenizer.json` files whose model is Unigram, giving exactly
/// the ids, tokens and decoded text of HF tokenizers 0.23 (`encode(text, add_special_tokens)`,
/// `decode(ids, skip_special_tokens)`).
///
/// The text is split on the added tokens, normalized, split again on the normalized added
/// tokens, pre-tokenized and segmented by the Unigram model; special tokens are added by the
/// post-processor only when asked for. A component or option this library does not implement
/// is refused when loading (`model_error` `model_hf_unsupported`), never approximated. All
/// const members may be called from many threads.
///
/// Example:
/// ```
/// auto tok = bytepiece::hf_tokenizer::load("tokenizer.json");
/// std::vector<std::uint32_t> ids = tok.encode("Hello world!", true);
/// ```
template <class Id = std::uint32_t>
class basic_hf_tokenizer {
    static_assert(std::is_integral_v<Id> && std::is_unsigned_v<Id>, "Id must be an unsigned integer type");

public:
    using id_type = Id;

    /// Loads a tokenizer.json. Throws `io_error`, or `model_error` naming the file and the key
    /// path at fault: `model_hf_malformed` (not JSON, a key of the wrong shape),
    /// `model_hf_unsupported` (a component or option not implemented, truncation or padding),
    /// `model_hf_invalid` (what HF refuses), `model_not_unigram` (BPE, WordPiece, WordLevel).
    ///
    /// Example: `auto tok = bytepiece::hf_tokenizer::load("tokenizer.json");`
    static basic_hf_tokenizer load(const std::string& path) { return from_json(detail::read_file(path), path); }

    /// Reads a tokenizer.json held in memory; `source` names it in errors.
    ///
    /// Example: `auto tok = bytepiece::hf_tokenizer::from_json(text, "tok.json");`
    static basic_hf_tokenizer from_json(std::string_view json, std::string source = "<memory>") {
        return basic_hf_tokenizer(json, std::move(source));
    }

    /// The ids of `text` (valid UTF-8), as HF's `encode(text, add_special_tokens)`. Throws
    /// `argument_error`: `invalid_argument` for text that is not valid UTF-8,
    /// `encode_no_unknown` when the text needs the unknown token and the model has none.
    ///
    /// Example: `auto ids = tok.encode("Hello world!");`
    std::vector<id_type> encode(std::string_view text, bool add_special_tokens = false) const {
        std::vector<id_type> ids;
        encode(text, ids, add_special_tokens);
        return ids;
    }

    /// Appends the ids of `text` to `out`, so that one vector can be reused across calls.
    ///
    /// Example: `ids.clear(); tok.encode(line, ids, true);`
    void encode(std::string_view text, std::vector<id_type>& out, bool add_special_tokens = false) const {
        encode_texts(&text, 1,
                     [&](std::size_t, const id_type* ids, std::size_t n) { out.insert(out.end(), ids, ids + n); },
                     add_special_tokens);
    }

    /// Encodes each of `count` texts as `encode` does and calls `f(index, ids, size)` with
    /// text `index`'s ids, in index order; `ids` is valid during the call only, and `f` may
    /// call this tokenizer's other members. Many short texts are segmented at once, which is
    /// much faster than one `encode` call each. If a text throws, no later text is reported.
    ///
    /// Example: `tok.encode_texts(lines.data(), lines.size(), [&](std::size_t i, const std::uint32_t* ids, std::size_t n) { ... });`
    template <class F>
    void encode_texts(const std::string_view* texts, std::size_t count, F&& f, bool add_special_tokens = false) const {
        lease l;
        workspace& ws = l.get();
        ws.clear();
        std::size_t first = 0;  // the first text of the batch
        for (std::size_t i = 0; i < count; ++i) {
            prepare(texts[i], ws, nullptr);
            ws.text_ends.push_back(ws.items.size());
            if (ws.pre.size() >= batch_bytes || i + 1 == count) {
                run_batch(ws, first, f, add_special_tokens);
                first = i + 1;
            }
        }
    }

    /// The tokens of `text` as HF's `encode(text, add_special_tokens).tokens` gives them: model
    /// pieces (a fused run of unknown characters is one token, byte fallback gives `<0xXX>`),
    /// each added token as the text it matched, the post-processor's tokens for its ids.
    ///
    /// Example: `tok.tokenize("Hello")` gives `{"▁Hello"}` with ALBERT.
    std::vector<std::string> tokenize(std::string_view text, bool add_special_tokens = false) const {
        lease l;
        workspace& ws = l.get();
        ws.clear();
        std::vector<std::string> added;
        prepare(text, ws, &added);
        std::vector<std::string> model_tokens;
        std::vector<std::size_t> model_ends;
        std::size_t consumed = 0;
        model_.encode(ws.pre, ws.ends.data(), ws.ends.size(), [&](std::string_view token, id_type) {
            consumed = advance(ws.pre, token, consumed);
            model_tokens.emplace_back(token);
            model_ends.push_back(consumed);
        });
        std::vector<std::string> out;
        std::size_t k = 0, a = 0;
        for (const item& it : ws.items) {
            if (it.added) {
                out.push_back(std::move(added[a++]));
                continue;
            }
            for (; k < model_tokens.size() && model_ends[k] <= it.value; ++k) out.push_back(std::move(model_tokens[k]));
        }
        if (post_.is_identity(add_special_tokens)) return out;
        std::vector<std::string> processed;
        const auto& items = post_.items(add_special_tokens);
        for (std::size_t j = 0; j < items.size(); ++j) {
            if (items[j] == detail::hf_post_processor::sequence)
                processed.insert(processed.end(), out.begin(), out.end());
            else
                processed.push_back(post_.tokens()[j]);
        }
        return processed;
    }

    /// The text of `ids`, as HF's `decode(ids, skip_special_tokens)`: each id's token (an added
    /// token's content), special added tokens left out if asked, then the decoder. Throws
    /// `decode_error` for an id outside [0, vocab_size()) (HF drops those silently).
    ///
    /// Example: `std::string text = tok.decode(tok.encode("Hello world!"));`
    std::string decode(const std::vector<id_type>& ids, bool skip_special_tokens = true) const {
        std::vector<std::string> tokens;
        tokens.reserve(ids.size());
        for (const id_type id : ids) {
            if (skip_special_tokens && static_cast<std::size_t>(id) < special_.size() && special_[id]) continue;
            tokens.emplace_back(id_to_token(id));
        }
        return decoder_.decode(std::move(tokens));
    }

    /// One past the highest id: the model's vocab and the added tokens.
    ///
    /// Example: `tok.vocab_size()` is 30000 for ALBERT.
    std::size_t vocab_size() const noexcept { return added_.end_id(); }

    /// The id of `token`: an added token's first, then the model's.
    ///
    /// Example: `tok.token_to_id("[CLS]")`
    std::optional<id_type> token_to_id(std::string_view token) const {
        if (const auto id = added_.token_to_id(token)) return static_cast<id_type>(*id);
        return model_.token_to_id(token);
    }

    /// The token of `id` (an added token's content, or the model's piece). Throws
    /// `decode_error` for an id outside [0, vocab_size()).
    ///
    /// Example: `tok.id_to_token(2)` is "[CLS]" for ALBERT.
    std::string_view id_to_token(id_type id) const {
        if (static_cast<std::uint64_t>(id) <= std::numeric_limits<std::uint32_t>::max())
            if (const std::string* s = added_.id_to_token(static_cast<std::uint32_t>(id))) return *s;
        if (static_cast<std::size_t>(id) >= model_.vocab_size())
            BYTEPIECE_THROW(decode_error(errc::decode_bad_id, "id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                                                  std::to_string(vocab_size()) + ")"));
        return model_.id_to_token(id);
    }

    // --- BEGIN offsets members (offsets.hpp) ---
    /// Encodes `text` as `encode(text, ids, add_special_tokens)` does, appending the ids to
    /// `ids` and, for each, the byte range it covers in `text` itself (before normalization)
    /// to `offsets`. An added token gets exactly the bytes it matched (for one matched after
    /// normalization, the original of those bytes); a piece of a stretch a normalizer step
    /// rewrote, or of a space Metaspace replaced, gets the whole original stretch; a piece of
    /// text left alone gets exactly its bytes (with ByteLevel, the bytes its characters stand
    /// for, so a piece may hold part of a character); a prepended replacement gets the empty
    /// range where it was inserted; text a step deleted belongs to no piece; the
    /// post-processor's tokens get the empty range at the start (before the text) or the end
    /// (after it). With a pre-tokenizer step that may drop text other than white space, each
    /// piece gets the whole normalized segment's original. Throws as `encode`. See offsets.hpp.
    ///
    /// Example: `tok.encode_with_offsets("Hello world", ids, offsets, true);`
    void encode_with_offsets(std::string_view text, std::vector<id_type>& ids, std::vector<byte_range>& offsets,
                             bool add_special_tokens = false) const {
        if (!detail::utf8::is_valid(text))
            BYTEPIECE_THROW(argument_error(errc::invalid_argument, "hf_tokenizer: the text is not valid UTF-8"));
        lease l;
        workspace& ws = l.get();
        ws.clear();
        static thread_local alignment whole, norm, pre;  // original -> pre-tokens, raw segment -> normalized, normalized -> pre-tokens
        static thread_local std::vector<byte_range> added_ranges, model_ranges;
        whole.clear();
        added_ranges.clear();
        model_ranges.clear();
        const auto segment = [&](std::size_t rb, std::size_t re) {
            if (re == rb) return;  // HF drops empty splits before normalizing
            normalizer_.normalize(text.substr(rb, re - rb), ws.normalized, norm);
            const std::string_view t = ws.normalized;
            if (t.empty()) return;
            const auto split = [&](std::size_t b, std::size_t e) {
                const std::size_t from = ws.pre.size(), first = ws.ends.size();
                const std::string_view part = t.substr(b, e - b);
                pre_tokenize(part, rb == 0 && b == 0, ws);
                if (norm.is_identity(t.size())) {  // normalization changed nothing: nothing to compose
                    pre_tokenizer_.align(part, rb + b, ws.pre, from, ws.ends.data() + first, ws.ends.size() - first, whole);
                    return;
                }
                pre.clear();
                pre_tokenizer_.align(part, b, ws.pre, from, ws.ends.data() + first, ws.ends.size() - first, pre);
                whole.append_composed(norm, pre, 0, rb);
            };
            if (!added_.has_normalized()) {
                split(0, t.size());
                return;
            }
            added_.split(t, true, split, [&](const detail::hf_added_vocabulary::match& m) {
                ws.items.push_back(item{m.id, true});
                const byte_range r = norm.original(m.begin, m.end);
                added_ranges.push_back(byte_range{rb + r.begin, rb + r.end});
            });
        };
        if (!added_.has_raw()) {
            segment(0, text.size());
        } else {
            added_.split(text, false, segment, [&](const detail::hf_added_vocabulary::match& m) {
                ws.items.push_back(item{m.id, true});
                added_ranges.push_back(byte_range{m.begin, m.end});
            });
        }
        alignment::mapper map(whole);
        const auto base = reinterpret_cast<std::uintptr_t>(ws.pre.data());
        std::size_t consumed = 0;
        model_.encode(ws.pre, ws.ends.data(), ws.ends.size(), [&](std::string_view token, id_type id) {
            const auto at = reinterpret_cast<std::uintptr_t>(token.data());
            const std::size_t start = at >= base && at < base + ws.pre.size() ? static_cast<std::size_t>(at - base) : consumed;
            consumed = advance(ws.pre, token, consumed);
            ws.out.emplace_back(consumed, id);
            model_ranges.push_back(map(start, consumed));
        });
        const bool plain = post_.is_identity(add_special_tokens);
        std::vector<id_type>& seq = plain ? ids : ws.ids;  // the text's own ids
        ws.ids.clear();
        thread_local std::vector<byte_range> merged;
        merged.clear();
        std::size_t k = 0, a = 0;
        for (const item& it : ws.items) {
            if (it.added) {
                seq.push_back(static_cast<id_type>(it.value));
                merged.push_back(added_ranges[a++]);
                continue;
            }
            for (; k < ws.out.size() && ws.out[k].first <= it.value; ++k) {
                seq.push_back(ws.out[k].second);
                merged.push_back(model_ranges[k]);
            }
        }
        if (plain) {
            offsets.insert(offsets.end(), merged.begin(), merged.end());
        } else {
            bool before = true;
            for (const std::uint64_t v : post_.items(add_special_tokens)) {
                if (v == detail::hf_post_processor::sequence) {
                    ids.insert(ids.end(), ws.ids.begin(), ws.ids.end());
                    offsets.insert(offsets.end(), merged.begin(), merged.end());
                    before = false;
                } else {
                    ids.push_back(static_cast<id_type>(v));
                    offsets.push_back(before ? byte_range{0, 0} : byte_range{text.size(), text.size()});
                }
            }
        }
        ws.clear();
    }

    /// `encode_with_offsets`, returning ids and offsets together.
    ///
    /// Example: `auto e = tok.encode_with_offsets("Hello world", true); // e.ids, e.offsets`
    basic_encoding<id_type> encode_with_offsets(std::string_view text, bool add_special_tokens = false) const {
        basic_encoding<id_type> e;
        encode_with_offsets(text, e.ids, e.offsets, add_special_tokens);
        return e;
    }
    // --- END offsets members ---

private:
    // Token healing runs the pipeline's stages one by one on the prompt's end.
    template <class>
    friend class basic_hf_token_healer;

    // How many bytes of pre-tokens are segmented at once by encode_texts.
    static constexpr std::size_t batch_bytes = std::size_t{1} << 18;

    // What a text is made of, in order: an added token's id, or the model's tokens of the
    // pre-tokens up to `value` (an end offset in the workspace's `pre`).
    struct item {
        std::uint64_t value;
        bool added;
    };

    struct workspace {
        std::string normalized;               // one segment, normalized
        std::string pre;                      // pre-tokens of the batch, back to back
        std::vector<std::uint32_t> ends;      // their end offsets in `pre`
        std::vector<item> items;              // of all texts of the batch
        std::vector<std::size_t> text_ends;   // each text's end in `items`
        std::vector<std::pair<std::size_t, id_type>> out;  // model tokens: (end in `pre`, id)
        std::vector<id_type> ids, with_special;
        void clear() {
            pre.clear();
            ends.clear();
            items.clear();
            text_ends.clear();
            out.clear();
        }
    };
    using lease = detail::workspace_lease<workspace>;

    basic_hf_tokenizer(std::string_view json, std::string source)
        : source_(std::make_unique<std::string>(std::move(source))),
          document_(detail::hf_json::parse(json, *source_)),
          model_(root().at("model")) {
        const detail::hf_json::cursor c = root();
        if (!c.is_object()) c.malformed("should be an object, not " + c.type_name());
        if (c.has("version") && c.at("version").string() != "1.0")
            c.at("version").invalid("is \"" + std::string(c.at("version").string()) + "\", not \"1.0\"");
        for (const char* key : {"truncation", "padding"})
            if (c.find(key)) c.at(key).unsupported("is set; only null is supported (it changes the ids)");
        if (c.has("normalizer")) normalizer_ = detail::hf_normalizer(c.at("normalizer"));
        if (c.has("pre_tokenizer")) pre_tokenizer_ = detail::hf_pre_tokenizer(c.at("pre_tokenizer"));
        if (c.has("post_processor")) post_ = detail::hf_post_processor(c.at("post_processor"));
        if (c.has("decoder")) decoder_ = detail::hf_decoder(c.at("decoder"));
        const std::size_t n = model_.vocab_size();
        const auto model_id = [&](std::string_view s) -> std::optional<std::uint64_t> {
            if (const auto id = model_.token_to_id(s)) return static_cast<std::uint64_t>(*id);
            return std::nullopt;
        };
        const auto normalize = [&](std::string_view in, std::string& out) { normalizer_.normalize(in, out); };
        if (c.has("added_tokens"))
            added_ = detail::hf_added_vocabulary(c.at("added_tokens"), n, model_id, normalize);
        else
            added_ = detail::hf_added_vocabulary(detail::hf_json::cursor(null_, *source_, "added_tokens"), n, model_id, normalize);
        if (added_.end_id() - 1 > std::numeric_limits<id_type>::max())
            c.at("added_tokens").fail(errc::model_too_large, "ids up to " + std::to_string(added_.end_id() - 1) +
                                                                 " do not fit the tokenizer's id type");
        special_.assign(added_.end_id(), false);
        for (std::size_t id = 0; id < special_.size(); ++id) {
            const std::string* s = added_.id_to_token(static_cast<std::uint32_t>(id));
            special_[id] = s ? added_.is_special(*s) : id < n && added_.is_special(model_.id_to_token(static_cast<id_type>(id)));
        }
        for (const std::uint64_t v : post_.items(true))
            if (v != detail::hf_post_processor::sequence && v > std::numeric_limits<id_type>::max())
                c.at("post_processor").fail(errc::model_too_large, "adds the id " + std::to_string(v) +
                                                                       ", which does not fit the tokenizer's id type");
        // The document is needed while loading only.
        document_ = nlohmann::json();
    }

    detail::hf_json::cursor root() const { return detail::hf_json::cursor(document_, *source_); }

    // Splits `text` on added tokens, normalizes and pre-tokenizes it into ws (pre, ends,
    // items). With `added_text`, the text each added token matched is collected too.
    void prepare(std::string_view text, workspace& ws, std::vector<std::string>* added_text) const {
        if (!detail::utf8::is_valid(text))
            BYTEPIECE_THROW(argument_error(errc::invalid_argument, "hf_tokenizer: the text is not valid UTF-8"));
        if (!added_.has_raw()) {
            normalized_segment(text, true, ws, added_text);
            return;
        }
        added_.split(
            text, false,
            [&](std::size_t b, std::size_t e) { normalized_segment(text.substr(b, e - b), b == 0, ws, added_text); },
            [&](const detail::hf_added_vocabulary::match& m) { push_added(text, m, ws, added_text); });
    }

    void push_added(std::string_view text, const detail::hf_added_vocabulary::match& m, workspace& ws,
                    std::vector<std::string>* added_text) const {
        ws.items.push_back(item{m.id, true});
        if (added_text) added_text->emplace_back(text.substr(m.begin, m.end - m.begin));
    }

    void normalized_segment(std::string_view raw, bool at_start, workspace& ws, std::vector<std::string>* added_text) const {
        if (raw.empty()) return;  // HF drops empty splits before normalizing
        std::string_view text = raw;
        if (!normalizer_.is_identity()) {
            normalizer_.normalize(raw, ws.normalized);
            text = ws.normalized;
        }
        if (text.empty()) return;
        if (!added_.has_normalized()) {
            pre_tokenize(text, at_start, ws);
            return;
        }
        added_.split(
            text, true, [&](std::size_t b, std::size_t e) { pre_tokenize(text.substr(b, e - b), at_start && b == 0, ws); },
            [&](const detail::hf_added_vocabulary::match& m) { push_added(text, m, ws, added_text); });
    }

    void pre_tokenize(std::string_view segment, bool at_start, workspace& ws) const {
        pre_tokenizer_.pre_tokenize(segment, at_start, ws.pre, ws.ends);
        if (ws.pre.size() >= std::numeric_limits<std::uint32_t>::max())
            BYTEPIECE_THROW(argument_error(errc::invalid_argument, "hf_tokenizer: a text of 4 GiB or more"));
        ws.items.push_back(item{ws.pre.size(), false});
    }

    // The end in `pre` of a model token: a view into `pre`, or one byte of a byte-fallback
    // run (whose `<0xXX>` token is a vocab string elsewhere).
    static std::size_t advance(const std::string& pre, std::string_view token, std::size_t consumed) noexcept {
        const auto b = reinterpret_cast<std::uintptr_t>(pre.data());
        const auto t = reinterpret_cast<std::uintptr_t>(token.data());
        if (t >= b && t < b + pre.size()) return static_cast<std::size_t>(t - b) + token.size();
        return consumed + 1;
    }

    template <class F>
    void run_batch(workspace& ws, std::size_t first, F& f, bool add_special_tokens) const {
        std::size_t consumed = 0;
        model_.encode(ws.pre, ws.ends.data(), ws.ends.size(), [&](std::string_view token, id_type id) {
            consumed = advance(ws.pre, token, consumed);
            ws.out.emplace_back(consumed, id);
        });
        const bool plain = post_.is_identity(add_special_tokens);
        std::size_t k = 0, begin = 0;
        for (std::size_t t = 0; t < ws.text_ends.size(); ++t) {
            ws.ids.clear();
            for (std::size_t i = begin; i < ws.text_ends[t]; ++i) {
                const item& it = ws.items[i];
                if (it.added) {
                    ws.ids.push_back(static_cast<id_type>(it.value));
                    continue;
                }
                for (; k < ws.out.size() && ws.out[k].first <= it.value; ++k) ws.ids.push_back(ws.out[k].second);
            }
            begin = ws.text_ends[t];
            if (plain) {
                f(first + t, static_cast<const id_type*>(ws.ids.data()), ws.ids.size());
            } else {
                ws.with_special.clear();
                post_.apply(ws.ids.data(), ws.ids.size(), add_special_tokens, ws.with_special);
                f(first + t, static_cast<const id_type*>(ws.with_special.data()), ws.with_special.size());
            }
        }
        ws.clear();
    }

    std::unique_ptr<std::string> source_;  // stable address: cursors refer to it
    nlohmann::json document_;
    nlohmann::json null_;
    detail::hf_unigram<id_type> model_;
    detail::hf_normalizer normalizer_;
    detail::hf_pre_tokenizer pre_tokenizer_;
    detail::hf_added_vocabulary added_;
    detail::hf_post_processor post_;
    detail::hf_decoder decoder_;
    std::vector<bool> special_;  // ids decode skips with skip_special_tokens
};

/// The tokenizer.json tokenizer with 32-bit ids.
using hf_tokenizer = basic_hf_tokenizer<>;

BYTEPIECE_NAMESPACE_END
