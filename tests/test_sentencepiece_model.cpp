// SPDX-License-Identifier: Apache-2.0
// sentencepiece_model: reading and writing SentencePiece `.model` files (protobuf ModelProto)
// without libprotobuf. Facts about the shared fixtures are literals from
// ../shared/models/sp/README.md and ../shared/models/README.md, computed here from the files.
#include "test_support.hpp"

#include <bytepiece/sentencepiece_model.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#ifdef BYTEPIECE_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

using bytepiece::errc;
using bytepiece::sentencepiece_model;
using piece_type = sentencepiece_model::piece_type;

namespace {

// protobuf's wire format written independently of the library's writer, so that tests of the
// reader do not depend on the code they would otherwise share with it.
struct proto {
    std::string bytes;

    proto& varint(std::uint64_t v) {
        while (v >= 0x80) {
            bytes += static_cast<char>((v & 0x7F) | 0x80);
            v >>= 7;
        }
        bytes += static_cast<char>(v);
        return *this;
    }
    proto& key(std::uint32_t field, unsigned wire) { return varint(std::uint64_t{field} << 3 | wire); }
    proto& int_field(std::uint32_t field, std::int64_t v) { return key(field, 0).varint(static_cast<std::uint64_t>(v)); }
    proto& bytes_field(std::uint32_t field, const std::string& b) {
        key(field, 2).varint(b.size());
        bytes += b;
        return *this;
    }
    proto& message(std::uint32_t field, const proto& m) { return bytes_field(field, m.bytes); }
    proto& float_field(std::uint32_t field, float f) {
        std::uint32_t u;
        std::memcpy(&u, &f, 4);
        key(field, 5);
        for (int i = 0; i < 4; ++i) bytes += static_cast<char>(u >> (8 * i));
        return *this;
    }
};

proto piece_message(const std::string& text, float score, int type) {
    proto p;
    p.bytes_field(1, text).float_field(2, score);
    if (type != 1) p.int_field(3, type);
    return p;
}

// A small valid unigram model: <unk>, <s>, </s>, then `normal` NORMAL pieces; extra pieces and
// trainer fields can be appended by the caller.
struct model_builder {
    std::vector<proto> pieces;
    proto trainer;
    proto normalizer;
    proto tail;  // fields after normalizer_spec

