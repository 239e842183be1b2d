// SPDX-License-Identifier: Apache-2.0
// `bytepiece info`: what a model file holds, and with --vocab its whole vocabulary.
#include <bytepiece/detail/binary_model.hpp>
#include <bytepiece/sentencepiece_model.hpp>
#include <bytepiece/detail/utf8.hpp>
#include <bytepiece/model.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli_model.hpp"

namespace bytepiece_cli {
namespace {

bool valid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        const auto d = bytepiece::detail::utf8::decode(p, end);
        if (d.cp == bytepiece::detail::utf8::invalid) return false;
        p += d.length;
    }
    return true;
}

// Shortest decimal that reads back as the same double, as `nbest` prints scores.
void put_double(double x, output& out) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, x);
    out.put(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
}

const char* type_name(bytepiece::sentencepiece_model::piece_type t) {
    using type = bytepiece::sentencepiece_model::piece_type;
    switch (t) {
        case type::normal: return "normal";
        case type::unknown: return "unknown";
        case type::control: return "control";
        case type::user_defined: return "user_defined";
        case type::unused: return "unused";
        case type::byte: return "byte";
    }
    return "?";
}

// A float score as the shortest decimal that reads back as the same float.
void put_float(float x, output& out) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, x);
    out.put(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
}

void put_int(std::int64_t v, output& out) {
    if (v < 0) out.put('-');
    out.put_uint(v < 0 ? 0 - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v));
}

void put_flag(const char* name, bool v, output& out) {
    out.put(name);
    out.put(v ? "true\n" : "false\n");
}

// `info` of a SentencePiece model: what decides its encoding and decoding.
int sentencepiece_info(const model_file& file, bool vocab) {
    using type = bytepiece::sentencepiece_model::piece_type;
    const auto m = file.sentencepiece_model();
    output out;
    if (vocab) {
        for (std::size_t id = 0; id < m.pieces.size(); ++id) {
            out.put_uint(id);
            out.put('\t');
            append_escaped(m.pieces[id].text, out, true);
            out.put('\t');
            put_float(m.pieces[id].score, out);
            out.put('\t');
            out.put(type_name(m.pieces[id].type));
            out.put('\n');
        }
        out.finish();
        return 0;
    }
    std::size_t counts[7] = {};
    bool any_normal = false;
    float lowest = 0, highest = 0;
    for (const auto& p : m.pieces) {
        const auto t = static_cast<std::size_t>(p.type);
        if (t < 7) ++counts[t];
        if (p.type != type::normal) continue;
        lowest = any_normal ? std::min(lowest, p.score) : p.score;
        highest = any_normal ? std::max(highest, p.score) : p.score;
        any_normal = true;
    }
    out.put("file: ");
    out.put(file.path());
    out.put("\nformat: sentencepiece\nmodel_type: unigram\nvocab_size: ");
    out.put_uint(m.pieces.size());
    out.put('\n');
    for (const type t : {type::normal, type::unknown, type::control, type::user_defined, type::unused, type::byte}) {
        out.put("pieces_");
        out.put(type_name(t));
        out.put(": ");
        out.put_uint(counts[static_cast<std::size_t>(t)]);
        out.put('\n');
    }
    out.put("unknown_id: ");
    out.put_uint(m.unknown_id());
    out.put("\nbos_id: ");
    put_int(m.trainer.bos_id, out);
    out.put("\neos_id: ");
    put_int(m.trainer.eos_id, out);
    out.put("\npad_id: ");
    put_int(m.trainer.pad_id, out);
    out.put("\nnormal_score_range: ");
    if (any_normal) {
        put_float(lowest, out);
        out.put(' ');
        put_float(highest, out);
    } else {
        out.put("none");
    }
    out.put("\nnormalizer: ");
    out.put(m.normalizer.name.empty() ? std::string_view("(unnamed)") : std::string_view(m.normalizer.name));
    out.put("\ncharsmap_bytes: ");
    out.put_uint(m.normalizer.precompiled_charsmap.size());
    out.put('\n');
    put_flag("add_dummy_prefix: ", m.normalizer.add_dummy_prefix, out);
    put_flag("remove_extra_whitespaces: ", m.normalizer.remove_extra_whitespaces, out);
    put_flag("escape_whitespaces: ", m.normalizer.escape_whitespaces, out);
    put_flag("treat_whitespace_as_suffix: ", m.trainer.treat_whitespace_as_suffix, out);
    put_flag("byte_fallback: ", m.trainer.byte_fallback, out);
    out.put("denormalizer_charsmap_bytes: ");
    out.put_uint(m.denormalizer ? m.denormalizer->precompiled_charsmap.size() : 0);
    out.put("\nself_test_samples: ");
    out.put_uint(m.self_test.size());
    out.put('\n');
    out.finish();
    return 0;
}

// `info` of a tokenizer.json: its size, and with --vocab every id's token.
int huggingface_info(const model_file& file, bool vocab) {
    const auto tok = file.huggingface();
    output out;
    if (vocab) {
        for (std::size_t id = 0; id < tok.vocab_size(); ++id) {
            out.put_uint(id);
            out.put('\t');
            append_escaped(tok.id_to_token(static_cast<std::uint32_t>(id)), out, true);
            out.put('\n');
        }
        out.finish();
        return 0;
    }
    out.put("file: ");
    out.put(file.path());
    out.put("\nformat: huggingface\nmodel_type: unigram\nvocab_size: ");
    out.put_uint(tok.vocab_size());
    out.put('\n');
    out.finish();
    return 0;
}

