// SPDX-License-Identifier: Apache-2.0
//
// Writing a SentencePiece ModelProto in protobuf's wire format by hand. Fields go out in
// field-number order, as protobuf's own serializer writes them, and every field the model
// holds is written even when it equals its default, so that no reader has to know the
// defaults (proto2 defaults of `true` are easy to get wrong).
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "bytepiece/detail/file.hpp"
#include "bytepiece/sentencepiece_model.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {
namespace sp_proto {

inline void put_varint(std::string& out, std::uint64_t value) {
    while (value >= 0x80) {
        out += static_cast<char>((value & 0x7F) | 0x80);
        value >>= 7;
    }
    out += static_cast<char>(value);
}

inline void put_key(std::string& out, std::uint32_t field, unsigned wire) {
    put_varint(out, static_cast<std::uint64_t>(field) << 3 | wire);
}

// A negative int32 goes out sign-extended to 64 bits (10 bytes), as protobuf writes it.
inline void put_int32(std::string& out, std::uint32_t field, std::int32_t value) {
    put_key(out, field, 0);
    put_varint(out, static_cast<std::uint64_t>(static_cast<std::int64_t>(value)));
}

inline void put_bool(std::string& out, std::uint32_t field, bool value) {
    put_key(out, field, 0);
    out += value ? '\1' : '\0';
}

inline void put_bytes(std::string& out, std::uint32_t field, std::string_view bytes) {
    put_key(out, field, 2);
    put_varint(out, bytes.size());
    out.append(bytes.data(), bytes.size());
}

// Little-endian on the wire whatever the host's byte order.
inline void put_float(std::string& out, std::uint32_t field, float value) {
    static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4, "float must be IEEE binary32");
    std::uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    put_key(out, field, 5);
    for (int i = 0; i < 4; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xFF);
}

inline void put_normalizer(std::string& out, std::uint32_t field, const sentencepiece_model::normalizer_spec& n,
                           std::string& scratch) {
    scratch.clear();
    put_bytes(scratch, 1, n.name);
    put_bytes(scratch, 2, n.precompiled_charsmap);
    put_bool(scratch, 3, n.add_dummy_prefix);
    put_bool(scratch, 4, n.remove_extra_whitespaces);
    put_bool(scratch, 5, n.escape_whitespaces);
    if (!n.normalization_rule_tsv.empty()) put_bytes(scratch, 6, n.normalization_rule_tsv);
    put_bytes(out, field, scratch);
}

}  // namespace sp_proto
}  // namespace detail

inline std::string sentencepiece_model::serialize() const {
    using namespace detail::sp_proto;
    std::string out, scratch;
    std::size_t estimate = normalizer.precompiled_charsmap.size() + 256;
    for (const auto& p : pieces) estimate += p.text.size() + 12;
    out.reserve(estimate);

    for (const auto& p : pieces) {
        scratch.clear();
        put_bytes(scratch, 1, p.text);
        put_float(scratch, 2, p.score);
        put_int32(scratch, 3, static_cast<std::int32_t>(p.type));
        put_bytes(out, 1, scratch);
    }

    scratch.clear();
    put_int32(scratch, 3, static_cast<std::int32_t>(trainer.model_type));
    put_int32(scratch, 4, trainer.vocab_size);
    put_bool(scratch, 24, trainer.treat_whitespace_as_suffix);
    put_bool(scratch, 35, trainer.byte_fallback);
    put_int32(scratch, 40, trainer.unk_id);
    put_int32(scratch, 41, trainer.bos_id);
    put_int32(scratch, 42, trainer.eos_id);
    put_int32(scratch, 43, trainer.pad_id);
    put_bytes(scratch, 44, trainer.unk_surface);
    put_bytes(scratch, 45, trainer.unk_piece);
    put_bytes(scratch, 46, trainer.bos_piece);
    put_bytes(scratch, 47, trainer.eos_piece);
    put_bytes(scratch, 48, trainer.pad_piece);
    put_bytes(out, 2, scratch);

    put_normalizer(out, 3, normalizer, scratch);

    if (!self_test.empty()) {
        std::string samples, sample;
        for (const auto& s : self_test) {
            sample.clear();
            put_bytes(sample, 1, s.input);
            put_bytes(sample, 2, s.expected);
            put_bytes(samples, 1, sample);
        }
        put_bytes(out, 4, samples);
    }

    if (denormalizer) put_normalizer(out, 5, *denormalizer, scratch);
    return out;
}

inline void sentencepiece_model::save(const std::string& path) const { detail::write_file_atomic(path, serialize()); }

BYTEPIECE_NAMESPACE_END
