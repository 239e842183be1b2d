// SPDX-License-Identifier: Apache-2.0
//
// Export of a BytePiece model to a SentencePiece `.model` that SentencePiece itself can run.
//
// BytePiece segments bytes; SentencePiece segments characters of its normalized text. The
// export makes the two coincide: every piece is written in the GPT-2 byte alphabet (one
// character per byte), and the model's normalizer table turns every input byte 0x01-0xFF into
// that byte's alphabet character. SentencePiece's character lattice over the normalized text is
// then BytePiece's byte lattice, pieces that are not valid UTF-8 stay representable, and no
// byte is an unknown character except NUL (see `to_sentencepiece` for what remains different).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/model.hpp"
#include "bytepiece/sentencepiece_model.hpp"

BYTEPIECE_NAMESPACE_BEGIN

namespace detail {

// The alphabet as a table, built once at compile time: bytes that are printable Latin-1
// characters keep their own code point, and the 68 others (controls, space, DEL, the C1 range,
// NBSP and the soft hyphen), in increasing order, take U+0100, U+0101, ... so that no
// character of the alphabet is whitespace or invisible.
struct byte_alphabet_table {
    std::array<char32_t, 256> code_point{};
    constexpr byte_alphabet_table() {
        char32_t next = 0x100;
        for (unsigned b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
            code_point[b] = printable ? static_cast<char32_t>(b) : next++;
        }
    }
};
inline constexpr byte_alphabet_table byte_alphabet{};

}  // namespace detail

/// The character of the GPT-2 byte alphabet that stands for byte `b` (the alphabet HF's
/// `ByteLevel` pre-tokenizer uses): bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF are the code point
/// of the same value, the other 68 bytes are U+0100 ... U+0143 in increasing byte order.
///
/// Example: `byte_to_alphabet(' ') == U'\u0120'`, `byte_to_alphabet('a') == U'a'`.
constexpr char32_t byte_to_alphabet(unsigned char b) noexcept { return detail::byte_alphabet.code_point[b]; }

/// `bytes` written in the byte alphabet: each byte becomes the UTF-8 of its alphabet character,
/// so any byte string, valid UTF-8 or not, becomes a valid UTF-8 string without NUL.
///
/// Example: `to_byte_alphabet("a b\n") == "a\u0120b\u010A"`.
inline std::string to_byte_alphabet(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) detail::utf8::append(byte_to_alphabet(static_cast<unsigned char>(c)), out);
    return out;
}

/// The inverse of `to_byte_alphabet`: the bytes a text in the byte alphabet stands for, or
/// `std::nullopt` if the text holds anything else (a character outside the alphabet, or bytes
/// that are not UTF-8). Use it on the pieces and decoded text of an exported model.
///
/// Example: `from_byte_alphabet("a\u0120b") == std::optional<std::string>("a b")`,
/// `from_byte_alphabet("\u2581") == std::nullopt`.
inline std::optional<std::string> from_byte_alphabet(std::string_view text) {
    // Every alphabet character is below U+0144, so a table indexed by code point inverts it.
    struct inverse_table {
        std::array<std::int16_t, 0x144> byte{};
        constexpr inverse_table() {
            for (auto& b : byte) b = -1;
            for (unsigned b = 0; b < 256; ++b) byte[detail::byte_alphabet.code_point[b]] = static_cast<std::int16_t>(b);
        }
    };
    static constexpr inverse_table inverse{};
    std::string out;
    out.reserve(text.size());
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* const end = p + text.size();
    while (p < end) {
        const auto d = detail::utf8::decode(p, end);
        if (d.cp == detail::utf8::invalid || d.cp >= inverse.byte.size() || inverse.byte[d.cp] < 0) return std::nullopt;
        out += static_cast<char>(inverse.byte[d.cp]);
        p += d.length;
    }
    return out;
}

/// The `precompiled_charsmap` of an exported model: a normalizer table with one rule per byte
/// 0x01-0xFF, mapping it to the UTF-8 of its alphabet character (`to_byte_alphabet`), so that
/// SentencePiece's normalizer turns every input byte, even one of malformed UTF-8, into one
/// character. NUL cannot be a key (darts-clone keys are C strings). The blob is 2,723 bytes:
/// the trie size, a 512-unit darts-clone double array (the one darts-clone builds for these
/// keys), then the 255 replacements, each followed by a NUL.
///
/// Example: `auto spec_blob = bytepiece::byte_alphabet_charsmap(); spec_blob.size() == 2723;`
inline std::string byte_alphabet_charsmap() {
    // The double array: the root (unit 0) sends byte c to unit 256 ^ c = 256 + c, whose label
    // is c and which has a leaf; the leaf sits at (256 + c) ^ 256 = c and holds the offset of
    // c's replacement. Unit 256 (byte 0) carries label 1, so NUL never matches.
    constexpr std::uint32_t units = 512;
    constexpr std::uint32_t has_leaf = 1u << 8;
    constexpr std::uint32_t offset_256 = 256u << 10;  // an offset field of 256 (no shift)
    constexpr std::uint32_t leaf = 0x80000000u;       // leaf units carry bit 31: they match no label
    std::array<std::uint32_t, units> unit{};
    std::string replacements;
    unit[0] = offset_256;
    unit[256] = 1;
    for (unsigned c = 1; c < 256; ++c) {
        unit[256 + c] = offset_256 | has_leaf | c;
        unit[c] = leaf | static_cast<std::uint32_t>(replacements.size());
        detail::utf8::append(byte_to_alphabet(static_cast<unsigned char>(c)), replacements);
        replacements += '\0';
    }
    std::string blob;
    blob.reserve(4 + units * 4 + replacements.size());
    // Little-endian on every host: SentencePiece 0.1.97 reads the blob as stored.
    const auto put32 = [&blob](std::uint32_t v) {
        for (int shift = 0; shift < 32; shift += 8) blob += static_cast<char>((v >> shift) & 0xFF);
    };
    put32(units * 4);
    for (const std::uint32_t u : unit) put32(u);
    blob += replacements;
    return blob;
}

