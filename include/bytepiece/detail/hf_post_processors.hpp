// SPDX-License-Identifier: Apache-2.0
//
// The post-processor of a Hugging Face tokenizer.json (processors/*.rs of HF tokenizers 0.23),
// for a single sequence: what it adds around the ids when special tokens are asked for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/detail/hf_json.hpp"
#include "bytepiece/errors.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel (ids unchanged) and
/// Sequence of them, reduced when loading to one list: the output for a single sequence is
/// the items in order, an item being either a special id or the sequence's own ids.
///
/// Example: `hf_post_processor p(root.at("post_processor")); p.apply(ids, out);`
class hf_post_processor {
public:
    /// The marker of the sequence's ids among `items()`.
    static constexpr std::uint64_t sequence = std::numeric_limits<std::uint64_t>::max();

    /// No post-processor: the ids as they are.
    hf_post_processor() : items_{{sequence}, {sequence}}, tokens_{std::string()} {}

    /// Reads the `post_processor` value (`c`, may be null).
    explicit hf_post_processor(const hf_json::cursor& c) {
        for (int special = 0; special < 2; ++special) {
            // What HF does to one encoding, simulated on markers: a list of encodings, each a
            // list of items, merged at the end. HF runs the post-processor without special
            // tokens too (a template may repeat the sequence).
            encodings_type encodings{{{sequence, {}}}};
            if (!c.is_null()) run(c, encodings, special != 0);
            for (const auto& e : encodings) {
                for (const auto& it : e) {
                    items_[special].push_back(it.first);
                    if (special) tokens_.push_back(it.second);
                }
            }
        }
    }

    /// Whether the sequence comes out unchanged (`with_special`: when special tokens are asked for).
    bool is_identity(bool with_special) const noexcept {
        const auto& items = items_[with_special ? 1 : 0];
        return items.size() == 1 && items[0] == sequence;
    }

    /// The output for a single sequence: special ids, and `sequence` where its ids go.
    const std::vector<std::uint64_t>& items(bool with_special) const noexcept { return items_[with_special ? 1 : 0]; }

    /// The token strings HF gives the special ids of `items(true)` (empty for `sequence`).
    const std::vector<std::string>& tokens() const noexcept { return tokens_; }

    /// Appends to `out` the ids of a single sequence `ids` (n of them) as the post-processor
    /// gives them (with the special ids when `with_special`).
    ///
    /// Example: `post.apply(ids.data(), ids.size(), true, out);`
    template <class Id>
    void apply(const Id* ids, std::size_t n, bool with_special, std::vector<Id>& out) const {
        for (const std::uint64_t item : items_[with_special ? 1 : 0]) {
            if (item == sequence)
                out.insert(out.end(), ids, ids + n);
            else
                out.push_back(static_cast<Id>(item));
        }
    }

private:
    using piece_type = std::pair<std::uint64_t, std::string>;  // an id (or sequence) and its token
    using encodings_type = std::vector<std::vector<piece_type>>;

    static piece_type pair_id(const hf_json::cursor& pair) {
        if (pair.size() != 2) pair.malformed("should be a [token, id] pair");
        std::string token(pair[0].string());
        return {pair[1].unsigned_integer(std::numeric_limits<std::uint32_t>::max()), std::move(token)};
    }