    model_builder() {
        pieces.push_back(piece_message("<unk>", 0, 2));
        pieces.push_back(piece_message("<s>", 0, 3));
        pieces.push_back(piece_message("</s>", 0, 3));
        for (const char* t : {"\xE2\x96\x81" "a", "b", "ab", "\xE2\x96\x81"}) pieces.push_back(piece_message(t, -2.5f, 1));
        trainer.int_field(3, 1).int_field(4, 7);
        normalizer.bytes_field(1, "identity");
    }
    std::string build() const {
        proto m;
        for (const auto& p : pieces) m.message(1, p);
        m.message(2, trainer).message(3, normalizer);
        m.bytes += tail.bytes;
        return m.bytes;
    }
};

bool sentencepiece_accepts(const std::string& bytes, bool expected);

template <class F>
bytepiece::errc error_of(F&& f, std::string* what = nullptr) {
    try {
        f();
    } catch (const bytepiece::error& e) {
        if (what) *what = e.what();
        return e.code();
    }
    FAIL("no error was thrown");
    return errc::invalid_argument;
}

struct type_counts {
    std::size_t normal = 0, unknown = 0, control = 0, user_defined = 0, unused = 0, byte = 0;
};

type_counts count_types(const sentencepiece_model& m) {
    type_counts c;
    for (const auto& p : m.pieces) {
        switch (p.type) {
            case piece_type::normal: ++c.normal; break;
            case piece_type::unknown: ++c.unknown; break;
            case piece_type::control: ++c.control; break;
            case piece_type::user_defined: ++c.user_defined; break;
            case piece_type::unused: ++c.unused; break;
            case piece_type::byte: ++c.byte; break;
        }
    }
    return c;
}

std::uint32_t bits_of(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

// Field-by-field equality, scores compared bit for bit.
void require_equal(const sentencepiece_model& a, const sentencepiece_model& b) {
    REQUIRE(a.pieces.size() == b.pieces.size());
    for (std::size_t i = 0; i < a.pieces.size(); ++i) {
        INFO("piece " << i);
        REQUIRE(a.pieces[i].text == b.pieces[i].text);
        REQUIRE(bits_of(a.pieces[i].score) == bits_of(b.pieces[i].score));
        REQUIRE(a.pieces[i].type == b.pieces[i].type);
    }
    const auto& t = a.trainer;
    const auto& u = b.trainer;
    CHECK(t.model_type == u.model_type);
    CHECK(t.vocab_size == u.vocab_size);
    CHECK(t.treat_whitespace_as_suffix == u.treat_whitespace_as_suffix);
    CHECK(t.byte_fallback == u.byte_fallback);
    CHECK(t.unk_id == u.unk_id);
    CHECK(t.bos_id == u.bos_id);
    CHECK(t.eos_id == u.eos_id);
    CHECK(t.pad_id == u.pad_id);
    CHECK(t.unk_surface == u.unk_surface);
    CHECK(t.unk_piece == u.unk_piece);
    CHECK(t.bos_piece == u.bos_piece);
    CHECK(t.eos_piece == u.eos_piece);
    CHECK(t.pad_piece == u.pad_piece);
    const auto same_normalizer = [](const sentencepiece_model::normalizer_spec& x,
                                    const sentencepiece_model::normalizer_spec& y) {
        CHECK(x.name == y.name);
        CHECK(x.precompiled_charsmap == y.precompiled_charsmap);
        CHECK(x.add_dummy_prefix == y.add_dummy_prefix);
        CHECK(x.remove_extra_whitespaces == y.remove_extra_whitespaces);
        CHECK(x.escape_whitespaces == y.escape_whitespaces);
        CHECK(x.normalization_rule_tsv == y.normalization_rule_tsv);
    };
    same_normalizer(a.normalizer, b.normalizer);
    REQUIRE(a.denormalizer.has_value() == b.denormalizer.has_value());
    if (a.denormalizer) same_normalizer(*a.denormalizer, *b.denormalizer);
    REQUIRE(a.self_test.size() == b.self_test.size());
    for (std::size_t i = 0; i < a.self_test.size(); ++i) {
        CHECK(a.self_test[i].input == b.self_test[i].input);
        CHECK(a.self_test[i].expected == b.self_test[i].expected);
    }
}

const char* const unigram_fixtures[] = {
    "models/sp/albert-30k-clean.model",   "models/sp/spm-u2k-nmt_nfkc.model",
    "models/sp/spm-u2k-nfkc.model",       "models/sp/spm-u2k-nmt_nfkc_cf.model",
    "models/sp/spm-u2k-nfkc_cf.model",    "models/sp/spm-u2k-identity.model",
    "models/sp/spm-u2k-bytefallback.model", "models/sp/spm-u2k-nodummy-nows.model",
    "models/sp/spm-u2k-ws-suffix.model",  "models/bytepiece.eu.plus.40k.sp.model",
    "models/bytepiece.zh.id.eu.40k.sp.model", "models/bytepiece.eu.plus.160k.sp.model",
};

}  // namespace

TEST_CASE("the ALBERT model's facts (README table and spec section 7)") {
    if (!test_support::require_shared("models/sp/albert-30k-clean.model")) return;
    const auto m = sentencepiece_model::load(test_support::shared_path("models/sp/albert-30k-clean.model"));
    REQUIRE(m.pieces.size() == 30000);
    const auto c = count_types(m);
    CHECK(c.normal == 29987);
    CHECK(c.control == 4);
    CHECK(c.user_defined == 8);
    CHECK(c.unknown == 1);
    CHECK(c.byte == 0);
    CHECK(m.unknown_id() == 1);
    CHECK(m.pieces[1].text == "<unk>");
    const std::vector<std::pair<std::size_t, std::string>> control = {{0, "<pad>"}, {2, "[CLS]"}, {3, "[SEP]"}, {4, "[MASK]"}};
    for (const auto& [id, text] : control) {
        CHECK(m.pieces[id].text == text);
        CHECK(m.pieces[id].type == piece_type::control);
    }
    const char* const user[] = {"(", ")", "\"", "-", ".", "\xE2\x80\x93", "\xC2\xA3", "\xE2\x82\xAC"};
    for (std::size_t i = 0; i < 8; ++i) {
        CHECK(m.pieces[5 + i].text == user[i]);
        CHECK(m.pieces[5 + i].type == piece_type::user_defined);
    }
    CHECK(m.normalizer.name == "nmt_nfkc");
    CHECK(m.normalizer.precompiled_charsmap.size() == 237539);
    CHECK(m.normalizer.add_dummy_prefix);
    CHECK(m.normalizer.remove_extra_whitespaces);
    CHECK(m.normalizer.escape_whitespaces);  // absent from the file: the proto2 default
    CHECK_FALSE(m.denormalizer.has_value());
    CHECK(m.trainer.model_type == sentencepiece_model::algorithm::unigram);
    CHECK(m.trainer.unk_id == 1);
    CHECK(m.trainer.bos_id == -1);
    CHECK(m.trainer.eos_id == -1);
    CHECK(m.trainer.pad_id == 0);
    CHECK_FALSE(m.trainer.byte_fallback);
    CHECK_FALSE(m.trainer.treat_whitespace_as_suffix);
    float lo = 0, hi = -1e9f;
    for (const auto& p : m.pieces)
        if (p.type == piece_type::normal) lo = std::min(lo, p.score), hi = std::max(hi, p.score);
    CHECK(lo == Approx(-13.5323).margin(1e-4));
    CHECK(hi == Approx(-2.18897).margin(1e-5));
    // "digit + comma" pieces: an optional U+2581, ASCII digits, then a comma (`▁2010,`)
    std::size_t digit_comma = 0;
    for (const auto& p : m.pieces) {
        std::string_view t = p.text;
        if (t.rfind("\xE2\x96\x81", 0) == 0) t.remove_prefix(3);
        if (t.size() < 2 || t.back() != ',') continue;
        t.remove_suffix(1);
        digit_comma += std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
    }
    CHECK(digit_comma == 141);
}

TEST_CASE("the spm_train models' facts (README table)") {
    struct facts {
        const char* file;
        std::size_t normal, byte, control, user_defined;
        const char* normalizer;
        std::size_t charsmap;
        bool dummy, remove_ws, suffix, byte_fallback;
    };
    const facts all[] = {
        {"spm-u2k-nmt_nfkc", 1997, 0, 2, 0, "nmt_nfkc", 237561, true, true, false, false},
        {"spm-u2k-nfkc", 1997, 0, 2, 0, "nfkc", 237562, true, true, false, false},
        {"spm-u2k-nmt_nfkc_cf", 1997, 0, 2, 0, "nmt_nfkc_cf", 244410, true, true, false, false},
        {"spm-u2k-nfkc_cf", 1997, 0, 2, 0, "nfkc_cf", 244411, true, true, false, false},
        {"spm-u2k-identity", 1997, 0, 2, 0, "identity", 0, true, true, false, false},
        {"spm-u2k-bytefallback", 1734, 256, 5, 4, "nmt_nfkc", 237561, true, true, false, true},
        {"spm-u2k-nodummy-nows", 1997, 0, 2, 0, "nmt_nfkc", 237561, false, false, false, false},
        {"spm-u2k-ws-suffix", 1997, 0, 2, 0, "nmt_nfkc", 237561, true, true, true, false},
    };
    for (const auto& f : all) {
        const std::string rel = std::string("models/sp/") + f.file + ".model";
        if (!test_support::require_shared(rel)) continue;
        INFO(rel);
        const auto m = sentencepiece_model::load(test_support::shared_path(rel));
        REQUIRE(m.pieces.size() == 2000);
        const auto c = count_types(m);
        CHECK(c.normal == f.normal);
        CHECK(c.byte == f.byte);
        CHECK(c.control == f.control);
        CHECK(c.user_defined == f.user_defined);
        CHECK(c.unknown == 1);
        CHECK(c.unused == 0);
        CHECK(m.unknown_id() == 0);
        CHECK(m.normalizer.name == f.normalizer);
        CHECK(m.normalizer.precompiled_charsmap.size() == f.charsmap);
        CHECK(m.normalizer.add_dummy_prefix == f.dummy);
        CHECK(m.normalizer.remove_extra_whitespaces == f.remove_ws);
        CHECK(m.normalizer.escape_whitespaces);  // absent in every one: the proto2 default
        CHECK(m.trainer.treat_whitespace_as_suffix == f.suffix);
        CHECK(m.trainer.byte_fallback == f.byte_fallback);
        CHECK(m.trainer.vocab_size == 2000);
        CHECK(m.trainer.unk_id == 0);
        CHECK(m.trainer.bos_id == 1);
        CHECK(m.trainer.eos_id == 2);
        CHECK(m.trainer.pad_id == -1);  // a 10-byte varint in the file
        for (const auto& p : m.pieces)
            if (p.type == piece_type::normal) CHECK(p.score < 0);
    }
}

TEST_CASE("spm-u2k-bytefallback: byte, control and user-defined pieces where the README says") {
    if (!test_support::require_shared("models/sp/spm-u2k-bytefallback.model")) return;
    const auto m = sentencepiece_model::load(test_support::shared_path("models/sp/spm-u2k-bytefallback.model"));
    REQUIRE(m.pieces.size() == 2000);
    static const char hex[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
        const std::string want = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
        CHECK(m.pieces[10 + static_cast<std::size_t>(b)].text == want);
        CHECK(m.pieces[10 + static_cast<std::size_t>(b)].type == piece_type::byte);
    }
    const char* const control[] = {"<s>", "</s>", "<cls>", "<eod>", "<|endoftext|>"};
    for (std::size_t i = 0; i < 5; ++i) {
        CHECK(m.pieces[1 + i].text == control[i]);
        CHECK(m.pieces[1 + i].type == piece_type::control);
    }
    const char* const user[] = {"<mask>", "<sep>", "[CLS]", "https://"};
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK(m.pieces[6 + i].text == user[i]);
        CHECK(m.pieces[6 + i].type == piece_type::user_defined);
    }
}

