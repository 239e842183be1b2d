// SPDX-License-Identifier: Apache-2.0
//
// Ids back to text exactly as SentencePiece 0.1.97's `Decode(ids)`
// (src/sentencepiece_processor.cc, DecodeIds -> Decode(pieces)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/sentencepiece_model.hpp"
#include "bytepiece/sentencepiece_normalizer.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// What each id contributes to decoded text, worked out once per model.
///
/// SentencePiece decodes an id by turning it into its piece and the piece back into an id
/// (the reserved pieces first), so an id whose string is also a CONTROL, UNKNOWN or BYTE
/// piece's decodes as that piece; this table already holds the result.
///
/// Example:
/// ```
/// detail::sentencepiece_decoder dec(model);
/// std::string text; std::vector<int> ids{35, 8, 1217};
/// dec.decode(ids.data(), ids.size(), text);
/// ```
class sentencepiece_decoder {
public:
    /// Throws `model_error` (`model_sentencepiece_invalid`) naming `source` when a BYTE piece
    /// is not spelled `<0xXX>` or the denormalizer's charsmap is broken.
    explicit sentencepiece_decoder(const sentencepiece_model& m, std::string_view source = "<memory>") {
        using type = sentencepiece_model::piece_type;
        strip_first_ws_ = m.normalizer.add_dummy_prefix || m.normalizer.remove_extra_whitespaces;
        keep_bos_ws_seen_ = !m.normalizer.remove_extra_whitespaces;
        // SentencePiece reads the surface through c_str(), so it ends at the first NUL.
        unk_surface_ = m.trainer.unk_surface.substr(0, m.trainer.unk_surface.find('\0'));

        std::unordered_map<std::string_view, std::size_t> reserved, normal;
        std::size_t unk = 0;
        for (std::size_t i = 0; i < m.pieces.size(); ++i) {
            const auto t = m.pieces[i].type;
            const bool is_normal = t == type::normal || t == type::user_defined || t == type::unused;
            (is_normal ? normal : reserved).emplace(m.pieces[i].text, i);
            if (t == type::unknown) unk = i;
        }

        entries_.resize(m.pieces.size());
        for (std::size_t i = 0; i < m.pieces.size(); ++i) {
            const std::string& piece = m.pieces[i].text;
            // The id SentencePiece finds for this id's piece: reserved pieces first, then the
            // piece trie, which holds keys cut at NUL and so never matches a piece with a NUL.
            std::size_t id = unk;
            if (auto it = reserved.find(piece); it != reserved.end())
                id = it->second;
            else if (piece.find('\0') == std::string::npos)
                if (auto jt = normal.find(piece); jt != normal.end()) id = jt->second;
            entry& e = entries_[i];
            const auto t = m.pieces[id].type;
            if (t == type::control) {
                e.what = kind::nothing;
            } else if (t == type::unknown) {
                if (m.pieces[id].text == piece) {
                    e.what = kind::unknown;
                } else {
                    e.what = kind::verbatim;
                    e.text = piece;
                }
            } else if (t == type::byte) {
                e.what = kind::byte;
                e.byte = byte_value(m.pieces[id].text, id, source);
            } else {
                e.what = kind::text;
                std::string_view rest = piece;
                e.starts_with_ws = rest.substr(0, 3) == "\xE2\x96\x81";
                while (!rest.empty()) {
                    const std::size_t at = rest.find("\xE2\x96\x81");
                    if (at == std::string_view::npos) {
                        e.text.append(rest);
                        break;
                    }
                    e.text.append(rest.substr(0, at));
                    e.text.push_back(' ');
                    rest.remove_prefix(at + 3);
                }
            }
        }
        if (m.denormalizer && !m.denormalizer->precompiled_charsmap.empty())
            denormalizer_ = std::make_unique<sentencepiece_normalizer>(*m.denormalizer, source);
    }

    /// Number of ids this decoder accepts.
    std::size_t vocab_size() const noexcept { return entries_.size(); }

