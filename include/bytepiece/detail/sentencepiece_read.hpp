// SPDX-License-Identifier: Apache-2.0
//
// Reading a SentencePiece ModelProto from its protobuf wire format by hand, so that users need
// neither libprotobuf nor generated code, and SentencePiece's load checks.
//
// The reader is a single forward pass over the bytes with fixed nesting (ModelProto holds
// SentencePiece, TrainerSpec, NormalizerSpec and SelfTestData; SelfTestData holds Sample). Every
// length is compared with the bytes left in its enclosing message before anything is copied, so
// a hostile length cannot make it allocate more than the file's own size in strings.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "bytepiece/detail/file.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/sentencepiece_model.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {
namespace sp_proto {

// The wire types of protobuf's encoding; 3 and 4 (groups) and 6, 7 are never valid here.
enum wire_type : unsigned { wire_varint = 0, wire_fixed64 = 1, wire_bytes = 2, wire_fixed32 = 5 };

inline const char* wire_type_name(unsigned wire) noexcept {
    switch (wire) {
        case wire_varint: return "a varint (0)";
        case wire_fixed64: return "8 fixed bytes (1)";
        case wire_bytes: return "length-delimited bytes (2)";
        case wire_fixed32: return "4 fixed bytes (5)";
        default: return "an undefined wire type";
    }
}

// protobuf stores an int32 as the varint of its sign-extension to 64 bits and readers keep the
// low 32 bits; this keeps them without relying on implementation-defined narrowing.
inline std::int32_t low_int32(std::uint64_t v) noexcept {
    const auto u = static_cast<std::uint32_t>(v & 0xFFFFFFFFu);
    return u < 0x80000000u ? static_cast<std::int32_t>(u) : -static_cast<std::int32_t>(~u) - 1;
}

// A piece's text for an error message: control bytes, quotes and backslashes as \xHH, and
// long pieces cut, so that a garbage piece cannot garble or flood the message.
inline std::string quoted_piece(std::string_view text) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out = "\"";
    const std::size_t shown = std::min<std::size_t>(text.size(), 64);
    for (std::size_t i = 0; i < shown; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7F || c == '"' || c == '\\') {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (shown < text.size()) out += "...";
    out += '"';
    return out;
}

// One step of the path from ModelProto to the field being read, e.g. `pieces[12]`.
struct path_step {
    const char* name;
    std::size_t index;
    bool indexed;
};

// A field's key: its number, its wire type and the offset of its first byte.
struct field_key {
    std::uint32_t number;
    unsigned wire;
    std::size_t offset;
};

// The cursor over the whole file; `end` arguments are the end of the enclosing message.
class wire_reader {
public:
    wire_reader(std::string_view bytes, std::string_view source) noexcept
        : data_(reinterpret_cast<const unsigned char*>(bytes.data())), size_(bytes.size()), source_(source) {}

    std::size_t pos() const noexcept { return pos_; }
    std::size_t size() const noexcept { return size_; }

    void enter(const char* name) noexcept { push({name, 0, false}); }
    void enter(const char* name, std::size_t index) noexcept { push({name, index, true}); }
    void leave() noexcept { --depth_; }

    // Throws model_proto_malformed naming the source, the path plus `field`, and the offset.
    [[noreturn]] void fail(std::string_view field, const std::string& what, std::size_t offset) const {
        std::string message(source_);
        message += ": ";
        message += path(field);
        message += ": ";
        message += what;
        message += " at byte ";
        message += std::to_string(offset);
        BYTEPIECE_THROW(model_error(errc::model_proto_malformed, message));
    }

    // The dotted path to `field`, e.g. `pieces[12].score`.
    std::string path(std::string_view field) const {
        std::string out;
        for (int i = 0; i < depth_; ++i) {
            if (!out.empty()) out += '.';
            out += steps_[i].name;
            if (steps_[i].indexed) {
                out += '[';
                out += std::to_string(steps_[i].index);
                out += ']';
            }
        }
        if (!field.empty()) {
            if (!out.empty()) out += '.';
            out += field;
        }
        return out.empty() ? std::string("ModelProto") : out;
    }

    std::uint64_t varint(std::size_t end, std::string_view field) {
        const std::size_t start = pos_;
        std::uint64_t value = 0;
        for (unsigned i = 0; i < 10; ++i) {
            if (pos_ >= end)
                fail(field, pos_ == start ? "missing: its message ends here" : "varint cut off by the end of its message",
                     start);
            const unsigned char b = data_[pos_++];
            // The tenth byte holds bit 63 only; higher bits fall off as in protobuf's own reader.
            value |= static_cast<std::uint64_t>(b & 0x7F) << (7 * i);
            if (!(b & 0x80)) return value;
        }
        fail(field, "varint longer than 10 bytes", start);
    }