TEST_CASE("the bytepiece-converted .sp.model files (models/README.md)") {
    const std::pair<const char*, std::size_t> all[] = {
        {"models/bytepiece.eu.plus.40k.sp.model", 39936},
        {"models/bytepiece.zh.id.eu.40k.sp.model", 39777},
        {"models/bytepiece.eu.plus.160k.sp.model", 159925},
    };
    for (const auto& [rel, vocab] : all) {
        if (!test_support::require_shared(rel)) continue;
        INFO(rel);
        const auto m = sentencepiece_model::load(test_support::shared_path(rel));
        CHECK(m.pieces.size() == vocab);
        CHECK(m.pieces[0].text == "<unk>");
        CHECK(m.pieces[0].type == piece_type::unknown);
        CHECK(m.pieces[1].text == "<s>");
        CHECK(m.pieces[2].text == "</s>");
        CHECK(m.unknown_id() == 0);
        const auto c = count_types(m);
        CHECK(c.unknown == 1);
        CHECK(c.byte == 256);  // byte fallback on: all 256 BYTE pieces
        CHECK(m.trainer.byte_fallback);
        // identity normalizer, no dummy prefix, no whitespace folding
        CHECK(m.normalizer.precompiled_charsmap.empty());
        CHECK_FALSE(m.normalizer.add_dummy_prefix);
        CHECK_FALSE(m.normalizer.remove_extra_whitespaces);
    }
}

TEST_CASE("the BPE model is refused with model_not_unigram, saying what it is") {
    const std::string rel = "models/sp/spm-bpe2k-llama-flags.model";
    if (!test_support::require_shared(rel)) return;
    const std::string path = test_support::shared_path(rel);
    std::string what;
    CHECK(error_of([&] { sentencepiece_model::load(path); }, &what) == errc::model_not_unigram);
    CHECK(what.find(path) != std::string::npos);
    CHECK(what.find("BPE") != std::string::npos);
}