int run_info(std::vector<std::string>& argv) {
    arguments args(argv);
    std::string path = args.value({"-m", "--model"});
    const bool vocab = args.flag({"--vocab"});
    const std::vector<std::string> files = args.positional();
    if (path.empty() && files.size() == 1) path = files[0];
    else if (!files.empty()) throw usage_error("one MODEL only; '" + files.back() + "' is one too many");
    if (path.empty()) throw usage_error("missing MODEL (info MODEL, or info -m MODEL)");

    const model_file file(path);
    if (file.is_sentencepiece()) return sentencepiece_info(file, vocab);
    if (file.is_huggingface()) return huggingface_info(file, vocab);
    const bool binary = file.format() == bytepiece::model_file_format::bytepiece_binary;
    const auto m = file.bytepiece_model();
    using id_type = bytepiece::model::id_type;
    output out;
    if (vocab) {
        for (std::size_t id = bytepiece::model::first_piece_id; id < m.vocab_size(); ++id) {
            const auto i = static_cast<id_type>(id);
            out.put_uint(id);
            out.put('\t');
            append_escaped(m.piece(i), out, true);
            out.put('\t');
            put_double(m.score(i), out);
            out.put('\t');
            out.put_uint(m.count(i));
            out.put('\n');
        }
        out.finish();
        return 0;
    }
    std::size_t not_utf8 = 0;
    // A loaded model holds at least the 256 single bytes, so the range has a first piece.
    double lowest = m.score(bytepiece::model::first_piece_id), highest = lowest;
    for (std::size_t id = bytepiece::model::first_piece_id; id < m.vocab_size(); ++id) {
        const auto i = static_cast<id_type>(id);
        if (m.piece(i).size() > 1 && !valid_utf8(m.piece(i))) ++not_utf8;
        lowest = std::min<double>(lowest, m.score(i));
        highest = std::max<double>(highest, m.score(i));
    }
    out.put("file: ");
    out.put(path);
    out.put("\nformat: ");
    if (binary) {
        out.put("binary, version ");
        out.put_uint(bytepiece::detail::binary_format::version);
    } else {
        out.put("json");
    }
    out.put("\nvocab_size: ");
    out.put_uint(m.vocab_size());
    out.put("\npieces: ");
    out.put_uint(m.piece_count());
    out.put("\nspecial_ids: 0 <pad>, 1 <bos>, 2 <eos>\ntotal_count: ");
    out.put_uint(m.total_count());
    out.put("\nmax_piece_bytes: ");
    out.put_uint(m.max_piece_length());
    out.put("\nscore_range: ");
    put_double(lowest, out);
    out.put(" ");
    put_double(highest, out);
    out.put("\nmultibyte_pieces_not_utf8: ");
    out.put_uint(not_utf8);
    out.put('\n');
    out.finish();
    return 0;
}

const registrar info_command("info", {
    "describe a model file, or list its vocabulary",
    "usage: bytepiece info [-m] MODEL [--vocab]\n\n"
    "Prints what MODEL holds, one 'name: value' line each:\n"
    "  file                       the file name as given\n"
    "  format                     'json' (BytePiece's own) or 'binary, version N' (from convert)\n"
    "  vocab_size                 the number of ids, the three special ids included\n"
    "  pieces                     the number of pieces (ids 3 .. vocab_size-1)\n"
    "  special_ids                the ids that carry no piece\n"
    "  total_count                the sum of the pieces' counts\n"
    "  max_piece_bytes            the length of the longest piece, in bytes\n"
    "  score_range                the lowest and highest score (ln(count / total_count))\n"
    "  multibyte_pieces_not_utf8  pieces longer than one byte that are not valid UTF-8\n"
    "                             (0 for models trained with ensure_unicode)\n\n"
    "A SentencePiece unigram .model (told by its content) gives instead: file, 'format:\n"
    "sentencepiece', model_type, vocab_size (the number of ids), pieces_normal, pieces_unknown,\n"
    "pieces_control, pieces_user_defined, pieces_unused and pieces_byte (how many of each type),\n"
    "unknown_id, bos_id, eos_id and pad_id (-1: none), normal_score_range (over the normal\n"
    "pieces), normalizer (the rule set's name), charsmap_bytes (the size of its compiled\n"
    "rules, 0 for identity), the flags add_dummy_prefix, remove_extra_whitespaces,\n"
    "escape_whitespaces, treat_whitespace_as_suffix and byte_fallback, denormalizer_charsmap_bytes\n"
    "and self_test_samples. Its --vocab lists every id from 0: the id, the piece escaped as\n"
    "below, its score (the shortest decimal that reads back as the same float) and its type.\n\n"
    "With --vocab it prints the vocabulary instead, one piece per line in id order, like\n"
    "SentencePiece's spm_export_vocab: the id, a tab, the piece escaped as 'tokenize' writes it\n"
    "(\\\\ a backslash, \\s a space, \\n \\t \\r, \\xHH a byte outside valid UTF-8) and, here\n"
    "also, \\xHH for the other ASCII control characters (NUL ... US, DEL), a tab, its score\n"
    "as the shortest decimal that reads back exactly, a tab, and its count. The special ids\n"
    "0-2 have no piece and are not listed.\n\n"
    "options:\n"
    "  -m, --model MODEL  the model file (or the plain argument): BytePiece JSON or binary, or\n"
    "                     SentencePiece .model\n"
    "  --vocab            list the vocabulary\n"
    "  -h, --help         this text\n",
    [](std::vector<std::string>& a) { return run_info(a); }});

}  // namespace
}  // namespace bytepiece_cli
