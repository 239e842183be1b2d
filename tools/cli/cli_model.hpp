// SPDX-License-Identifier: Apache-2.0
// The model file behind `-m MODEL`: BytePiece (JSON or binary), SentencePiece or a Hugging Face
// tokenizer.json, told apart by its content; the commands' SentencePiece mode, which prints
// what spm_encode and spm_decode print, and their tokenizer.json mode, line by line too.
#pragma once

#include <bytepiece/hf_tokenizer.hpp>
#include <bytepiece/model_file.hpp>
#include <bytepiece/sentencepiece_tokenizer.hpp>
#include <bytepiece/tokenizer.hpp>

#include <string>
#include <vector>

#include "cli.hpp"

namespace bytepiece_cli {

/// A model file named on the command line, opened once. Its format comes from its first bytes,
/// never from its name. A file that is not a regular one (a pipe, `<(...)`, /dev/stdin) can be
/// read only once, so it is read whole here and every loader works on those bytes.
///
/// Example:
///     model_file m(path);
///     if (m.is_sentencepiece()) use(m.sentencepiece());
///     else use(m.bytepiece(options));
class model_file {
public:
    /// Opens `path` and tells its format; throws `bytepiece::io_error` naming it.
    explicit model_file(std::string path);

    const std::string& path() const noexcept { return path_; }
    bytepiece::model_file_format format() const noexcept { return format_; }
    bool is_sentencepiece() const noexcept { return format_ == bytepiece::model_file_format::sentencepiece; }
    bool is_huggingface() const noexcept { return format_ == bytepiece::model_file_format::huggingface; }

    /// The BytePiece tokenizer of a JSON or binary model; any other format is refused by the
    /// library's loader, which names what the file is.
    bytepiece::tokenizer bytepiece(const bytepiece::encode_options& options = {}) const;

    /// The BytePiece model alone, without building a tokenizer's trie (for `info`).
    bytepiece::model bytepiece_model() const;

    /// The SentencePiece model (checked as SentencePiece checks it when loading); a BPE, WORD
    /// or CHAR model is `model_error` `model_not_unigram`.
    bytepiece::sentencepiece_model sentencepiece_model() const;

    /// The tokenizer of a SentencePiece unigram model.
    bytepiece::sentencepiece_tokenizer sentencepiece() const;

    /// The tokenizer of a tokenizer.json with a Unigram model.
    bytepiece::hf_tokenizer huggingface() const;

private:
    std::string path_;
    bytepiece::model_file_format format_ = bytepiece::model_file_format::unknown;
    bool whole_ = false;  // `bytes_` holds the whole file (it cannot be read twice)
    std::string bytes_;
};

/// The usage error for an option that a SentencePiece model does not support, naming it.
usage_error not_for_sentencepiece(const std::string& option, const std::string& why);

/// `encode` (or `tokenize`, with `pieces`) of a SentencePiece model: each input line, without
/// its `\n`, gives one output line of ids (or pieces) separated by single spaces, exactly what
/// `spm_encode --output_format=id` (or `piece`) prints; with `bos` / `eos`, the model's `<s>` /
/// `</s>` first / last on every line, as `--extra_options=bos:eos`. Returns the exit status.
int sentencepiece_encode(const model_file& model, const std::vector<std::string>& files, bool pieces, bool bos, bool eos);

/// `encode` (or `tokenize`, with `pieces`) of a tokenizer.json: each input line, without its
/// `\n`, gives one output line of ids (or escaped tokens) separated by single spaces, as HF
/// tokenizers' `encode(line, add_special_tokens = add_special)`. Returns the exit status.
int huggingface_encode(const model_file& model, const std::vector<std::string>& files, bool pieces, bool add_special);

/// `decode` of a tokenizer.json: each line of ids gives HF's `decode(ids, skip_special)` and a
/// `\n`. Returns the exit status.
int huggingface_decode(const model_file& model, const std::vector<std::string>& files, bool skip_special);

/// `decode` of a SentencePiece model: each line of ids gives its text and a `\n`, exactly
/// what `spm_decode --input_format=id` prints. Returns the exit status.
int sentencepiece_decode(const model_file& model, const std::vector<std::string>& files);

}  // namespace bytepiece_cli