TEST_CASE("a hand-built model: defaults for absent fields") {
    model_builder b;
    const auto m = sentencepiece_model::parse(b.build(), "built");
    REQUIRE(m.pieces.size() == 7);
    CHECK(m.pieces[3].text == "\xE2\x96\x81" "a");
    CHECK(m.pieces[3].score == -2.5f);
    CHECK(m.pieces[3].type == piece_type::normal);
    CHECK(m.normalizer.add_dummy_prefix);
    CHECK(m.normalizer.remove_extra_whitespaces);
    CHECK(m.normalizer.escape_whitespaces);
    CHECK(m.trainer.vocab_size == 7);
    CHECK(m.trainer.pad_id == -1);
    CHECK(m.trainer.unk_surface == " \xE2\x81\x87 ");
    CHECK(m.trainer.unk_piece == "<unk>");
    CHECK(m.trainer.pad_piece == "<pad>");

    // No trainer_spec or normalizer_spec at all: every default.
    proto bare;
    for (const auto& p : b.pieces) bare.message(1, p);
    const auto d = sentencepiece_model::parse(bare.bytes, "bare");
    CHECK(d.trainer.model_type == sentencepiece_model::algorithm::unigram);
    CHECK(d.trainer.vocab_size == 8000);
    CHECK(d.trainer.unk_id == 0);
    CHECK(d.trainer.bos_id == 1);
    CHECK(d.trainer.eos_id == 2);
    CHECK(d.normalizer.add_dummy_prefix);
    CHECK(d.normalizer.name.empty());
}

TEST_CASE("round trip: parse(serialize(m)) equals m for every fixture") {
    for (const char* rel : unigram_fixtures) {
        if (!test_support::require_shared(rel)) continue;
        INFO(rel);
        const auto m = sentencepiece_model::load(test_support::shared_path(rel));
        const std::string bytes = m.serialize();
        const auto again = sentencepiece_model::parse(bytes, "serialized");
        require_equal(m, again);
        CHECK(again.serialize() == bytes);
    }
}

namespace {

// The offsets where the top-level fields of a ModelProto begin, plus its size: cutting a file
// anywhere else leaves a field cut off.
std::vector<std::size_t> top_level_boundaries(const std::string& bytes) {
    std::vector<std::size_t> out{0};
    std::size_t p = 0;
    const auto read = [&] {
        std::uint64_t v = 0;
        for (int shift = 0;; shift += 7) {
            const auto b = static_cast<unsigned char>(bytes.at(p++));
            v |= std::uint64_t{b & 0x7Fu} << shift;
            if (!(b & 0x80)) return v;
        }
    };
    while (p < bytes.size()) {
        const std::uint64_t key = read();
        REQUIRE((key & 7) == 2);  // every top-level field of these files is a message
        p += read();
        out.push_back(p);
    }
    REQUIRE(p == bytes.size());
    return out;
}

}  // namespace

TEST_CASE("a real model cut at any offset gives a typed error, never a crash") {
    struct plan {
        const char* rel;
        std::size_t every_head, stride, every_tail;  // each offset of the head and tail, a stride between
        std::size_t min_malformed;
    };
    // spm_train's layout (pieces, trainer_spec, normalizer_spec) and the older one of ALBERT's
    const plan plans[] = {{"models/sp/spm-u2k-identity.model", 600, 97, 300, 800},
                          {"models/sp/albert-30k-clean.model", 300, 4999, 40, 400}};
    for (const auto& p : plans) {
        if (!test_support::require_shared(p.rel)) continue;
        INFO(p.rel);
        const std::string bytes = test_support::read(test_support::shared_path(p.rel));
        const auto boundaries = top_level_boundaries(bytes);
        std::vector<std::size_t> cuts;
        for (std::size_t n = 0; n < p.every_head; ++n) cuts.push_back(n);
        for (std::size_t n = p.every_head; n < bytes.size(); n += p.stride) cuts.push_back(n);
        for (std::size_t n = bytes.size() - p.every_tail; n < bytes.size(); ++n) cuts.push_back(n);
        std::size_t malformed = 0, loaded = 0;
        for (const std::size_t n : cuts) {
            const std::string cut = bytes.substr(0, n);
            const bool at_boundary = std::binary_search(boundaries.begin(), boundaries.end(), n);
            try {
                sentencepiece_model::parse(cut, "cut.model");
                CHECK(at_boundary);
                ++loaded;
            } catch (const bytepiece::model_error& e) {
                const std::string what = e.what();
                INFO(n << ": " << what);
                CHECK(what.find("cut.model: ") != std::string::npos);
                if (at_boundary) {
                    // whole fields: only a load check can fail (no pieces, no NORMAL piece yet)
                    CHECK(e.code() == errc::model_sentencepiece_invalid);
                } else {
                    CHECK(e.code() == errc::model_proto_malformed);
                    CHECK(what.find(" at byte ") != std::string::npos);
                    ++malformed;
                }
            }
        }
        CHECK(malformed > p.min_malformed);
        CHECK(loaded > 0);
    }
}

