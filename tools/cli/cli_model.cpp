// SPDX-License-Identifier: Apache-2.0
// Opening `-m MODEL` by content, and `encode`, `tokenize` and `decode` of SentencePiece models
// line by line, as spm_encode and spm_decode do.
#include "cli_model.hpp"

#include <bytepiece/detail/binary_model.hpp>
#include <bytepiece/detail/file.hpp>
#include <bytepiece/detail/model_format.hpp>
#include <bytepiece/detail/utf8.hpp>

#include <cstddef>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/stat.h>

namespace bytepiece_cli {

model_file::model_file(std::string path) : path_(std::move(path)) {
    struct stat st {};
    // A name that cannot be stat'ed is left to the loader's open, whose error names it.
    whole_ = ::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
    if (whole_) {
        bytes_ = bytepiece::detail::read_file(path_);
        format_ = bytepiece::model_file_format_of_bytes(bytes_);
    } else {
        format_ = bytepiece::detect_model_file_format(path_);
    }
}

bytepiece::tokenizer model_file::bytepiece(const bytepiece::encode_options& options) const {
    if (!whole_) return bytepiece::tokenizer::load(path_, options);
    // What tokenizer::load does with a file's bytes, on the bytes already read.
    if (format_ == bytepiece::model_file_format::bytepiece_binary)
        return bytepiece::tokenizer::from_binary(bytes_, path_, options);
    return bytepiece::tokenizer(bytepiece_model(), options);
}

bytepiece::model model_file::bytepiece_model() const {
    if (!whole_) return bytepiece::model::load(path_);
    if (format_ == bytepiece::model_file_format::bytepiece_binary)
        return bytepiece::detail::binary_model_access::read<bytepiece::model>(bytes_, path_).first;
    // What model::load does with a file's bytes, on the bytes already read.
    if (const auto f = bytepiece::detail::sniff_foreign_format(bytes_); !f.what.empty())
        throw bytepiece::model_error(bytepiece::errc::model_wrong_format,
                                     path_ + ": this is " + std::string(f.what) + ", not a BytePiece model; " + std::string(f.hint));
    return bytepiece::model::from_json(bytes_, path_);
}

bytepiece::sentencepiece_model model_file::sentencepiece_model() const {
    return whole_ ? bytepiece::sentencepiece_model::parse(bytes_, path_) : bytepiece::sentencepiece_model::load(path_);
}

bytepiece::sentencepiece_tokenizer model_file::sentencepiece() const {
    if (!whole_) return bytepiece::sentencepiece_tokenizer::load(path_);
    return bytepiece::sentencepiece_tokenizer(bytepiece::sentencepiece_model::parse(bytes_, path_), path_);
}

bytepiece::hf_tokenizer model_file::huggingface() const {
    if (!whole_) return bytepiece::hf_tokenizer::load(path_);
    return bytepiece::hf_tokenizer::from_json(bytes_, path_);
}

usage_error not_for_sentencepiece(const std::string& option, const std::string& why) {
    return usage_error(option + " is not available with a SentencePiece model: " + why);
}

namespace {

// The id of the model's `<s>` or `</s>` (whatever its trainer spec names them), as
// SentencePiece looks it up for `--extra_options=bos:eos`; a usage error naming `option` when
// the model has no such piece (ALBERT has neither), where spm_encode stops with an error too.
std::optional<std::uint32_t> special_id(const bytepiece::sentencepiece_tokenizer& tok, bool wanted, const std::string& piece,
                                        const std::string& option, const std::string& path) {
    if (!wanted) return std::nullopt;
    const auto id = tok.piece_to_id(piece);
    if (!id || *id == tok.model().unknown_id())
        throw usage_error(option + ": the SentencePiece model " + path + " has no piece '" + piece + "' to add");
    return id;
}

}  // namespace

int sentencepiece_encode(const model_file& model, const std::vector<std::string>& files, bool pieces, bool bos, bool eos) {
    const auto tok = model.sentencepiece();
    const auto bos_id = special_id(tok, bos, tok.model().trainer.bos_piece, "--bos", model.path());
    const auto eos_id = special_id(tok, eos, tok.model().trainer.eos_piece, "--eos", model.path());
    output out;
    // The lines of one block read, encoded together by encode_texts (several times faster than
    // one encode per line): `batch` holds their bytes, `ends` where each ends.
    std::string batch;
    std::vector<std::size_t> ends;
    std::vector<std::string_view> views;
    const auto put_ids = [&](std::size_t, const std::uint32_t* ids, std::size_t n) {
        if (bos_id) out.put_uint(*bos_id);
        for (std::size_t i = 0; i < n; ++i) {
            if (i || bos_id) out.put(std::string_view(" ", 1));  // a string_view: flushes inside a huge line
            out.put_uint(ids[i]);
        }
        if (eos_id) {
            if (n || bos_id) out.put(' ');
            out.put_uint(*eos_id);
        }
        out.put('\n');
    };
    const auto encode_batch = [&] {
        views.clear();
        for (std::size_t i = 0, start = 0; i < ends.size(); start = ends[i++])
            views.push_back(std::string_view(batch).substr(start, ends[i] - start));
        tok.encode_texts(views.data(), views.size(), put_ids);
        batch.clear();
        ends.clear();
    };
    for (const auto& file : files) {
        input_file in(file);
        // spm_encode reads with std::getline: only \n ends a line, a \r before it stays text,
        // NUL bytes are text, and a last line without \n is a line. for_each_line agrees.
        for_each_line(
            in,
            [&](std::string_view line, std::size_t) {
                if (!pieces) {
                    batch.append(line);
                    ends.push_back(batch.size());
                    return;
                }
                // Pieces as SentencePiece prints them: joined by one space, unescaped (an
                // unknown piece is its text, not `<unk>`).
                auto list = tok.tokenize(line);
                if (bos_id) list.insert(list.begin(), std::string(tok.id_to_piece(*bos_id)));
                if (eos_id) list.emplace_back(tok.id_to_piece(*eos_id));
                for (std::size_t i = 0; i < list.size(); ++i) {
                    if (i) out.put(std::string_view(" ", 1));
                    out.put(list[i]);
                }
                out.put('\n');
            },
            [&] {
                // After each block read: a co-process gets the answers to what it sent.
                encode_batch();
                if (in.interactive()) out.flush();
            });
    }
    out.finish();
    return 0;
}

int huggingface_encode(const model_file& model, const std::vector<std::string>& files, bool pieces, bool add_special) {
    const auto tok = model.huggingface();
    output out;
    std::string batch;
    std::vector<std::size_t> ends;
    std::vector<std::string_view> views;
    std::vector<std::string> tokens;
    const auto put_ids = [&](std::size_t, const std::uint32_t* ids, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            if (i) out.put(std::string_view(" ", 1));  // a string_view: flushes inside a huge line
            out.put_uint(ids[i]);
        }
        out.put('\n');
    };
    const auto encode_batch = [&] {
        views.clear();
        for (std::size_t i = 0, start = 0; i < ends.size(); start = ends[i++])
            views.push_back(std::string_view(batch).substr(start, ends[i] - start));
        tok.encode_texts(views.data(), views.size(), put_ids, add_special);
        batch.clear();
        ends.clear();
    };
    for (const auto& file : files) {
        input_file in(file);
        for_each_line(
            in,
            [&](std::string_view line, std::size_t line_no) {
                if (!bytepiece::detail::utf8::is_valid(line))
                    throw failure((file == "-" ? std::string("<stdin>") : file) + ":" + std::to_string(line_no) +
                                  ": the line is not valid UTF-8, which a tokenizer.json cannot encode");
                if (!pieces) {
                    batch.append(line);
                    ends.push_back(batch.size());
                    return;
                }
                // Tokens as HF gives them, escaped as for BytePiece models (added tokens may
                // hold spaces).
                tokens = tok.tokenize(line, add_special);
                for (std::size_t i = 0; i < tokens.size(); ++i) {
                    if (i) out.put(std::string_view(" ", 1));
                    append_escaped(tokens[i], out);
                }
                out.put('\n');
            },
            [&] {
                encode_batch();
                if (in.interactive()) out.flush();
            });
    }
    out.finish();
    return 0;
}