    static void run(const hf_json::cursor& c, encodings_type& encodings, bool special) {
        const std::string_view type = c.type();
        if (type == "Sequence") {
            c.check_keys({"processors"});
            const hf_json::cursor list = c.at("processors");
            for (std::size_t i = 0; i < list.size(); ++i) run(list[i], encodings, special);
        } else if (type == "ByteLevel") {
            // Trims offsets only; ids unchanged.
            c.check_keys({"add_prefix_space", "trim_offsets", "use_regex"});
            (void)c.at("add_prefix_space").boolean();
            (void)c.at("trim_offsets").boolean();
            if (c.find("use_regex")) (void)c.at("use_regex").boolean();
        } else if (type == "BertProcessing" || type == "RobertaProcessing") {
            const bool roberta = type == "RobertaProcessing";
            if (roberta) {
                c.check_keys({"sep", "cls", "trim_offsets", "add_prefix_space"});
                (void)c.at("trim_offsets").boolean();
                (void)c.at("add_prefix_space").boolean();
            } else {
                c.check_keys({"sep", "cls"});
            }
            const piece_type sep = pair_id(c.at("sep"));
            const piece_type cls = pair_id(c.at("cls"));
            if (!special) return;
            for (std::size_t i = 0; i < encodings.size(); ++i) {
                auto& e = encodings[i];
                if (i == 0) {
                    e.insert(e.begin(), cls);
                } else if (roberta) {
                    e.insert(e.begin(), sep);
                }
                e.push_back(sep);
            }
        } else if (type == "TemplateProcessing") {
            c.check_keys({"single", "pair", "special_tokens"});
            const hf_json::cursor specials = c.at("special_tokens");
            if (!specials.is_object()) specials.malformed("should be an object, not " + specials.type_name());
            for (const auto& item : specials.json().items()) {
                const hf_json::cursor s = specials.at(item.key());
                s.check_keys({"id", "ids", "tokens"});
                (void)s.at("id").string();
                const hf_json::cursor ids = s.at("ids");
                for (std::size_t i = 0; i < ids.size(); ++i) (void)ids[i].unsigned_integer(std::numeric_limits<std::uint32_t>::max());
                const hf_json::cursor tokens = s.at("tokens");
                for (std::size_t i = 0; i < tokens.size(); ++i) (void)tokens[i].string();
            }
            // The pair template is read and checked, though only single sequences are encoded.
            (void)read_template(c.at("pair"), specials, true);
            const hf_json::cursor single = c.at("single");
            if (encodings.size() != 1)
                c.unsupported("follows a post-processor that split the sequence, where HF tokenizers fails or "
                              "would read it as a pair");
            // Each piece of the template becomes an encoding of its own.
            encodings_type next;
            for (const auto& piece : read_template(single, specials, false)) {
                if (piece.size() == 1 && piece[0].first == sequence)
                    next.push_back(encodings[0]);
                else if (special)
                    next.push_back(piece);
            }
            encodings = std::move(next);
        } else {
            c.at("type").unsupported("is \"" + std::string(type) +
                                     "\": the post-processors supported are TemplateProcessing, BertProcessing, "
                                     "RobertaProcessing, ByteLevel and Sequence");
        }
    }

    // A template as a list of pieces: {sequence}, or a special token's ids.
    static encodings_type read_template(const hf_json::cursor& t, const hf_json::cursor& specials, bool pair) {
        encodings_type items;
        for (std::size_t i = 0; i < t.size(); ++i) {
            const hf_json::cursor piece = t[i];
            if (!piece.is_object() || piece.json().size() != 1) piece.malformed("should be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
            if (piece.has("Sequence")) {
                const hf_json::cursor s = piece.at("Sequence");
                s.check_keys({"id", "type_id"});
                (void)s.at("type_id").unsigned_integer(std::numeric_limits<std::uint32_t>::max());
                const std::string_view id = s.at("id").string();
                if (id == "A") {
                    items.push_back({{sequence, {}}});
                } else if (id == "B") {
                    // A single sequence has no B: HF tokenizers fails on such a template.
                    if (!pair) s.at("id").invalid("is B in the single-sequence template");
                    items.push_back({{sequence, {}}});
                } else {
                    s.at("id").malformed("should be \"A\" or \"B\"");
                }
            } else if (piece.has("SpecialToken")) {
                const hf_json::cursor s = piece.at("SpecialToken");
                s.check_keys({"id", "type_id"});
                (void)s.at("type_id").unsigned_integer(std::numeric_limits<std::uint32_t>::max());
                const std::string_view id = s.at("id").string();
                if (!specials.has(id)) {
                    // HF fails only when the template is used; pairs are never encoded here.
                    if (pair) continue;
                    s.at("id").invalid("\"" + std::string(id) + "\" is not in special_tokens");
                }
                const hf_json::cursor ids = specials.at(id).at("ids");
                const hf_json::cursor tokens = specials.at(id).at("tokens");
                items.emplace_back();
                for (std::size_t k = 0; k < ids.size(); ++k) {
                    // HF does not check that ids and tokens have one length.
                    std::string token = k < tokens.size() ? std::string(tokens[k].string()) : std::string();
                    items.back().emplace_back(ids[k].unsigned_integer(std::numeric_limits<std::uint32_t>::max()), std::move(token));
                }
            } else {
                piece.malformed("should be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
            }
        }
        return items;
    }

    std::vector<std::uint64_t> items_[2];  // without, with special tokens
    std::vector<std::string> tokens_;      // of items_[1]
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