    /// Writes the text of `ids[0..n)` to `out` (overwritten). Throws `decode_error`
    /// (`decode_bad_id`) naming the first id outside `[0, vocab_size())` and its position.
    ///
    /// Example: `dec.decode(ids.data(), ids.size(), text);`
    template <class Id>
    void decode(const Id* ids, std::size_t n, std::string& out) const {
        static_assert(std::is_integral<Id>::value, "ids are integers");
        out.clear();
        std::string bytes;  // a run of BYTE pieces waiting for the next other piece
        bool is_bos_ws = true;
        bool bos_ws_seen = false;
        for (std::size_t i = 0; i < n; ++i) {
            const Id id = ids[i];
            if (is_negative(id) || static_cast<std::uint64_t>(id) >= entries_.size())
                BYTEPIECE_THROW(decode_error(errc::decode_bad_id, "id " + std::to_string(id) + " at position " +
                                                                      std::to_string(i) + " is outside the vocabulary [0, " +
                                                                      std::to_string(entries_.size()) + ")"));
            const entry& e = entries_[static_cast<std::size_t>(id)];
            if (e.what == kind::byte) {
                bytes.push_back(static_cast<char>(e.byte));
                continue;
            }
            flush_bytes(bytes, out);
            if (bos_ws_seen || !out.empty()) is_bos_ws = false;
            bos_ws_seen = false;
            switch (e.what) {
                case kind::nothing: break;
                case kind::unknown: out.append(unk_surface_); break;
                case kind::verbatim: out.append(e.text); break;
                default:
                    if (is_bos_ws && strip_first_ws_ && e.starts_with_ws) {
                        out.append(e.text, 1, std::string::npos);
                        bos_ws_seen = keep_bos_ws_seen_;
                    } else {
                        out.append(e.text);
                    }
                    break;
            }
        }
        flush_bytes(bytes, out);
        if (denormalizer_) {
            std::string text;
            denormalizer_->normalize(out, text);
            out.swap(text);
        }
    }

private:
    enum class kind : std::uint8_t { nothing, unknown, verbatim, byte, text };

    struct entry {
        kind what = kind::nothing;
        std::string text;             // the piece with U+2581 as U+0020, or the verbatim piece
        unsigned char byte = 0;
        bool starts_with_ws = false;  // the piece started with U+2581 (text[0] is that space)
    };

    template <class Id>
    static bool is_negative(Id id) noexcept {
        if constexpr (std::is_signed<Id>::value) return id < 0;
        else return false;
    }

    static unsigned char byte_value(const std::string& piece, std::size_t id, std::string_view source) {
        auto hex = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        if (piece.size() == 6 && piece.compare(0, 3, "<0x") == 0 && piece[5] == '>' && hex(piece[3]) >= 0 &&
            hex(piece[4]) >= 0)
            return static_cast<unsigned char>(hex(piece[3]) * 16 + hex(piece[4]));
        BYTEPIECE_THROW(model_error(errc::model_sentencepiece_invalid,
                                    std::string(source) + ": piece " + std::to_string(id) +
                                        ": a BYTE piece not spelled <0xXX> with uppercase hex digits"));
    }

    // A run of byte pieces becomes text one character at a time; a byte that does not start
    // a well-formed character becomes U+FFFD on its own.
    static void flush_bytes(std::string& bytes, std::string& out) {
        if (bytes.empty()) return;
        const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
        const auto* end = p + bytes.size();
        while (p < end) {
            const auto d = utf8::decode(p, end);
            if (d.cp == utf8::invalid) out.append("\xEF\xBF\xBD", 3);
            else out.append(reinterpret_cast<const char*>(p), d.length);
            p += d.length;
        }
        bytes.clear();
    }

    std::vector<entry> entries_;
    std::string unk_surface_;
    bool strip_first_ws_ = false;
    bool keep_bos_ws_seen_ = false;
    std::unique_ptr<sentencepiece_normalizer> denormalizer_;
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
