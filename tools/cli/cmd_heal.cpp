// SPDX-License-Identifier: Apache-2.0
// `bytepiece heal`: token healing of prompts, with the prefix-constrained candidates.
#include <bytepiece/hf_token_healing.hpp>
#include <bytepiece/sentencepiece_token_healing.hpp>
#include <bytepiece/token_healing.hpp>
#include <bytepiece/tokenizer.hpp>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "cli.hpp"
#include "cli_model.hpp"

namespace bytepiece_cli {
namespace {

struct heal_options {
    bool pieces = false;
    bool candidates = false;
    bool whole = false;
};

// Heals every prompt of `files` with `healer`; `piece(id)` spells an id for --pieces.
template <class Healer, class Piece>
void heal_files(const Healer& healer, Piece piece, const std::vector<std::string>& files, const heal_options& o) {
    output out;
    const auto put_ids = [&](const std::vector<std::uint32_t>& ids) {
        for (std::size_t i = 0; i < ids.size(); ++i) {
            if (i) out.put(std::string_view(" ", 1));
            if (o.pieces) append_escaped(piece(ids[i]), out);
            else out.put_uint(ids[i]);
        }
    };
    const auto heal_one = [&](std::string_view prompt) {
        const auto h = healer.heal(prompt);
        put_ids(h.ids);
        out.put('\t');
        put_ids(h.removed_ids);
        out.put('\t');
        append_escaped(h.remainder, out);
        if (o.candidates) {
            out.put('\t');
            put_ids(healer.starting_with(h.remainder));
            out.put('\t');
            put_ids(healer.prefixes_of(h.remainder));
        }
        if constexpr (std::is_same_v<std::decay_t<decltype(h)>, bytepiece::hf_healed_prompt>) {
            out.put('\t');
            append_escaped(h.text_remainder, out);
        }
        out.put('\n');
    };
    for (const auto& name : files) {
        input_file in(name);
        if (o.whole) {
            std::string text;
            for_each_raw_block(in, std::size_t{1} << 20, [&](std::string_view block) { text.append(block); });
            heal_one(text);
            continue;
        }
        for_each_line(
            in, [&](std::string_view line, std::size_t) { heal_one(line); },
            [&] {
                if (in.interactive()) out.flush();
            });
    }
    out.finish();
}

int run_heal(std::vector<std::string>& argv) {
    arguments args(argv);
    const std::string model = args.value({"-m", "--model"});
    const bool raw = args.flag({"--raw"});
    heal_options o;
    o.pieces = args.flag({"--pieces"});
    o.candidates = args.flag({"--candidates"});
    o.whole = args.flag({"--whole"});
    std::vector<std::string> files = args.positional();
    if (model.empty()) throw usage_error("missing -m MODEL");
    if (files.empty()) files.push_back("-");
    const model_file file(model);
    if (file.is_huggingface()) {
        if (raw) throw usage_error("--raw is not available with a tokenizer.json: it always normalizes as the file says");
        const auto hf = file.huggingface();
        const bytepiece::hf_token_healer healer(hf);
        heal_files(healer, [&](std::uint32_t id) { return hf.id_to_token(id); }, files, o);
        return 0;
    }
    if (file.is_sentencepiece()) {
        if (raw) throw not_for_sentencepiece("--raw", "it always normalizes as the model says");
        const auto sp = file.sentencepiece();
        const bytepiece::sentencepiece_token_healer healer(sp);
        heal_files(healer, [&](std::uint32_t id) { return sp.id_to_piece(id); }, files, o);
        return 0;
    }
    bytepiece::encode_options eo;
    eo.normalize = !raw;
    const auto tok = file.bytepiece(eo);
    const bytepiece::token_healer healer(tok);
    heal_files(healer, [&](std::uint32_t id) { return tok.model().piece(id); }, files, o);
    return 0;
}

const registrar heal_command("heal", {
    "token healing: back each prompt up to a safe piece boundary and print what to regenerate",
    "usage: bytepiece heal -m MODEL [--candidates] [--pieces] [--raw] [--whole] [FILE...]\n\n"
    "Each line of each FILE (standard input when none), without its '\\n', is a prompt (with\n"
    "--whole, each FILE is one prompt, newlines included). For each prompt, prints one line of\n"
    "tab-separated fields:\n"
    "  1. the ids of the kept prefix of the prompt's segmentation\n"
    "  2. the ids of the pieces given back (the rest of the segmentation)\n"
    "  3. the text given back (the remainder), escaped as 'tokenize' escapes pieces\n"
    "     (\\\\ \\s \\n \\t \\r, \\xHH for bytes that are not UTF-8); the continuation must start with it\n"
    "with --candidates, also:\n"
    "  4. the ids of every piece that starts with the remainder, increasing (all pieces when the\n"
    "     remainder is empty)\n"
    "  5. the ids of every piece that is a prefix of the remainder, increasing\n"
    "Ids are separated by single spaces; a field may be empty.\n\n"
    "The rule: the prompt is normalized (NFC) and segmented as 'encode' does; p is the earliest\n"
    "position in its last chunk from which some piece matches the rest of the prompt and runs past\n"
    "its end (searched back at most the longest piece's length); the kept prefix ends at the last\n"
    "piece boundary at or before p. The remainder is normalized text. With a SentencePiece model\n"
    "the same rule runs on its normalized text (U+2581 for spaces), at character positions, and a\n"
    "trailing space its normalizer drops is given back as U+2581; a model that treats whitespace as\n"
    "a suffix is refused (argument.10).\n\n"
    "With a tokenizer.json (Unigram) the rule runs on the model's text of the prompt's last\n"
    "pre-token (after its last added token; U+2581 for Metaspace's spaces, ByteLevel's characters\n"
    "for bytes), and one more field closes the line: the prompt's own text given back, escaped.\n"
    "Refused (argument.10): pre-tokenizers other than Metaspace, ByteLevel without its regex and\n"
    "the BytePiece chunk Split; prompts that end inside a possible added token.\n\n"
    "options:\n"
    "  -m, --model MODEL  BytePiece model file (JSON, or binary from convert), SentencePiece\n"
    "                     .model or Hugging Face tokenizer.json (Unigram)\n"
    "  --candidates       add fields 4 and 5\n"
    "  --pieces           print escaped pieces instead of ids\n"
    "  --raw              do not normalize: heal the input bytes as they are\n"
    "  --whole            each FILE is one prompt\n"
    "  -h, --help         this text\n",
    [](std::vector<std::string>& a) { return run_heal(a); }});

}  // namespace
}  // namespace bytepiece_cli