TEST_CASE("malformed bytes name the field and the byte offset") {
    model_builder b;
    const std::string good = b.build();
    std::string what;

    SECTION("a wire type flipped to a group or an undefined type") {
        // pieces[3].score: the key byte 0x15 (field 2, wire 5) becomes wire 3, then 7
        for (unsigned wire : {3u, 7u, 0u}) {
            auto bad = b;
            proto p;
            p.bytes_field(1, "b").key(2, wire);
            p.bytes += std::string(4, '\0');
            bad.pieces[4] = p;
            const std::string bytes = bad.build();
            CHECK(error_of([&] { sentencepiece_model::parse(bytes, "flip.model"); }, &what) == errc::model_proto_malformed);
            CHECK(what.find("flip.model: pieces[4].score: wire type " + std::to_string(wire)) != std::string::npos);
            // the key's offset: pieces 0..3, then the entry's key and length, then `piece`
            std::size_t offset = 0;
            for (std::size_t i = 0; i < 4; ++i) offset += 2 + b.pieces[i].bytes.size();
            offset += 2 + 3;
            CHECK(what.find("at byte " + std::to_string(offset)) != std::string::npos);
        }
    }
    SECTION("trainer_spec.byte_fallback with wire type 4") {
        auto bad = b;
        bad.trainer.key(35, 4);
        CHECK(error_of([&] { sentencepiece_model::parse(bad.build(), "x"); }, &what) == errc::model_proto_malformed);
        CHECK(what.find("trainer_spec.byte_fallback: wire type 4") != std::string::npos);
    }
    SECTION("an unknown field with wire type 6 or 3") {
        for (unsigned wire : {6u, 3u}) {
            auto bad = b;
            bad.normalizer.key(77, wire);
            CHECK(error_of([&] { sentencepiece_model::parse(bad.build(), "x"); }, &what) == errc::model_proto_malformed);
            CHECK(what.find("normalizer_spec.field 77: wire type " + std::to_string(wire)) != std::string::npos);
        }
    }
    SECTION("a varint longer than 10 bytes") {
        auto bad = b;
        bad.trainer.key(43, 0);
        bad.trainer.bytes += std::string(10, '\xff') + '\x01';
        CHECK(error_of([&] { sentencepiece_model::parse(bad.build(), "x"); }, &what) == errc::model_proto_malformed);
        CHECK(what.find("trainer_spec.pad_id: varint longer than 10 bytes") != std::string::npos);
    }
    SECTION("field number 0") {
        auto bad = b;
        bad.tail.int_field(0, 1);
        CHECK(error_of([&] { sentencepiece_model::parse(bad.build(), "x"); }, &what) == errc::model_proto_malformed);
        CHECK(what.find("field number 0") != std::string::npos);
    }
    SECTION("huge lengths are refused before anything is allocated") {
        for (std::uint64_t length : {std::uint64_t{1} << 62, ~std::uint64_t{0}, std::uint64_t{1} << 40, std::uint64_t{20}}) {
            proto p;
            p.key(1, 2).varint(length);
            p.bytes += "0123456789";
            CHECK(error_of([&] { sentencepiece_model::parse(p.bytes, "huge"); }, &what) == errc::model_proto_malformed);
            CHECK(what.find("huge: pieces[0]: length " + std::to_string(length) + " runs past its message (10 bytes left) at byte 1") !=
                  std::string::npos);
            // inside a piece: the piece's text claims more than the piece holds
            proto inner;
            inner.key(1, 2).varint(length);
            inner.bytes += "abc";
            proto outer;
            outer.message(1, inner);
            CHECK(error_of([&] { sentencepiece_model::parse(outer.bytes, "huge"); }, &what) == errc::model_proto_malformed);
            CHECK(what.find("pieces[0].piece: length") != std::string::npos);
        }
    }
    SECTION("a float cut off at the end of its piece") {
        auto bad = b;
        proto p;
        p.bytes_field(1, "zz").key(2, 5);
        p.bytes += "\x01\x02";
        bad.pieces.push_back(p);
        CHECK(error_of([&] { sentencepiece_model::parse(bad.build(), "x"); }, &what) == errc::model_proto_malformed);
        CHECK(what.find("pieces[7].score: float cut off (2 of 4 bytes)") != std::string::npos);
    }
    SECTION("a piece type outside 1..6 names the piece") {
        for (int type : {0, 7, -1}) {
            auto bad = b;
            bad.pieces.push_back(piece_message("oops", -1, 1));
            bad.pieces.back().int_field(3, type);
            CHECK(error_of([&] { sentencepiece_model::parse(bad.build(), "x"); }, &what) == errc::model_proto_malformed);
            CHECK(what.find("pieces[7].type: " + std::to_string(type) + " is not a piece type") != std::string::npos);
            CHECK(what.find("\"oops\"") != std::string::npos);
        }
    }
    SECTION("model_type other than unigram says what it is") {
        const std::pair<int, const char*> types[] = {{2, "a BPE model"}, {3, "a WORD model"}, {4, "a CHAR model"}, {9, "9, not a model type"}, {0, "0, not"}};
        for (const auto& [type, words] : types) {
            auto bad = b;
            bad.trainer.int_field(3, type);
            CHECK(error_of([&] { sentencepiece_model::parse(bad.build(), "x"); }, &what) == errc::model_not_unigram);
            CHECK(what.find(words) != std::string::npos);
            CHECK(what.find("unigram models only") != std::string::npos);
        }
    }
    SECTION("nothing but garbage") {
        CHECK(error_of([&] { sentencepiece_model::parse("\x80", "x"); }, &what) == errc::model_proto_malformed);
        CHECK(what.find("x: field key: varint cut off by the end of its message at byte 0") != std::string::npos);
        CHECK(error_of([&] { sentencepiece_model::parse("\x0a", "x"); }, &what) == errc::model_proto_malformed);
        CHECK(what.find("x: pieces[0]: missing: its message ends here at byte 1") != std::string::npos);
        CHECK(error_of([&] { sentencepiece_model::parse("{\"a\": 1}", "x"); }) == errc::model_proto_malformed);
        CHECK(error_of([&] { sentencepiece_model::parse("", "x"); }) == errc::model_sentencepiece_invalid);
    }
    CHECK_NOTHROW(sentencepiece_model::parse(good, "good"));
}

