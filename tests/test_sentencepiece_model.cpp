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