    // Returns false at the end of the message.
    bool next_key(std::size_t end, field_key& key) {
        if (pos_ >= end) return false;
        key.offset = pos_;
        const std::uint64_t raw = varint(end, "field key");
        if (raw > 0xFFFFFFFFu) fail("field key", "key " + std::to_string(raw) + " exceeds 32 bits", key.offset);
        key.number = static_cast<std::uint32_t>(raw >> 3);
        key.wire = static_cast<unsigned>(raw & 7);
        if (key.number == 0) fail("field key", "field number 0 is not a valid field", key.offset);
        return true;
    }

    void expect(const field_key& key, unsigned wire, std::string_view field) const {
        if (key.wire == wire) return;
        fail(field,
             "wire type " + std::to_string(key.wire) + " where " + wire_type_name(wire) + " belongs",
             key.offset);
    }

    // The bounds of a length-delimited field's payload; the cursor moves past the length.
    std::size_t payload_end(std::size_t end, std::string_view field) {
        const std::size_t at = pos_;
        const std::uint64_t length = varint(end, field);
        if (length > end - pos_)
            fail(field,
                 "length " + std::to_string(length) + " runs past its message (" + std::to_string(end - pos_) +
                     " bytes left)",
                 at);
        return pos_ + static_cast<std::size_t>(length);
    }

    void bytes(const field_key& key, std::size_t end, std::string_view field, std::string& out) {
        expect(key, wire_bytes, field);
        const std::size_t stop = payload_end(end, field);
        out.assign(reinterpret_cast<const char*>(data_ + pos_), stop - pos_);
        pos_ = stop;
    }

    std::uint64_t scalar(const field_key& key, std::size_t end, std::string_view field) {
        expect(key, wire_varint, field);
        return varint(end, field);
    }

    std::int32_t int32(const field_key& key, std::size_t end, std::string_view field) {
        return low_int32(scalar(key, end, field));
    }

    bool boolean(const field_key& key, std::size_t end, std::string_view field) {
        return scalar(key, end, field) != 0;
    }

    float float32(const field_key& key, std::size_t end, std::string_view field) {
        static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4, "float must be IEEE binary32");
        expect(key, wire_fixed32, field);
        if (end - pos_ < 4)
            fail(field, "float cut off (" + std::to_string(end - pos_) + " of 4 bytes)", pos_);
        // Little-endian on the wire whatever the host's byte order.
        const std::uint32_t bits = static_cast<std::uint32_t>(data_[pos_]) |
                                   static_cast<std::uint32_t>(data_[pos_ + 1]) << 8 |
                                   static_cast<std::uint32_t>(data_[pos_ + 2]) << 16 |
                                   static_cast<std::uint32_t>(data_[pos_ + 3]) << 24;
        pos_ += 4;
        float value;
        std::memcpy(&value, &bits, sizeof value);
        return value;
    }

    // Skips a field this reader does not use (training parameters, newer or extension fields).
    void skip(const field_key& key, std::size_t end) {
        const std::string field = "field " + std::to_string(key.number);
        switch (key.wire) {
            case wire_varint: varint(end, field); return;
            case wire_bytes: pos_ = payload_end(end, field); return;
            case wire_fixed64:
            case wire_fixed32: {
                const std::size_t width = key.wire == wire_fixed64 ? 8 : 4;
                if (end - pos_ < width)
                    fail(field,
                         "fixed-width value cut off (" + std::to_string(end - pos_) + " of " + std::to_string(width) +
                             " bytes)",
                         pos_);
                pos_ += width;
                return;
            }
            default:
                fail(field,
                     "wire type " + std::to_string(key.wire) +
                         (key.wire == 3 || key.wire == 4 ? " (a group), which no SentencePiece message uses"
                                                         : ", which protobuf does not define"),
                     key.offset);
        }
    }