/// The `NormalizerSpec.name` of an exported model: a label only, SentencePiece never reads it.
inline constexpr std::string_view byte_alphabet_normalizer_name = "bytepiece_byte_alphabet";

/// A SentencePiece unigram model that gives BytePiece's ids: `<unk>` (UNKNOWN), `<s>` and
/// `</s>` (CONTROL) at ids 0-2 where BytePiece has `<pad>`, `<bos>`, `<eos>`, then every piece
/// at its BytePiece id as a NORMAL piece written in the byte alphabet (`to_byte_alphabet`),
/// its score rounded to float32; the normalizer is `byte_alphabet_charsmap()` with the dummy
/// prefix, whitespace removal and whitespace escaping all off. Throws `model_error`
/// (`model_empty`) for a model without pieces, which SentencePiece would refuse.
///
/// How to run SentencePiece on the result so that its ids are BytePiece's:
/// 1. NFC-normalize the text (`bytepiece::nfc`): BytePiece does, the export's normalizer
///    does not.
/// 2. Cut the NFC text into BytePiece's chunks (`bytepiece::for_each_chunk`) and call
///    SentencePiece's `Encode` once per chunk. One `Encode` over many chunks gives other ids:
///    SentencePiece carries its running scores across the whole string, BytePiece restarts
///    at every chunk.
/// 3. Concatenate the chunks' ids. SentencePiece's ids are BytePiece's ids (no shift).
///
/// What still differs: a NUL byte is never a key of the normalizer nor of the piece trie, so
/// SentencePiece always turns it into `<unk>` (id 0). And SentencePiece keeps its running
/// scores as float32 while BytePiece adds float64, so when several orders of the same pieces
/// score the same, the two may choose different orders; on the released models this happens
/// in about 0.3-1.1% of chunks, always with the same pieces (hence the same ids as a
/// multiset), and no choice of float32 scores avoids it.
///
/// Example:
///     auto sp_model = bytepiece::to_sentencepiece(bytepiece::model::load("bytepiece.eu.plus.40k.model"));
///     sp_model.save("bytepiece.eu.plus.40k.byte.model");
///     // With libsentencepiece: sp.Load("bytepiece.eu.plus.40k.byte.model"), then
///     // bytepiece::for_each_chunk(bytepiece::nfc(text), [&](std::string_view chunk) {
///     //     std::vector<int> chunk_ids; sp.Encode(chunk, &chunk_ids); /* append */ });
template <class Score, class Id>
sentencepiece_model to_sentencepiece(const basic_model<Score, Id>& m) {
    using piece_type = sentencepiece_model::piece_type;
    using model_type = basic_model<Score, Id>;
    static_assert(model_type::first_piece_id == 3, "the three SentencePiece specials take BytePiece's three special ids");
    if (m.piece_count() == 0)
        BYTEPIECE_THROW(model_error(errc::model_empty,
                                    "to_sentencepiece: the model holds no pieces, and SentencePiece refuses a model "
                                    "without a NORMAL piece"));
    if (m.vocab_size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
        BYTEPIECE_THROW(model_error(errc::model_too_large,
                                    "to_sentencepiece: " + std::to_string(m.vocab_size()) +
                                        " ids do not fit SentencePiece's 32-bit vocab_size"));
    sentencepiece_model out;
    out.pieces.reserve(m.vocab_size());
    out.pieces.push_back({"<unk>", 0.0f, piece_type::unknown});
    out.pieces.push_back({"<s>", 0.0f, piece_type::control});
    out.pieces.push_back({"</s>", 0.0f, piece_type::control});
    for (std::size_t id = model_type::first_piece_id; id < m.vocab_size(); ++id) {
        const auto i = static_cast<Id>(id);
        // Rounded once, from the score BytePiece computes in double (a float Score already
        // holds that rounding).
        out.pieces.push_back({to_byte_alphabet(m.piece(i)), static_cast<float>(m.score(i)), piece_type::normal});
    }

    auto& trainer = out.trainer;
    trainer.model_type = sentencepiece_model::algorithm::unigram;
    trainer.vocab_size = static_cast<std::int32_t>(m.vocab_size());
    trainer.unk_id = 0;
    trainer.bos_id = 1;
    trainer.eos_id = 2;
    trainer.pad_id = -1;

    auto& normalizer = out.normalizer;
    normalizer.name = std::string(byte_alphabet_normalizer_name);
    normalizer.precompiled_charsmap = byte_alphabet_charsmap();
    // All three default to true in the protobuf and would add a U+2581 prefix, drop spaces and
    // rewrite U+0020 (which the charsmap never produces, but explicit is unambiguous).
    normalizer.add_dummy_prefix = false;
    normalizer.remove_extra_whitespaces = false;
    normalizer.escape_whitespaces = false;
    return out;
}

BYTEPIECE_NAMESPACE_END
