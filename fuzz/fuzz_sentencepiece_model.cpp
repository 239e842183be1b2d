// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes as a SentencePiece `.model` file: sentencepiece_model::parse either returns a
// model that passed SentencePiece's load checks or throws model_error with one of the three
// SentencePiece ids, naming the source. A model that parses serializes to bytes that parse back
// to the same model and serialize to the same bytes.
#include "fuzz_common.hpp"

#include <bytepiece/sentencepiece_model.hpp>

#include <cstring>

namespace {

bool same_normalizer(const bytepiece::sentencepiece_model::normalizer_spec& a,
                     const bytepiece::sentencepiece_model::normalizer_spec& b) {
    return a.name == b.name && a.precompiled_charsmap == b.precompiled_charsmap &&
           a.add_dummy_prefix == b.add_dummy_prefix && a.remove_extra_whitespaces == b.remove_extra_whitespaces &&
           a.escape_whitespaces == b.escape_whitespaces && a.normalization_rule_tsv == b.normalization_rule_tsv;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using bytepiece::sentencepiece_model;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    sentencepiece_model m;
    try {
        m = sentencepiece_model::parse(bytes, "fuzz.model");
    } catch (const bytepiece::model_error& e) {
        const std::string what = e.what();
        FUZZ_CHECK_MSG(what.rfind("[bytepiece.model.", 0) == 0, what);
        FUZZ_CHECK_MSG(what.find("fuzz.model: ") != std::string::npos, what);
        const auto code = e.code();
        FUZZ_CHECK_MSG(code == bytepiece::errc::model_proto_malformed || code == bytepiece::errc::model_not_unigram ||
                           code == bytepiece::errc::model_sentencepiece_invalid,
                       what);
        if (code == bytepiece::errc::model_proto_malformed) FUZZ_CHECK_MSG(what.find(" at byte ") != std::string::npos, what);
        return 0;
    }
    // What the load checks promise.
    FUZZ_CHECK(!m.pieces.empty());
    FUZZ_CHECK(m.trainer.model_type == sentencepiece_model::algorithm::unigram);
    std::size_t unknown = 0;
    for (const auto& p : m.pieces) {
        FUZZ_CHECK(!p.text.empty());
        unknown += p.type == sentencepiece_model::piece_type::unknown;
    }
    FUZZ_CHECK(unknown == 1);
    FUZZ_CHECK(m.pieces[m.unknown_id()].type == sentencepiece_model::piece_type::unknown);

    const std::string out = m.serialize();
    const auto again = sentencepiece_model::parse(out, "serialized");
    FUZZ_CHECK(again.serialize() == out);
    FUZZ_CHECK(again.pieces.size() == m.pieces.size());
    for (std::size_t i = 0; i < m.pieces.size(); ++i) {
        const auto& a = m.pieces[i];
        const auto& b = again.pieces[i];
        FUZZ_CHECK(a.text == b.text && a.type == b.type && std::memcmp(&a.score, &b.score, sizeof a.score) == 0);
    }
    const auto& t = m.trainer;
    const auto& u = again.trainer;
    FUZZ_CHECK(t.vocab_size == u.vocab_size && t.treat_whitespace_as_suffix == u.treat_whitespace_as_suffix &&
               t.byte_fallback == u.byte_fallback && t.unk_id == u.unk_id && t.bos_id == u.bos_id &&
               t.eos_id == u.eos_id && t.pad_id == u.pad_id && t.unk_surface == u.unk_surface &&
               t.unk_piece == u.unk_piece && t.bos_piece == u.bos_piece && t.eos_piece == u.eos_piece &&
               t.pad_piece == u.pad_piece);
    FUZZ_CHECK(same_normalizer(m.normalizer, again.normalizer));
    FUZZ_CHECK(m.denormalizer.has_value() == again.denormalizer.has_value());
    if (m.denormalizer) FUZZ_CHECK(same_normalizer(*m.denormalizer, *again.denormalizer));
    FUZZ_CHECK(m.self_test.size() == again.self_test.size());
    for (std::size_t i = 0; i < m.self_test.size(); ++i)
        FUZZ_CHECK(m.self_test[i].input == again.self_test[i].input &&
                   m.self_test[i].expected == again.self_test[i].expected);
    return 0;
}
