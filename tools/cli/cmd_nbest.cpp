// SPDX-License-Identifier: Apache-2.0
// `bytepiece nbest`: the k best segmentations of every chunk.
#include <bytepiece/lattice.hpp>
#include <bytepiece/tokenizer.hpp>

#include <charconv>
#include <cstdint>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli_model.hpp"

namespace bytepiece_cli {
namespace {

// Shortest decimal that reads back as the same double (std::to_chars), so scores are exact
// and identical on every platform.
void put_double(double x, output& out) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, x);
    out.put(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
}

int run_nbest(std::vector<std::string>& argv) {
    arguments args(argv);
    const std::string model = args.value({"-m", "--model"});
    const std::string k_text = args.value({"-k", "--k"}, "5");
    const bool raw = args.flag({"--raw"});
    const bool pieces = args.flag({"--pieces"});
    std::vector<std::string> files = args.positional();
    if (model.empty()) throw usage_error("missing -m MODEL");
    if (files.empty()) files.push_back("-");
    const auto k = static_cast<std::size_t>(parse_integer(k_text, "-k", 1, 1000000));
    bytepiece::encode_options eo;
    eo.normalize = !raw;
    const model_file file(model);
    if (file.is_huggingface())
        throw usage_error("nbest does not support tokenizer.json files (" + model + " is one); 'encode' gives their best segmentation");
    if (file.is_sentencepiece())
        throw usage_error("nbest does not support SentencePiece models yet (" + model + " is one); 'encode' gives their best segmentation");
    const auto tok = file.bytepiece(eo);
    output out;
    std::string normalized;
    for (const auto& file : files) {
        for_each_block(file, [&](std::string_view block) {
            bytepiece::for_each_chunk(tok.normalized_view(block, normalized), [&](std::string_view chunk) {
                // The chunk is already normalized and NFC is idempotent, so nbest sees it as is.
                // Each segmentation is written as it comes: k full id lists never coexist.
                tok.nbest(chunk, k, [&](const bytepiece::scored_segmentation<std::uint32_t>& seg) {
                    put_double(seg.score, out);
                    out.put('\t');
                    for (std::size_t i = 0; i < seg.ids.size(); ++i) {
                        // As a string_view, so that the buffer is flushed inside a long line.
                        if (i) out.put(std::string_view(" ", 1));
                        if (pieces) append_escaped(tok.model().piece(seg.ids[i]), out);
                        else out.put_uint(seg.ids[i]);
                    }
                    out.put('\n');
                });
                out.put('\n');
            });
        });
    }
    return 0;
}

const registrar nbest_command("nbest", {
    "print the k best segmentations of each chunk with their scores",
    "usage: bytepiece nbest -m MODEL [-k K] [--pieces] [--raw] [FILE...]\n\n"
    "For each chunk of each FILE (standard input when none; a chunk is a line of text together\n"
    "with the newlines after it), prints its K highest-scoring segmentations, best first, one\n"
    "per line: the score (sum of the pieces' log-probabilities, as the shortest decimal that\n"
    "reads back exactly), a tab, and the ids separated by single spaces (with --pieces, the\n"
    "pieces escaped as 'tokenize' does). A chunk with fewer than K segmentations prints them all;\n"
    "an empty line ends each chunk's list. The first line of each list is 'encode''s result.\n\n"
    "options:\n"
    "  -m, --model MODEL  model file (BytePiece JSON, or binary from convert; SentencePiece models\n"
    "                     are refused for now)\n"
    "  -k K               how many segmentations per chunk, 1 to 1000000 (default 5)\n"
    "  --pieces           print escaped pieces instead of ids\n"
    "  --raw              do not normalize: segment the input bytes as they are\n"
    "  -h, --help         this text\n",
    [](std::vector<std::string>& a) { return run_nbest(a); }});

}  // namespace
}  // namespace bytepiece_cli