    // Counts the top-level `pieces` fields without interpreting anything, so the vector is
    // sized once; stops quietly at anything odd and leaves the errors to the real pass.
    std::size_t count_pieces() const noexcept {
        std::size_t count = 0, p = 0;
        const auto read = [&](std::uint64_t& v) {
            v = 0;
            for (unsigned i = 0; i < 10 && p < size_; ++i) {
                const unsigned char b = data_[p++];
                v |= static_cast<std::uint64_t>(b & 0x7F) << (7 * i);
                if (!(b & 0x80)) return true;
            }
            return false;
        };
        while (p < size_) {
            std::uint64_t key = 0, length = 0;
            if (!read(key)) break;
            switch (key & 7) {
                case wire_varint:
                    if (!read(length)) return count;
                    break;
                case wire_fixed64: p += 8; break;
                case wire_fixed32: p += 4; break;
                case wire_bytes:
                    if (!read(length) || length > size_ - p) return count;
                    p += static_cast<std::size_t>(length);
                    if (key == ((1u << 3) | wire_bytes)) ++count;
                    break;
                default: return count;
            }
        }
        return count;
    }

private:
    void push(path_step step) noexcept { steps_[depth_++] = step; }

    const unsigned char* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
    std::string_view source_;
    path_step steps_[4] = {};  // the deepest path is self_test_data.samples[i]
    int depth_ = 0;
};

inline void read_piece(wire_reader& r, std::size_t end, sentencepiece_model::piece_entry& piece) {
    std::int32_t type = static_cast<std::int32_t>(sentencepiece_model::piece_type::normal);
    std::size_t type_offset = 0;
    field_key key;
    while (r.next_key(end, key)) {
        switch (key.number) {
            case 1: r.bytes(key, end, "piece", piece.text); break;
            case 2: piece.score = r.float32(key, end, "score"); break;
            case 3:
                type_offset = key.offset;
                type = r.int32(key, end, "type");
                break;
            default: r.skip(key, end);
        }
    }
    // Judged after the whole entry so that the message can name the piece's text, which may
    // come after its type.
    if (type < 1 || type > 6)
        r.fail("type",
               std::to_string(type) + " is not a piece type (1 to 6) for piece " + quoted_piece(piece.text),
               type_offset);
    piece.type = static_cast<sentencepiece_model::piece_type>(type);
}

inline void read_trainer(wire_reader& r, std::size_t end, sentencepiece_model::trainer_spec& t) {
    field_key key;
    while (r.next_key(end, key)) {
        switch (key.number) {
            // Any value is kept; check() says what a non-unigram value means.
            case 3: t.model_type = static_cast<sentencepiece_model::algorithm>(r.int32(key, end, "model_type")); break;
            case 4: t.vocab_size = r.int32(key, end, "vocab_size"); break;
            case 24: t.treat_whitespace_as_suffix = r.boolean(key, end, "treat_whitespace_as_suffix"); break;
            case 35: t.byte_fallback = r.boolean(key, end, "byte_fallback"); break;
            case 40: t.unk_id = r.int32(key, end, "unk_id"); break;
            case 41: t.bos_id = r.int32(key, end, "bos_id"); break;
            case 42: t.eos_id = r.int32(key, end, "eos_id"); break;
            case 43: t.pad_id = r.int32(key, end, "pad_id"); break;
            case 44: r.bytes(key, end, "unk_surface", t.unk_surface); break;
            case 45: r.bytes(key, end, "unk_piece", t.unk_piece); break;
            case 46: r.bytes(key, end, "bos_piece", t.bos_piece); break;
            case 47: r.bytes(key, end, "eos_piece", t.eos_piece); break;
            case 48: r.bytes(key, end, "pad_piece", t.pad_piece); break;
            default: r.skip(key, end);
        }
    }
}

inline void read_normalizer(wire_reader& r, std::size_t end, sentencepiece_model::normalizer_spec& n) {
    field_key key;
    while (r.next_key(end, key)) {
        switch (key.number) {
            case 1: r.bytes(key, end, "name", n.name); break;
            case 2: r.bytes(key, end, "precompiled_charsmap", n.precompiled_charsmap); break;
            case 3: n.add_dummy_prefix = r.boolean(key, end, "add_dummy_prefix"); break;
            case 4: n.remove_extra_whitespaces = r.boolean(key, end, "remove_extra_whitespaces"); break;
            case 5: n.escape_whitespaces = r.boolean(key, end, "escape_whitespaces"); break;
            case 6: r.bytes(key, end, "normalization_rule_tsv", n.normalization_rule_tsv); break;
            default: r.skip(key, end);
        }
    }
}

inline void read_self_test(wire_reader& r, std::size_t end, std::vector<sentencepiece_model::self_test_sample>& out) {
    field_key key;
    while (r.next_key(end, key)) {
        if (key.number != 1) {
            r.skip(key, end);
            continue;
        }
        r.expect(key, wire_bytes, "samples");
        const std::size_t stop = r.payload_end(end, "samples");
        r.enter("samples", out.size());
        out.emplace_back();
        field_key inner;
        while (r.next_key(stop, inner)) {
            switch (inner.number) {
                case 1: r.bytes(inner, stop, "input", out.back().input); break;
                case 2: r.bytes(inner, stop, "expected", out.back().expected); break;
                default: r.skip(inner, stop);
            }
        }
        r.leave();
    }
}

