// SPDX-License-Identifier: Apache-2.0
// `bytepiece info`: what a model file holds, and with --vocab its whole vocabulary.
#include <bytepiece/detail/binary_model.hpp>
#include <bytepiece/detail/utf8.hpp>
#include <bytepiece/model.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli.hpp"

namespace bytepiece_cli {
namespace {

// The first bytes of the file, enough to tell the binary format by its magic. The model is
// loaded by the library afterwards, which reports any error with the file's name.
std::string head_of(const std::string& path) {
    std::string head(sizeof bytepiece::detail::binary_format::magic, '\0');
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw failure(path + ": cannot open: " + std::strerror(errno));
    head.resize(std::fread(&head[0], 1, head.size(), f));
    std::fclose(f);
    return head;
}

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

int run_info(std::vector<std::string>& argv) {
    arguments args(argv);
    std::string path = args.value({"-m", "--model"});
    const bool vocab = args.flag({"--vocab"});
    const std::vector<std::string> files = args.positional();
    if (path.empty() && files.size() == 1) path = files[0];
    else if (!files.empty()) throw usage_error("one MODEL only; '" + files.back() + "' is one too many");
    if (path.empty()) throw usage_error("missing MODEL (info MODEL, or info -m MODEL)");

    const bool binary = bytepiece::detail::binary_format::has_magic(head_of(path));
    const auto m = bytepiece::model::load(path);
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
    "With --vocab it prints the vocabulary instead, one piece per line in id order, like\n"
    "SentencePiece's spm_export_vocab: the id, a tab, the piece escaped as 'tokenize' writes it\n"
    "(\\\\ a backslash, \\s a space, \\n \\t \\r, \\xHH a byte outside valid UTF-8) and, here\n"
    "also, \\xHH for the other ASCII control characters (NUL ... US, DEL), a tab, its score\n"
    "as the shortest decimal that reads back exactly, a tab, and its count. The special ids\n"
    "0-2 have no piece and are not listed.\n\n"
    "options:\n"
    "  -m, --model MODEL  the model file (or the plain argument)\n"
    "  --vocab            list the vocabulary\n"
    "  -h, --help         this text\n",
    [](std::vector<std::string>& a) { return run_info(a); }});

}  // namespace
}  // namespace bytepiece_cli
