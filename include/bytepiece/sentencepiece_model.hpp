// SPDX-License-Identifier: Apache-2.0
//
// A SentencePiece `.model` file (a protobuf ModelProto) as plain data, read and written without
// libprotobuf. This is the SentencePiece front end's model; `sentencepiece_tokenizer` encodes
// with it on the same automaton and Viterbi as BytePiece models.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bytepiece/errors.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// A SentencePiece NormalizerSpec: how text is normalized before segmentation, with proto2's
/// defaults (declared outside `sentencepiece_model` so that `std::optional` of it works with
/// every compiler; `sentencepiece_model::normalizer_spec` names it too).
///
/// Example: `bytepiece::sentencepiece_normalizer_spec spec; spec.add_dummy_prefix = false;`
struct sentencepiece_normalizer_spec {
    std::string name;                  ///< a label only (`nmt_nfkc`, `identity`, ...)
    std::string precompiled_charsmap;  ///< the rules: a darts-clone trie plus replacements
    bool add_dummy_prefix = true;
    bool remove_extra_whitespaces = true;
    bool escape_whitespaces = true;
    std::string normalization_rule_tsv;  ///< the rules as text, when the trainer kept them
};

/// The fields of a SentencePiece ModelProto that decide how text is encoded and decoded, with
/// proto2's defaults for absent fields (three normalizer flags default to true). Fields that
/// only record how the model was trained are skipped when reading and not written back.
///
/// Example: `auto m = bytepiece::sentencepiece_model::load("spiece.model"); m.pieces.size();`
class sentencepiece_model {
public:
    /// What a piece is (ModelProto.SentencePiece.Type); the numbers are the protobuf's.
    enum class piece_type : std::uint8_t { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

    /// The segmentation algorithm (TrainerSpec.ModelType); only `unigram` can be encoded here.
    enum class algorithm : std::int32_t { unigram = 1, bpe = 2, word = 3, character = 4 };

    /// One vocabulary entry; its id is its position in `pieces`.
    struct piece_entry {
        std::string text;  ///< the piece's bytes (UTF-8, spaces written as U+2581)
        float score = 0;
        piece_type type = piece_type::normal;
    };

    /// NormalizerSpec: how text is normalized before segmentation.
    using normalizer_spec = sentencepiece_normalizer_spec;

    /// The TrainerSpec fields that matter to encoding, decoding and export.
    struct trainer_spec {
        algorithm model_type = algorithm::unigram;
        std::int32_t vocab_size = 8000;
        bool treat_whitespace_as_suffix = false;
        bool byte_fallback = false;
        std::int32_t unk_id = 0;
        std::int32_t bos_id = 1;
        std::int32_t eos_id = 2;
        std::int32_t pad_id = -1;
        std::string unk_surface = " \xE2\x81\x87 ";  ///< what `decode` writes for the unknown id
        std::string unk_piece = "<unk>";
        std::string bos_piece = "<s>";
        std::string eos_piece = "</s>";
        std::string pad_piece = "<pad>";
    };

    /// One self-test sample: loading encodes `input` and requires the pieces, joined by
    /// spaces, to equal `expected`.
    struct self_test_sample {
        std::string input;
        std::string expected;
    };

    std::vector<piece_entry> pieces;
    trainer_spec trainer;
    normalizer_spec normalizer;
    /// Used by decoding only, and only when its charsmap is not empty.
    std::optional<normalizer_spec> denormalizer;
    std::vector<self_test_sample> self_test;

    /// Reads a `.model` file and checks it as SentencePiece does when loading (see `check`).
    /// Throws `io_error` if it cannot be read, `model_error` with `model_proto_malformed`
    /// (naming the file, the field and the byte offset) if the bytes are not a ModelProto,
    /// `model_not_unigram` for a BPE, WORD or CHAR model, `model_sentencepiece_invalid` if a
    /// check fails.
    ///
    /// Example: `auto m = bytepiece::sentencepiece_model::load("albert/30k-clean.model");`
    static sentencepiece_model load(const std::string& path);

    /// Like `load`, from the file's bytes already in memory; `source` names them in errors.
    ///
    /// Example: `auto m = bytepiece::sentencepiece_model::parse(bytes, "download");`
    static sentencepiece_model parse(std::string_view bytes, std::string_view source = "<memory>");

    /// SentencePiece's load checks: pieces non-empty; no string twice among the NORMAL,
    /// USER_DEFINED and UNUSED pieces, nor among the UNKNOWN, CONTROL and BYTE pieces; exactly
    /// one UNKNOWN piece; BYTE pieces spelled `<0xXX>`, only with byte fallback, and then all
    /// 256 of them; at least one NORMAL, USER_DEFINED or UNUSED piece; `model_type` unigram.
    /// Throws `model_error` naming `source` and the piece at fault.
    ///
    /// Example: `m.pieces.push_back({"x", -3.0f}); m.check("edited");`
    void check(std::string_view source = "<memory>") const;

    /// The ModelProto bytes of this model: what `save` writes and `parse` reads back to an
    /// equal model. Absent optional fields are written explicitly.
    ///
    /// Example: `std::string bytes = m.serialize();`
    std::string serialize() const;

    /// Writes `serialize()` to `path` without ever leaving a partial file (a temporary file
    /// beside it, then a rename). Throws `io_error`.
    ///
    /// Example: `m.save("exported.model");`
    void save(const std::string& path) const;

    /// The id of the one UNKNOWN piece (after `check`, there is exactly one).
    ///
    /// Example: `auto unk = m.unknown_id();`
    std::size_t unknown_id() const noexcept {
        for (std::size_t i = 0; i < pieces.size(); ++i)
            if (pieces[i].type == piece_type::unknown) return i;
        return 0;
    }
};

BYTEPIECE_NAMESPACE_END

// Reading and writing the protobuf wire format.
#include "bytepiece/detail/sentencepiece_read.hpp"
#include "bytepiece/detail/sentencepiece_write.hpp"