inline void read_model(wire_reader& r, sentencepiece_model& m) {
    m.pieces.reserve(r.count_pieces());
    const std::size_t end = r.size();
    field_key key;
    while (r.next_key(end, key)) {
        // Embedded messages: `pieces` gets a new entry per occurrence; a singular message that
        // occurs twice is read into the same struct, which is protobuf's merge (later scalars
        // win, repeated fields append).
        const char* name = nullptr;
        switch (key.number) {
            case 1: name = "pieces"; break;
            case 2: name = "trainer_spec"; break;
            case 3: name = "normalizer_spec"; break;
            case 4: name = "self_test_data"; break;
            case 5: name = "denormalizer_spec"; break;
            default: r.skip(key, end); continue;
        }
        if (key.number == 1) r.enter(name, m.pieces.size());
        else r.enter(name);
        r.expect(key, wire_bytes, "");
        const std::size_t stop = r.payload_end(end, "");
        switch (key.number) {
            case 1:
                m.pieces.emplace_back();
                read_piece(r, stop, m.pieces.back());
                break;
            case 2: read_trainer(r, stop, m.trainer); break;
            case 3: read_normalizer(r, stop, m.normalizer); break;
            case 4: read_self_test(r, stop, m.self_test); break;
            default:
                // Assigned rather than emplace()d: clang judges the nested struct not default-constructible
                // inside std::optional (its member initializers are parsed after the optional).
                if (!m.denormalizer) m.denormalizer = sentencepiece_model::normalizer_spec{};
                read_normalizer(r, stop, *m.denormalizer);
        }
        r.leave();
    }
}

inline const char* piece_type_name(sentencepiece_model::piece_type type) noexcept {
    switch (type) {
        case sentencepiece_model::piece_type::normal: return "NORMAL";
        case sentencepiece_model::piece_type::unknown: return "UNKNOWN";
        case sentencepiece_model::piece_type::control: return "CONTROL";
        case sentencepiece_model::piece_type::user_defined: return "USER_DEFINED";
        case sentencepiece_model::piece_type::unused: return "UNUSED";
        case sentencepiece_model::piece_type::byte: return "BYTE";
    }
    return "an unknown type";
}

// The byte a BYTE piece stands for, or -1 unless it is spelled exactly `<0xXX>` with two
// uppercase hex digits, the only spelling SentencePiece accepts.
inline int byte_piece_value(std::string_view text) noexcept {
    if (text.size() != 6 || text.compare(0, 3, "<0x") != 0 || text[5] != '>') return -1;
    int value = 0;
    for (std::size_t i = 3; i < 5; ++i) {
        const char c = text[i];
        if (c >= '0' && c <= '9') value = value * 16 + (c - '0');
        else if (c >= 'A' && c <= 'F') value = value * 16 + (c - 'A' + 10);
        else return -1;
    }
    return value;
}

// SentencePiece keeps NORMAL, USER_DEFINED and UNUSED pieces in one map and the others in a
// second one; a text may appear once in each.
inline bool in_vocabulary_map(sentencepiece_model::piece_type type) noexcept {
    return type == sentencepiece_model::piece_type::normal || type == sentencepiece_model::piece_type::user_defined ||
           type == sentencepiece_model::piece_type::unused;
}

[[noreturn]] inline void fail_check(std::string_view source, const std::string& what) {
    BYTEPIECE_THROW(model_error(errc::model_sentencepiece_invalid, std::string(source) + ": " + what));
}

}  // namespace sp_proto
}  // namespace detail

inline sentencepiece_model sentencepiece_model::parse(std::string_view bytes, std::string_view source) {
    sentencepiece_model m;
    detail::sp_proto::wire_reader reader(bytes, source);
    detail::sp_proto::read_model(reader, m);
    m.check(source);
    return m;
}

inline sentencepiece_model sentencepiece_model::load(const std::string& path) {
    const std::string bytes = detail::read_file(path);
    return parse(bytes, path);
}