TEST_CASE("int32 fields: negative values are 10-byte varints, longer varints keep the low 32 bits") {
    model_builder b;
    b.trainer.int_field(41, -1).int_field(42, -7).int_field(40, 3);
    // an int32 written as a 5-byte varint of its 32-bit pattern (some writers do): the same -2
    b.trainer.key(43, 0).varint(0xFFFFFFFEu);
    const auto m = sentencepiece_model::parse(b.build(), "ints");
    CHECK(m.trainer.bos_id == -1);
    CHECK(m.trainer.eos_id == -7);
    CHECK(m.trainer.unk_id == 3);
    CHECK(m.trainer.pad_id == -2);
    const std::string out = m.serialize();
    // bos_id -1 written as the 10-byte varint, key c8 02
    CHECK(out.find(std::string("\xc8\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12)) != std::string::npos);
}

TEST_CASE("unknown fields of every message and wire type are skipped") {
    model_builder b;
    const auto skip_all = [](proto& p) {
        p.int_field(200, 12345);                   // wire 0 (an extension number)
        p.key(99, 1).bytes += std::string(8, '\x0f');  // wire 1 (read as keys, 0x0f would be wire type 7)
        p.bytes_field(1000, "ignored");            // wire 2
        p.float_field(98, 1.5f);                   // wire 5
    };
    for (auto& p : b.pieces) skip_all(p);
    b.trainer.bytes_field(53, "\xE2\x96\x81").bytes_field(54, "seeds.txt");  // newer SentencePiece's fields
    b.trainer.bytes_field(1, "train.txt").bytes_field(2, "prefix").float_field(10, 0.9995f).int_field(11, 1ull << 40);
    skip_all(b.trainer);
    skip_all(b.normalizer);
    proto sample;
    sample.bytes_field(1, "ab").bytes_field(2, "\xE2\x96\x81" "a b");
    skip_all(sample);
    proto self_test;
    self_test.message(1, sample);
    skip_all(self_test);
    skip_all(b.tail);
    b.tail.bytes_field(6, "a future ModelProto field");
    // SentencePiece skips them too (checked without the self test, whose expected pieces
    // would depend on its Viterbi's tie rule)
    CHECK(sentencepiece_accepts(b.build(), true));
    b.tail.message(4, self_test);
    const auto m = sentencepiece_model::parse(b.build(), "unknown");
    REQUIRE(m.pieces.size() == 7);
    CHECK(m.pieces[4].text == "b");
    CHECK(m.pieces[4].score == -2.5f);
    CHECK(m.trainer.vocab_size == 7);
    CHECK(m.normalizer.name == "identity");
    REQUIRE(m.self_test.size() == 1);
    CHECK(m.self_test[0].input == "ab");
    CHECK(m.self_test[0].expected == "\xE2\x96\x81" "a b");
}

TEST_CASE("a singular message that occurs twice is merged: later scalars win, repeated fields append") {
    model_builder b;
    b.trainer.bytes_field(45, "<UNK>").int_field(24, 1);
    proto trainer2;
    trainer2.int_field(4, 99).int_field(24, 0);
    proto normalizer2;
    normalizer2.int_field(3, 0).bytes_field(2, "map");
    proto samples1, samples2, s;
    samples1.message(1, s.bytes_field(1, "one"));
    samples2.message(1, proto{}.bytes_field(1, "two"));
    proto denorm1, denorm2;
    denorm1.bytes_field(1, "d").int_field(4, 0);
    denorm2.bytes_field(2, "xyz");
    b.tail.message(2, trainer2).message(3, normalizer2).message(4, samples1).message(5, denorm1).message(4, samples2).message(5, denorm2);
    const auto m = sentencepiece_model::parse(b.build(), "merged");
    CHECK(m.trainer.vocab_size == 99);
    CHECK(m.trainer.unk_piece == "<UNK>");
    CHECK_FALSE(m.trainer.treat_whitespace_as_suffix);
    CHECK(m.normalizer.name == "identity");
    CHECK(m.normalizer.precompiled_charsmap == "map");
    CHECK_FALSE(m.normalizer.add_dummy_prefix);
    REQUIRE(m.self_test.size() == 2);
    CHECK(m.self_test[0].input == "one");
    CHECK(m.self_test[1].input == "two");
    REQUIRE(m.denormalizer.has_value());
    CHECK(m.denormalizer->name == "d");
    CHECK(m.denormalizer->precompiled_charsmap == "xyz");
    CHECK_FALSE(m.denormalizer->remove_extra_whitespaces);
    CHECK(m.denormalizer->add_dummy_prefix);
    // the pieces are a repeated field: a later piece field is a new piece, not a merge
    CHECK(m.pieces.size() == 7);
    require_equal(m, sentencepiece_model::parse(m.serialize(), "again"));
}

namespace {

// Whether libsentencepiece accepts `bytes` as a model (when it is linked in); otherwise `expected`.
bool sentencepiece_accepts(const std::string& bytes, bool expected) {
#ifdef BYTEPIECE_HAVE_SENTENCEPIECE
    sentencepiece::SentencePieceProcessor sp;
    (void)expected;
    return sp.LoadFromSerializedProto(bytes).ok();
#else
    return expected;
#endif
}

// Builds a model from (text, type) pairs with the given byte_fallback flag.
std::string model_of(const std::vector<std::pair<std::string, int>>& pieces, bool byte_fallback) {
    proto m;
    float score = -1;
    for (const auto& [text, type] : pieces) m.message(1, piece_message(text, score -= 0.5f, type));
    proto trainer;
    trainer.int_field(3, 1);
    if (byte_fallback) trainer.int_field(35, 1);
    proto normalizer;
    normalizer.bytes_field(1, "identity").int_field(3, 1);
    return m.message(2, trainer).message(3, normalizer).bytes;
}

std::vector<std::pair<std::string, int>> all_bytes() {
    std::vector<std::pair<std::string, int>> out;
    static const char hex[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) out.push_back({{'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'}, 6});
    return out;
}

}  // namespace

TEST_CASE("check(): SentencePiece's load checks, each with a hand-built model") {
    using list = std::vector<std::pair<std::string, int>>;
    struct rule {
        const char* name;
        list pieces;
        bool byte_fallback;
        const char* message;  // empty: accepted
    };
    list with_bytes = {{"<unk>", 2}, {"a", 1}};
    const list bytes = all_bytes();
    with_bytes.insert(with_bytes.end(), bytes.begin(), bytes.end());
    list missing_byte = with_bytes;
    missing_byte.erase(missing_byte.begin() + 2 + 0x41);
    list lowercase = with_bytes;
    lowercase[2 + 0x4A].first = "<0x4a>";
    list doubled = with_bytes;
    doubled[2 + 0x4A].first = "<0x4B>";

    const rule rules[] = {
        {"valid", {{"<unk>", 2}, {"<s>", 3}, {"a", 1}}, false, ""},
        {"the same text in both maps is fine", {{"<unk>", 2}, {"<s>", 3}, {"<s>", 1}, {"a", 4}}, false, ""},
        {"an UNUSED piece counts as vocabulary", {{"<unk>", 2}, {"z", 5}}, false, ""},
        {"no pieces", {}, false, "has no pieces"},
        {"empty piece", {{"<unk>", 2}, {"a", 1}, {"", 1}}, false, "piece 2 is empty"},
        {"NORMAL repeated", {{"<unk>", 2}, {"a", 1}, {"b", 1}, {"a", 1}}, false, "piece 3 \"a\" (NORMAL) repeats piece 1 \"a\" (NORMAL)"},
        {"USER_DEFINED repeats UNUSED", {{"<unk>", 2}, {"a", 5}, {"a", 4}}, false, "piece 2 \"a\" (USER_DEFINED) repeats piece 1 \"a\" (UNUSED)"},
        {"CONTROL repeats UNKNOWN", {{"<unk>", 2}, {"a", 1}, {"<unk>", 3}}, false, "piece 2 \"<unk>\" (CONTROL) repeats piece 0"},
        {"two UNKNOWN", {{"<unk>", 2}, {"a", 1}, {"<unk2>", 2}}, false, "piece 2 \"<unk2>\" (UNKNOWN) is a second UNKNOWN piece after piece 0"},
        {"no UNKNOWN", {{"<s>", 3}, {"a", 1}}, false, "no piece has the type UNKNOWN"},
        {"BYTE without byte_fallback", {{"<unk>", 2}, {"a", 1}, {"<0x41>", 6}}, false, "piece 2 \"<0x41>\" (BYTE) is a BYTE piece, but trainer_spec.byte_fallback is false"},
        {"all 256 bytes", with_bytes, true, ""},
        {"a byte missing", missing_byte, true, "the BYTE piece <0x41> is missing"},
        {"lowercase hex", lowercase, true, "piece 76 \"<0x4a>\" (BYTE) is not spelled <0xXX>"},
        {"a byte twice", doubled, true, "piece 77 \"<0x4B>\" (BYTE) repeats piece 76"},
        {"byte_fallback without bytes", {{"<unk>", 2}, {"a", 1}}, true, "the BYTE piece <0x00> is missing"},
        {"only reserved pieces", {{"<unk>", 2}, {"<s>", 3}}, false, "no piece is NORMAL, USER_DEFINED or UNUSED"},
        {"the first fault in id order wins", {{"<unk>", 2}, {"a", 1}, {"b", 2}, {"a", 1}}, false, "piece 2 \"b\" (UNKNOWN) is a second"},
    };
    for (const auto& r : rules) {
        INFO(r.name);
        const std::string bytes = model_of(r.pieces, r.byte_fallback);
        const bool valid = std::strlen(r.message) == 0;
        CHECK(sentencepiece_accepts(bytes, valid) == valid);  // SentencePiece agrees
        if (valid) {
            const auto m = sentencepiece_model::parse(bytes, "rule.model");
            CHECK(m.pieces.size() == r.pieces.size());
            continue;
        }
        std::string what;
        CHECK(error_of([&] { sentencepiece_model::parse(bytes, "rule.model"); }, &what) == errc::model_sentencepiece_invalid);
        CHECK(what.find("rule.model: ") != std::string::npos);
        CHECK(what.find(r.message) != std::string::npos);
        // check() alone, on a model edited in memory, says the same
        sentencepiece_model m;
        for (const auto& [text, type] : r.pieces) m.pieces.push_back({text, -1.0f, static_cast<piece_type>(type)});
        m.trainer.byte_fallback = r.byte_fallback;
        std::string direct;
        CHECK(error_of([&] { m.check("edited"); }, &direct) == errc::model_sentencepiece_invalid);
        CHECK(direct.find(r.message) != std::string::npos);
    }
}

TEST_CASE("piece texts in messages are escaped and cut") {
    sentencepiece_model m;
    m.pieces.push_back({"<unk>", 0, piece_type::unknown});
    m.pieces.push_back({std::string("a\n\"b\\", 5) + std::string(100, 'x'), -1, piece_type::normal});
    m.pieces.push_back(m.pieces.back());
    std::string what;
    CHECK(error_of([&] { m.check("esc"); }, &what) == errc::model_sentencepiece_invalid);
    CHECK(what.find("piece 2 \"a\\x0A\\x22b\\x5C" + std::string(59, 'x') + "...\"") != std::string::npos);
}

TEST_CASE("save writes what load reads back; load names the path") {
    test_support::scratch_folder dir("sentencepiece_model");
    model_builder b;
    const auto m = sentencepiece_model::parse(b.build(), "built");
    m.save(dir / "out.model");
    require_equal(m, sentencepiece_model::load(dir / "out.model"));
    CHECK(test_support::read(dir / "out.model") == m.serialize());

    test_support::write(dir / "bad.model", "\x0a\x05<unk");
    std::string what;
    CHECK(error_of([&] { sentencepiece_model::load(dir / "bad.model"); }, &what) == errc::model_proto_malformed);
    CHECK(what.find(dir / "bad.model") != std::string::npos);
    CHECK(error_of([&] { sentencepiece_model::load(dir / "absent.model"); }) == errc::io_open);
}

TEST_CASE("serialize writes every field explicitly, in field order, floats little-endian") {
    sentencepiece_model m;
    m.pieces.push_back({"<unk>", 0.0f, piece_type::unknown});
    m.pieces.push_back({"a", 1.0f, piece_type::normal});
    m.normalizer.escape_whitespaces = false;
    m.denormalizer = sentencepiece_model::normalizer_spec{};
    m.denormalizer->precompiled_charsmap = "cm";
    m.self_test.push_back({"in", "out"});
    const std::string out = m.serialize();
    // the spec's opening bytes of a trained model: piece "<unk>", score 0, type UNKNOWN
    CHECK(out.compare(0, 16, std::string("\x0a\x0e\x0a\x05<unk>\x15\x00\x00\x00\x00\x18\x02", 16)) == 0);
    // 1.0f is 00 00 80 3f on the wire
    CHECK(out.find(std::string("\x0a\x01" "a\x15\x00\x00\x80\x3f\x18\x01", 10)) != std::string::npos);
    // escape_whitespaces false is written, and so are the flags left at their default true
    CHECK(out.find(std::string("\x18\x01\x20\x01\x28\x00", 6)) != std::string::npos);
    CHECK(out.find(std::string("\x18\x01\x20\x01\x28\x01", 6)) != std::string::npos);  // the denormalizer's
    // the trainer fields, defaults included: model_type 1, vocab_size 8000, the two flags false
    CHECK(out.find(std::string("\x18\x01\x20\xc0\x3e\xc0\x01\x00\x98\x02\x00\xc0\x02\x00", 14)) != std::string::npos);
    CHECK(out.find(std::string("\xe2\x02\x05 \xE2\x81\x87 \xea\x02\x05<unk>\xf2\x02\x03<s>\xfa\x02\x04</s>\x82\x03\x05<pad>", 33)) !=
          std::string::npos);
    // a default pad_id -1: d8 02 then 10 bytes
    CHECK(out.find(std::string("\xd8\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12)) != std::string::npos);
    const auto again = sentencepiece_model::parse(out, "s");
    require_equal(m, again);
    const auto top = top_level_boundaries(out);
    CHECK(top.size() == 2 + 1 + 1 + 1 + 1 + 1);  // start, 2 pieces, trainer, normalizer, self test, denormalizer
    CHECK(static_cast<unsigned char>(out[top[3]]) == 0x1a);
    CHECK(static_cast<unsigned char>(out[top[4]]) == 0x22);
    CHECK(static_cast<unsigned char>(out[top[5]]) == 0x2a);
}

#ifdef BYTEPIECE_HAVE_SENTENCEPIECE
TEST_CASE("SentencePiece loads serialize()'s bytes and encodes as with the original file") {
    const std::vector<std::string> lines = {
        "Hello  world! The caf\xC3\xA9's price: \xE2\x82\xAC" "1,200 (approx.) <mask> \xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C\xE3\x80\x82\xF0\xA0\x80\x80\xF0\xA0\x80\x81",
        "  leading and trailing spaces  ",
        "tabs\tand\nnewlines, digits 0123456789 and \xE2\x96\x81 itself",
        "\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3 full-width, \xEF\xAC\x81 ligature, https://example.com [CLS]",
    };
    for (const char* rel : unigram_fixtures) {
        if (!test_support::require_shared(rel)) continue;
        INFO(rel);
        const std::string path = test_support::shared_path(rel);
        sentencepiece::SentencePieceProcessor original, exported;
        REQUIRE(original.Load(path).ok());
        const auto m = sentencepiece_model::load(path);
        REQUIRE(exported.LoadFromSerializedProto(m.serialize()).ok());
        CHECK(exported.GetPieceSize() == original.GetPieceSize());
        for (const auto& line : lines) {
            std::vector<int> a, b;
            REQUIRE(original.Encode(line, &a).ok());
            REQUIRE(exported.Encode(line, &b).ok());
            CHECK(a == b);
            std::string da, db;
            REQUIRE(original.Decode(a, &da).ok());
            REQUIRE(exported.Decode(b, &db).ok());
            CHECK(da == db);
        }
    }
}
#endif