int huggingface_decode(const model_file& model, const std::vector<std::string>& files, bool skip_special) {
    const auto tok = model.huggingface();
    output out;
    std::vector<std::uint32_t> ids;
    for (const auto& file : files) {
        input_file in(file);
        for_each_line(
            in,
            [&](std::string_view line, std::size_t line_no) {
                parse_id_line(line, file, line_no, tok.vocab_size(), ids);
                out.put(tok.decode(ids, skip_special));
                out.put('\n');
            },
            [&] {
                if (in.interactive()) out.flush();
            });
    }
    out.finish();
    return 0;
}

int sentencepiece_decode(const model_file& model, const std::vector<std::string>& files) {
    const auto tok = model.sentencepiece();
    output out;
    std::vector<std::uint32_t> ids;
    for (const auto& file : files) {
        input_file in(file);
        for_each_line(
            in,
            [&](std::string_view line, std::size_t line_no) {
                // Stricter than spm_decode, which reads each space-separated field with atoi
                // (so "x" is id 0): here anything but an id is an error naming the line.
                parse_id_line(line, file, line_no, tok.vocab_size(), ids);
                out.put(tok.decode(ids));
                out.put('\n');
            },
            [&] {
                if (in.interactive()) out.flush();
            });
    }
    out.finish();
    return 0;
}

}  // namespace bytepiece_cli