inline void sentencepiece_model::check(std::string_view source) const {
    using namespace detail::sp_proto;
    const auto named = [&](std::size_t id) {
        return "piece " + std::to_string(id) + " " + quoted_piece(pieces[id].text) + " (" +
               piece_type_name(pieces[id].type) + ")";
    };

    if (trainer.model_type != algorithm::unigram) {
        std::string what;
        switch (trainer.model_type) {
            case algorithm::bpe: what = "2, a BPE model"; break;
            case algorithm::word: what = "3, a WORD model"; break;
            case algorithm::character: what = "4, a CHAR model"; break;
            default:
                what = std::to_string(static_cast<std::int32_t>(trainer.model_type)) + ", not a model type SentencePiece defines";
        }
        BYTEPIECE_THROW(model_error(errc::model_not_unigram, std::string(source) + ": trainer_spec.model_type is " + what +
                                                                 "; bytepiece encodes unigram models only"));
    }
    if (pieces.empty()) fail_check(source, "the model has no pieces");

    // The first piece whose text repeats an earlier one of the same map, found by sorting
    // (no hash table, so hostile texts cannot make it quadratic). The keys are copied out of
    // the pieces so that the sort compares contiguous entries instead of chasing indexes.
    // The first 8 bytes, big-endian and zero-padded, order keys as their texts do and settle
    // most comparisons without reading the texts (a third of the time on 160k pieces).
    struct sort_key {
        std::uint64_t head;
        std::string_view text;
        std::uint32_t id;
        bool vocabulary;
        bool operator<(const sort_key& o) const noexcept {
            if (vocabulary != o.vocabulary) return vocabulary < o.vocabulary;
            if (head != o.head) return head < o.head;
            const int c = text.compare(o.text);
            return c != 0 ? c < 0 : id < o.id;
        }
        bool same(const sort_key& o) const noexcept { return vocabulary == o.vocabulary && text == o.text; }
    };
    if (pieces.size() > 0xFFFFFFFFu) fail_check(source, "more than 2^32 pieces");
    std::vector<sort_key> keys(pieces.size());
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        const std::string& text = pieces[i].text;
        std::uint64_t head = 0;
        for (std::size_t j = 0; j < 8; ++j)
            head = head << 8 | (j < text.size() ? static_cast<unsigned char>(text[j]) : 0u);
        keys[i] = {head, text, static_cast<std::uint32_t>(i), in_vocabulary_map(pieces[i].type)};
    }
    std::sort(keys.begin(), keys.end());
    std::size_t repeat = pieces.size(), original = 0;
    for (std::size_t k = 1; k < keys.size(); ++k) {
        // Within a run of equal texts the ids ascend: the run's first id is the original, its
        // second one the first repeat.
        if (!keys[k - 1].same(keys[k]) || (k >= 2 && keys[k - 2].same(keys[k - 1]))) continue;
        if (keys[k].id < repeat) {
            repeat = keys[k].id;
            original = keys[k - 1].id;
        }
    }

    // In SentencePiece's order, so that the first fault reported is the one it reports.
    std::size_t unknown = pieces.size();
    bool bytes_seen[256] = {};
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        const piece_entry& p = pieces[i];
        if (p.text.empty()) fail_check(source, "piece " + std::to_string(i) + " is empty; every piece needs text");
        if (i == repeat) fail_check(source, named(i) + " repeats " + named(original));
        if (p.type == piece_type::unknown) {
            if (unknown != pieces.size()) fail_check(source, named(i) + " is a second UNKNOWN piece after " + named(unknown));
            unknown = i;
        }
        if (p.type == piece_type::byte) {
            if (!trainer.byte_fallback) fail_check(source, named(i) + " is a BYTE piece, but trainer_spec.byte_fallback is false");
            const int value = byte_piece_value(p.text);
            if (value < 0) fail_check(source, named(i) + " is not spelled <0xXX> with two uppercase hex digits");
            bytes_seen[value] = true;
        }
    }
    if (unknown == pieces.size()) fail_check(source, "no piece has the type UNKNOWN; SentencePiece needs exactly one");
    if (trainer.byte_fallback) {
        for (int b = 0; b < 256; ++b) {
            if (bytes_seen[b]) continue;
            static const char hex[] = "0123456789ABCDEF";
            const std::string missing = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
            fail_check(source, "trainer_spec.byte_fallback is true, but the BYTE piece " + missing +
                    " is missing (all 256 are needed)");
        }
    }
    const bool has_vocabulary = std::any_of(pieces.begin(), pieces.end(),
                                            [](const piece_entry& p) { return in_vocabulary_map(p.type); });
    if (!has_vocabulary) fail_check(source, "no piece is NORMAL, USER_DEFINED or UNUSED");
}

BYTEPIECE_NAMESPACE_END
