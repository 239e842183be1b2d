// SPDX-License-Identifier: Apache-2.0
// `bytepiece encode`, `tokenize` and `decode`.
#include <bytepiece/random.hpp>
#include <bytepiece/sampler.hpp>
#include <bytepiece/special_tokens.hpp>
#include <bytepiece/stream_encoder.hpp>
#include <bytepiece/tokenizer.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli_model.hpp"

namespace bytepiece_cli {

// Declared in cli.hpp: `tokenize` and `nbest --pieces` share it.
void append_escaped(std::string_view piece, output& out, bool escape_controls) {
    static const char hex[] = "0123456789ABCDEF";
    const auto* p = reinterpret_cast<const unsigned char*>(piece.data());
    const auto* end = p + piece.size();
    while (p < end) {
        const unsigned char c = *p;
        switch (c) {
            case '\\': out.put("\\\\"); ++p; continue;
            case ' ': out.put("\\s"); ++p; continue;
            case '\n': out.put("\\n"); ++p; continue;
            case '\t': out.put("\\t"); ++p; continue;
            case '\r': out.put("\\r"); ++p; continue;
            default: break;
        }
        const auto d = bytepiece::detail::utf8::decode(p, end);
        const bool control = escape_controls && (c < 0x20 || c == 0x7F);
        const std::size_t n = d.cp == bytepiece::detail::utf8::invalid || control ? 0 : d.length;
        if (n == 0) {
            out.put("\\x");
            out.put(hex[c >> 4]);
            out.put(hex[c & 15]);
            ++p;
        } else {
            out.put(std::string_view(reinterpret_cast<const char*>(p), n));
            p += n;
        }
    }
}

// Declared in cli.hpp: `decode` reads ids this way for every model format.
void parse_id_line(std::string_view line, const std::string& file, std::size_t line_no, std::size_t vocab_size,
                   std::vector<std::uint32_t>& ids) {
    ids.clear();
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
        if (i == line.size()) break;
        std::uint64_t v = 0;
        const std::size_t start = i;
        while (i < line.size() && line[i] >= '0' && line[i] <= '9' && v <= 0xFFFFFFFFull) v = v * 10 + static_cast<unsigned>(line[i++] - '0');
        if (i == start || (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') || v > 0xFFFFFFFFull)
            throw failure(file + ":" + std::to_string(line_no) + ": '" + std::string(line.substr(start, 20)) + "' is not an id");
        if (v >= vocab_size)
            throw failure(file + ":" + std::to_string(line_no) + ": id " + std::to_string(v) + " is outside the vocabulary [0, " +
                          std::to_string(vocab_size) + ")");
        ids.push_back(static_cast<std::uint32_t>(v));
    }
}

namespace {

const char* const sampling_doc =
    "Sampling (--alpha A with A >= 0): each chunk's segmentation is drawn at random with\n"
    "  probability proportional to exp(A * its total score): A = 0 is uniform over all\n"
    "  segmentations, large A approaches the deterministic output. The draws come from one\n"
    "  splitmix64 generator seeded with --seed (default 0), used chunk by chunk in input order,\n"
    "  and are the same on every platform. A negative A (-0 included) means deterministic\n"
    "  encoding, as in BytePiece; --seed without --alpha is an error, since it would do nothing.\n";

const char* const escape_doc =
    "Piece escaping (tokenize): pieces are separated by one space; inside a piece\n"
    "  \\\\ is a backslash, \\s a space, \\n a newline, \\t a tab, \\r a carriage return,\n"
    "  and \\xHH a byte that is not part of valid UTF-8. Everything else is written as is.\n";

const char* const lines_doc =
    "Per-line mode (--lines): each input line, without its newline, is encoded on its own and\n"
    "  gives exactly one output line (an empty line gives an empty one), like SentencePiece's\n"
    "  spm_encode. The newline itself is not encoded, so the ids differ from the chunk mode's at\n"
    "  line ends; 'decode --lines' adds it back. Only \\n ends a line (a \\r before it is text),\n"
    "  a last line without \\n counts as a line, and each line is held whole in memory.\n";

const char* const streaming_doc =
    "Input from a pipe or terminal is answered as it arrives: every output line is written as\n"
    "  soon as it is complete, so the tool can serve as a co-process. In the default mode a\n"
    "  chunk takes all the newlines after it, so its line is complete only once the next line's\n"
    "  text begins (or the input ends); with --lines each line is answered when its \\n arrives.\n";

struct common_options {
    std::string model;
    bool raw = false;
    bool lines = false;
    std::vector<std::string> files;
    double alpha = -1;       // < 0 (or -0): deterministic (Viterbi), as in BytePiece
    bool alpha_given = false;
    bool bos = false, eos = false;  // SentencePiece models only: add <s> / </s> to every line
    bool add_special = false;       // encode, tokenize: the model's special tokens (see --help)
    bool keep_special = false;      // decode of a tokenizer.json: do not skip special tokens
    std::uint64_t seed = 0;  // of the splitmix64 generator used when alpha >= 0
    bool offsets = false;    // encode, tokenize: each id as ID@BEGIN:END (see offsets_doc)
    bool sampling() const { return !std::signbit(alpha); }
};

common_options parse_common(std::vector<std::string>& argv, bool sampling) {
    arguments args(argv);
    common_options o;
    o.model = args.value({"-m", "--model"});
    o.raw = args.flag({"--raw"});
    o.lines = args.flag({"--lines"});
    if (sampling) o.offsets = args.flag({"--offsets"});
    if (sampling) {
        o.add_special = args.flag({"--add-special"});
        o.bos = args.flag({"--bos"});
        o.eos = args.flag({"--eos"});
        const std::string alpha = args.value({"--alpha"});
        if (!alpha.empty()) o.alpha = parse_double(alpha, "--alpha");
        o.alpha_given = !alpha.empty();
        if (o.alpha > 1e6) throw usage_error("--alpha must be at most 1e6, got '" + alpha + "'");
        const std::string seed = args.value({"--seed"});
        if (!seed.empty()) {
            if (alpha.empty()) throw usage_error("--seed needs --alpha A: without sampling there is nothing to seed");
            // Whole numbers up to 2^64 - 1; parse_integer stops at 2^63 - 1.
            char* end = nullptr;
            errno = 0;
            const unsigned long long v = std::strtoull(seed.c_str(), &end, 10);
            if (seed[0] < '0' || seed[0] > '9' || *end != '\0' || errno == ERANGE)
                throw usage_error("--seed must be a whole number from 0 to 18446744073709551615, got '" + seed + "'");
            o.seed = static_cast<std::uint64_t>(v);
        }
    }
    if (!sampling) o.keep_special = args.flag({"--keep-special"});
    o.files = args.positional();
    if (o.model.empty()) throw usage_error("missing -m MODEL");
    if (o.files.empty()) o.files.push_back("-");
    return o;
}

// The options that have no meaning for a SentencePiece model are refused by name: silently
// ignoring one would print output that is not what was asked for.
void refuse_for_sentencepiece(const common_options& o) {
    if (o.raw) throw not_for_sentencepiece("--raw", "its text is always normalized by the model's own rules");
    if (o.alpha_given) throw not_for_sentencepiece("--alpha", "sampling SentencePiece models is not supported yet");
}

// Likewise for a tokenizer.json, whose special tokens come from its post-processor.
void refuse_for_huggingface(const common_options& o) {
    const auto refuse = [](const std::string& option, const std::string& why) {
        return usage_error(option + " is not available with a tokenizer.json: " + why);
    };
    if (o.raw) throw refuse("--raw", "its text is always normalized by the file's own normalizer");
    if (o.alpha_given) throw refuse("--alpha", "sampling tokenizer.json models is not supported");
    if (o.bos || o.eos) throw refuse(o.bos ? "--bos" : "--eos", "--add-special adds what its post-processor adds");
}

// --- special tokens (--special, --special-file, --allow-special, --refuse-special) ---

const char* const special_doc =
    "Special tokens: --special TOKEN (repeatable) and --special-file FILE (one token per line; a\n"
    "  line TOKEN<TAB>ID gives the token an existing id, such as <eos>'s 2; a \\r before the \\n is\n"
    "  dropped, empty lines are skipped) name strings that stand for one id each: the ones\n"
    "  without an id get the ids after the vocabulary (after a binary model's own special\n"
    "  tokens), in the order given, files first. They are matched in the original text, before\n"
    "  normalization, the longest at the leftmost position first, and never split; the text\n"
    "  between them is encoded as usual. Matching is opt-in: only with --allow-special; without\n"
    "  it a special token in the text is ordinary text (so input cannot inject control ids),\n"
    "  or an error with --refuse-special. A binary model's own special tokens count as given.\n"
    "  In the default mode a special token's id goes on the line of the chunk it follows. For\n"
    "  SentencePiece models and tokenizer.json files each line is encoded alone ('encode' only;\n"
    "  --bos, --eos and --add-special are refused with special tokens: give them as tokens with\n"
    "  their ids instead).\n";

struct special_options {
    std::vector<std::string> tokens;       // --special, in order
    std::vector<std::string> files;        // --special-file, in order
    bool allow = false, refuse = false;
    bool given() const { return !tokens.empty() || !files.empty(); }
};

// Takes the special-token options out of `argv` (before the common parser sees them).
special_options parse_special(std::vector<std::string>& argv) {
    special_options s;
    for (std::size_t i = 0; i < argv.size();) {
        const std::string& a = argv[i];
        if (a == "--") break;
        auto take_value = [&](const char* name, std::vector<std::string>& into) {
            const std::string n(name);
            if (a == n) {
                if (i + 1 >= argv.size()) throw usage_error("option " + a + " needs a value");
                into.push_back(argv[i + 1]);
                argv.erase(argv.begin() + static_cast<std::ptrdiff_t>(i), argv.begin() + static_cast<std::ptrdiff_t>(i) + 2);
                return true;
            }
            if (a.size() > n.size() && a.compare(0, n.size(), n) == 0 && a[n.size()] == '=') {
                into.push_back(a.substr(n.size() + 1));
                argv.erase(argv.begin() + static_cast<std::ptrdiff_t>(i));
                return true;
            }
            return false;
        };
        if (take_value("--special", s.tokens) || take_value("--special-file", s.files)) continue;
        if (a == "--allow-special" || a == "--refuse-special") {
            (a == "--allow-special" ? s.allow : s.refuse) = true;
            argv.erase(argv.begin() + static_cast<std::ptrdiff_t>(i));
            continue;
        }
        ++i;
    }
    if (s.allow && s.refuse) throw usage_error("--allow-special and --refuse-special exclude each other");
    return s;
}

// The special tokens of the command line after `base` (a binary model's own), with new ids
// from `first_id` on. Errors name the file and line, or the option.
bytepiece::special_tokens build_specials(const special_options& o, bytepiece::special_tokens base, std::uint64_t first_id) {
    first_id = std::max<std::uint64_t>(first_id, base.end_id());
    auto add = [&](const std::string& token, std::optional<std::uint32_t> id, const std::string& where) {
        try {
            if (id) base.add(token, *id);
            else base.append({token}, first_id++);
        } catch (const bytepiece::argument_error& e) {
            throw failure(where + ": " + e.what());
        }
    };
    for (const auto& file : o.files) {
        input_file in(file);
        for_each_line(
            in,
            [&](std::string_view line, std::size_t line_no) {
                if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
                if (line.empty()) return;
                std::optional<std::uint32_t> id;
                const std::size_t tab = line.rfind('\t');
                if (tab != std::string_view::npos) {
                    const std::string digits(line.substr(tab + 1));
                    id = static_cast<std::uint32_t>(
                        parse_integer(digits, file + ":" + std::to_string(line_no) + " id", 0, 0xFFFFFFFEll));
                    line = line.substr(0, tab);
                }
                add(std::string(line), id, file + ":" + std::to_string(line_no));
            },
            [] {});
    }
    for (const auto& t : o.tokens) add(t, std::nullopt, "--special '" + t + "'");
    return base;
}

bytepiece::allowed_special allowed_of(const special_options& o) {
    return o.allow ? bytepiece::allowed_special::all() : bytepiece::allowed_special::none();
}

bytepiece::disallowed_special policy_of(const special_options& o) {
    return o.refuse ? bytepiece::disallowed_special::raise : bytepiece::disallowed_special::encode_as_text;
}

// Rethrows a refused special token as a failure naming the file and line.
template <class F>
void naming_line(const std::string& file, std::size_t line_no, F&& f) {
    try {
        f();
    } catch (const bytepiece::argument_error& e) {
        if (e.code() != bytepiece::errc::special_disallowed) throw;
        throw failure(file + (line_no ? ":" + std::to_string(line_no) : std::string()) + ": " + e.what() +
                      " (pass --allow-special to match it)");
    }
}

// `encode` of a SentencePiece model or tokenizer.json with special tokens: each line alone,
// the stretches between tokens encoded by the model.
template <class Tokenizer>
int encode_lines_with_specials(const Tokenizer& tok, const std::vector<std::string>& files, const special_options& so,
                               const bytepiece::special_tokens& specials) {
    output out;
    std::vector<std::uint32_t> ids;
    for (const auto& file : files) {
        input_file in(file);
        for_each_line(
            in,
            [&](std::string_view line, std::size_t line_no) {
                ids.clear();
                naming_line(file, line_no, [&] {
                    bytepiece::encode_with_specials(tok, line, specials, allowed_of(so), ids, policy_of(so));
                });
                for (std::size_t i = 0; i < ids.size(); ++i) {
                    if (i) out.put(std::string_view(" ", 1));
                    out.put_uint(ids[i]);
                }
                out.put('\n');
            },
            [&] {
                if (in.interactive()) out.flush();
            });
    }
    out.finish();
    return 0;
}

// `encode` / `tokenize` of a BytePiece model with special tokens: the text between tokens is
// cut into chunks as usual, one output line per chunk; a token's id joins the line it follows.
int bytepiece_encode_with_specials(const bytepiece::tokenizer& tok, const std::vector<std::string>& files, bool pieces,
                                   bool lines, const special_options& so, const bytepiece::special_tokens& specials,
                                   std::optional<bytepiece::sampler>& sampler, bytepiece::splitmix64& rng) {
    output out;
    bool first = true;
    std::vector<std::uint32_t> ids;
    std::string normalized;
    auto put_id = [&](std::uint32_t id) {
        if (!first) out.put(' ');
        first = false;
        if (!pieces) {
            out.put_uint(id);
        } else if (const std::string* s = specials.content_of(id)) {
            append_escaped(*s, out);
        } else {
            append_escaped(tok.model().piece(id), out);
        }
    };
    auto end_line = [&] {
        out.put('\n');
        first = true;
    };
    auto encode_stretch = [&](std::string_view stretch, bool line_mode) {
        auto chunk = [&](std::string_view c) {
            ids.clear();
            if (sampler) {
                if (!c.empty()) sampler->sample_chunk(c, rng, ids);
            } else {
                tok.encode(c, ids);
            }
            for (const auto id : ids) put_id(id);
            if (!line_mode && !c.empty() && c.back() == '\n') end_line();
        };
        if (line_mode) chunk(sampler ? tok.normalized_view(stretch, normalized) : stretch);
        else bytepiece::for_each_chunk(tok.normalized_view(stretch, normalized), chunk);
    };
    auto encode_text = [&](std::string_view text, bool line_mode) {
        specials.split(
            text, allowed_of(so), policy_of(so), [&](std::size_t b, std::size_t e) { encode_stretch(text.substr(b, e - b), line_mode); },
            [&](std::size_t, std::size_t, std::uint32_t id) { put_id(id); });
    };
    for (const auto& file : files) {
        input_file in(file);
        if (lines) {
            for_each_line(
                in,
                [&](std::string_view line, std::size_t line_no) {
                    naming_line(file, line_no, [&] { encode_text(line, true); });
                    end_line();
                },
                [&] {
                    if (in.interactive()) out.flush();
                });
            continue;
        }
        // Blocks end after a run of \n: a special token holding no \n is never cut.
        for_each_block(in, [&](std::string_view block) {
            naming_line(file, 0, [&] { encode_text(block, false); });
            if (in.interactive()) out.flush();
        });
        if (!first) end_line();  // a file's last chunk without a newline, or a token after it
    }
    out.finish();
    return 0;
}

// --- end of special tokens ---
// --- BEGIN --offsets (encode, tokenize) ---
const char* const offsets_doc =
    "Offsets (--offsets): each id is printed as ID@BEGIN:END (each piece as PIECE@BEGIN:END),\n"
    "  the byte range [BEGIN, END) it covers in the original input, before normalization,\n"
    "  counted from the start of the whole input (the files one after the other), not of the\n"
    "  line. Lines are as without --offsets. A piece inside characters that normalization\n"
    "  rewrote together gets all of them, so neighbours may share bytes; text the normalizer\n"
    "  deleted (folded spaces) belongs to no piece; added <bos>/<eos> (<s>/</s>) get the empty\n"
    "  range at the start/end of their text. With --raw the ranges partition the input.\n"
    "  With a tokenizer.json, tokens its post-processor adds (--add-special) get the empty\n"
    "  range at the start/end of their line, and with a ByteLevel pre-tokenizer a piece holding\n"
    "  part of a character gets just the bytes it stands for. Not with --alpha.\n";

// Calls unit(text, base) for each unit the output has a line for, base being the text's
// offset in the whole input: a chunk (a line with the newlines after it), or a line without
// its \n when `lines`. Blocks end on chunk boundaries, so units never straddle two.
void for_each_offset_unit(const std::vector<std::string>& files, bool lines, output& out,
                          const std::function<void(std::string_view, std::size_t)>& unit) {
    std::size_t base = 0;  // bytes of input before the current block
    for (const auto& file : files) {
        input_file in(file);
        for_each_block(in, [&](std::string_view block) {
            if (lines) {
                std::size_t start = 0;
                while (start < block.size()) {
                    const std::size_t nl = block.find('\n', start);
                    const std::size_t stop = nl == std::string_view::npos ? block.size() : nl;
                    unit(block.substr(start, stop - start), base + start);
                    start = stop + 1;
                }
            } else {
                bytepiece::for_each_chunk(block, [&](std::string_view chunk) {
                    unit(chunk, base + static_cast<std::size_t>(chunk.data() - block.data()));
                });
            }
            base += block.size();
            if (in.interactive()) out.flush();
        });
    }
}

int encode_with_offsets(const model_file& model, const common_options& o, bool pieces) {
    if (o.alpha_given) throw usage_error("--offsets cannot be combined with --alpha: sampled encodings have no offsets");
    output out;
    std::vector<std::uint32_t> ids;
    std::vector<bytepiece::byte_range> offsets;
    std::size_t base = 0;
    std::function<std::string_view(std::uint32_t)> piece_of;
    const auto put = [&] {
        for (std::size_t i = 0; i < ids.size(); ++i) {
            if (i) out.put(std::string_view(" ", 1));  // a string_view: flushes inside a huge line
            if (pieces) append_escaped(piece_of(ids[i]), out);
            else out.put_uint(ids[i]);
            out.put('@');
            out.put_uint(base + offsets[i].begin);
            out.put(':');
            out.put_uint(base + offsets[i].end);
        }
        out.put('\n');
    };
    if (model.is_huggingface()) {
        refuse_for_huggingface(o);
        const auto tok = model.huggingface();
        std::vector<std::string> tokens;  // tokenize: the tokens as HF gives them, one per id
        std::size_t line_no = 0;
        // Line by line, as without --offsets.
        for_each_offset_unit(o.files, true, out, [&](std::string_view line, std::size_t at) {
            ++line_no;
            if (!bytepiece::detail::utf8::is_valid(line))
                throw failure("line " + std::to_string(line_no) +
                              " of the input: the line is not valid UTF-8, which a tokenizer.json cannot encode");
            ids.clear();
            offsets.clear();
            tok.encode_with_offsets(line, ids, offsets, o.add_special);
            if (pieces) tokens = tok.tokenize(line, o.add_special);
            std::size_t next = 0;
            piece_of = [&](std::uint32_t) -> std::string_view { return tokens[next++]; };
            base = at;
            put();
        });
        out.finish();
        return 0;
    }
    if (model.is_sentencepiece()) {
        refuse_for_sentencepiece(o);
        const auto tok = model.sentencepiece();
        const bool bos = o.bos || o.add_special, eos = o.eos || o.add_special;
        const auto special = [&](bool wanted, const std::string& piece, const char* option) -> std::optional<std::uint32_t> {
            if (!wanted) return std::nullopt;
            const auto id = tok.piece_to_id(piece);
            if (!id || *id == tok.model().unknown_id())
                throw usage_error(std::string(option) + ": the SentencePiece model " + model.path() + " has no piece '" +
                                  piece + "' to add");
            return id;
        };
        const auto bos_id = special(bos, tok.model().trainer.bos_piece, "--bos");
        const auto eos_id = special(eos, tok.model().trainer.eos_piece, "--eos");
        piece_of = [&](std::uint32_t id) { return std::string_view(tok.id_to_piece(id)); };
        // Line by line, as without --offsets.
        for_each_offset_unit(o.files, true, out, [&](std::string_view line, std::size_t at) {
            ids.clear();
            offsets.clear();
            if (bos_id) {
                ids.push_back(*bos_id);
                offsets.push_back({0, 0});
            }
            tok.encode_with_offsets(line, ids, offsets);
            if (eos_id) {
                ids.push_back(*eos_id);
                offsets.push_back({line.size(), line.size()});
            }
            base = at;
            put();
        });
        out.finish();
        return 0;
    }
    bytepiece::encode_options eo;
    eo.normalize = !o.raw;
    const auto tok = model.bytepiece(eo);
    piece_of = [&](std::uint32_t id) { return tok.model().piece(id); };
    for_each_offset_unit(o.files, o.lines, out, [&](std::string_view text, std::size_t at) {
        ids.clear();
        offsets.clear();
        tok.encode_with_offsets(text, ids, offsets, eo);
        base = at;
        put();
    });
    out.finish();
    return 0;
}
// --- END --offsets ---

int run_encode(std::vector<std::string>& argv, bool pieces) {
    const special_options special_opts = parse_special(argv);
    const common_options o = parse_common(argv, true);
    const model_file model(o.model);
    if ((o.bos || o.eos) && !model.is_sentencepiece() && !model.is_huggingface())
        throw usage_error(std::string(o.bos ? "--bos" : "--eos") +
                          " is for SentencePiece models, whose <s> and </s> are pieces of their vocabulary; " + o.model +
                          " is a BytePiece model");
    if (special_opts.given() || special_opts.allow || special_opts.refuse) {
        if (!special_opts.given() && (special_opts.allow || special_opts.refuse))
            throw usage_error(std::string(special_opts.allow ? "--allow-special" : "--refuse-special") +
                              " needs special tokens: --special TOKEN or --special-file FILE");
        if (o.offsets) throw usage_error("--offsets cannot be combined with special tokens (--special, --special-file)");
        if (!model.is_huggingface() && !model.is_sentencepiece()) {
            bytepiece::encode_options eo;
            eo.normalize = !o.raw;
            const auto tok = model.bytepiece(eo);
            const auto specials = build_specials(special_opts, tok.specials(), tok.vocab_size());
            std::optional<bytepiece::sampler> sampler;
            if (o.sampling()) sampler.emplace(tok, o.alpha);
            bytepiece::splitmix64 rng(o.seed);
            return bytepiece_encode_with_specials(tok, o.files, pieces, o.lines, special_opts, specials, sampler, rng);
        }
        if (pieces) throw usage_error("special tokens with 'tokenize' are for BytePiece models; use 'encode'");
        if (o.bos || o.eos || o.add_special)
            throw usage_error(std::string(o.bos ? "--bos" : o.eos ? "--eos" : "--add-special") +
                              " cannot be combined with special tokens: give <s>, </s> or [CLS] as tokens with their ids");
        if (model.is_sentencepiece()) {
            refuse_for_sentencepiece(o);
            const auto tok = model.sentencepiece();
            return encode_lines_with_specials(tok, o.files, special_opts, build_specials(special_opts, {}, tok.vocab_size()));
        }
        refuse_for_huggingface(o);
        const auto tok = model.huggingface();
        return encode_lines_with_specials(tok, o.files, special_opts, build_specials(special_opts, {}, tok.vocab_size()));
    }
    if (o.offsets) return encode_with_offsets(model, o, pieces);
    if (model.is_huggingface()) {
        refuse_for_huggingface(o);
        // Always line by line: --lines changes nothing.
        return huggingface_encode(model, o.files, pieces, o.add_special);
    }
    if (model.is_sentencepiece()) {
        refuse_for_sentencepiece(o);
        // Always line by line, as spm_encode: --lines changes nothing. --add-special is --bos --eos.
        return sentencepiece_encode(model, o.files, pieces, o.bos || o.add_special, o.eos || o.add_special);
    }
    // No post-processor adds ids to a BytePiece model's text: --add-special adds nothing, and is
    // accepted so that one command line serves every format.
    bytepiece::encode_options eo;
    eo.normalize = !o.raw;
    const auto tok = model.bytepiece(eo);
    // One generator for the whole run, consumed chunk by chunk in input order, so the output
    // equals the library's sample() of the concatenated input with splitmix64(seed).
    std::optional<bytepiece::sampler> sampler;
    if (o.sampling()) sampler.emplace(tok, o.alpha);
    bytepiece::splitmix64 rng(o.seed);
    output out;
    auto put_ids = [&](const std::uint32_t* ids, std::size_t n, bool& first) {
        for (std::size_t i = 0; i < n; ++i) {
            if (!first) out.put(' ');
            first = false;
            if (pieces) append_escaped(tok.model().piece(ids[i]), out);
            else out.put_uint(ids[i]);
        }
    };
    std::vector<std::uint32_t> ids;
    std::string normalized;
    // Sampling draws per chunk, so a chunk (or a line) is the unit either way.
    auto encode_chunk = [&](std::string_view chunk) {
        ids.clear();
        if (sampler) {
            if (!chunk.empty()) sampler->sample_chunk(chunk, rng, ids);
        } else {
            tok.encode(chunk, ids);
        }
        bool first = true;
        put_ids(ids.data(), ids.size(), first);
        out.put('\n');
    };
    if (o.lines) {
        for (const auto& file : o.files) {
            input_file in(file);
            for_each_line(
                in,
                [&](std::string_view line, std::size_t) {
                    // A line holds no \n, so it is one chunk (or none): encode() and the
                    // sampler give it whole, and NFC cannot bring a \n in.
                    encode_chunk(sampler ? tok.normalized_view(line, normalized) : line);
                },
                [&] {
                    if (in.interactive()) out.flush();
                });
        }
        out.finish();
        return 0;
    }
    if (!sampler) {
        // Deterministic: a stream encoder, so that a line of any length (a whole file without
        // newlines) is encoded in bounded memory, with the same output as encoding it whole.
        // Only adversarial text (paths that disagree, or combining marks without a starter,
        // for a whole window) gets a forced cut; each says where and what it changed.
        std::string current;  // the file being encoded, for the warnings
        std::uint64_t warned = 0;
        constexpr std::uint64_t max_warnings = 10;
        bytepiece::stream_options so;
        so.on_forced_cut = [&](const bytepiece::stream_forced_cut& cut) {
            if (++warned <= max_warnings)
                std::fprintf(stderr, "bytepiece: warning: %s: %s\n", current.c_str(), cut.describe().c_str());
        };
        bytepiece::stream_encoder enc(tok, so);
        bool first = true;  // no id written yet on the current output line
        auto sink = [&](const std::uint32_t* chunk_ids, std::size_t n, bool chunk_ends) {
            put_ids(chunk_ids, n, first);
            if (chunk_ends) {
                out.put('\n');
                first = true;
            }
            out.put(std::string_view());  // put(char) never flushes; a huge line must
        };
        for (const auto& file : o.files) {
            current = file == "-" ? "<stdin>" : file;
            input_file in(file);
            for_each_raw_block(in, std::size_t{1} << 20, [&](std::string_view block) {
                enc.feed_chunks(block, sink);
                if (in.interactive()) out.flush();
            });
            // Files are separate texts: a last line without newline is a chunk of its own.
            enc.finish_chunks(sink);
        }
        out.finish();
        if (warned > max_warnings)
            std::fprintf(stderr, "bytepiece: warning: %llu more forced cut(s) not shown\n",
                         static_cast<unsigned long long>(warned - max_warnings));
        return 0;
    }
    for (const auto& file : o.files) {
        input_file in(file);
        for_each_block(in, [&](std::string_view block) {
            bytepiece::for_each_chunk(tok.normalized_view(block, normalized), encode_chunk);
            if (in.interactive()) out.flush();
        });
    }
    out.finish();
    return 0;
}

int run_decode(std::vector<std::string>& argv) {
    const special_options special_opts = parse_special(argv);
    const common_options o = parse_common(argv, false);
    const model_file model(o.model);
    if (special_opts.allow || special_opts.refuse) throw usage_error("--allow-special and --refuse-special are options of encode");
    if (special_opts.given() && (model.is_huggingface() || model.is_sentencepiece()))
        throw usage_error("--special and --special-file with decode are for BytePiece models");
    if (model.is_huggingface()) {
        if (o.raw) throw usage_error("--raw is not available with a tokenizer.json: its decoder gives text");
        // Always line by line: --lines changes nothing.
        return huggingface_decode(model, o.files, !o.keep_special);
    }
    // With a BytePiece model, --keep-special needs special tokens; checked below.
    if (o.keep_special && model.is_sentencepiece())
        throw usage_error("--keep-special is for tokenizer.json files, whose decoding skips special tokens by default");
    if (model.is_sentencepiece()) {
        if (o.raw) throw not_for_sentencepiece("--raw", "its decoded text is always valid UTF-8, as spm_decode writes it");
        // Always line by line, as spm_decode: --lines changes nothing.
        return sentencepiece_decode(model, o.files);
    }
    const auto tok = model.bytepiece();
    // Special tokens (the model's own, --special, --special-file): skipped unless --keep-special.
    const auto specials = build_specials(special_opts, tok.specials(), tok.vocab_size());
    if (o.keep_special && specials.empty())
        throw usage_error("--keep-special needs special tokens: a binary model that carries them, or --special / --special-file");
    const std::size_t id_bound = std::max<std::size_t>(tok.vocab_size(), static_cast<std::size_t>(specials.end_id()));
    const auto decode_line = [&](const std::vector<std::uint32_t>& v) {
        if (specials.empty()) return o.raw ? tok.decode_bytes(v.data(), v.size()) : tok.decode(v);
        if (!o.raw) return bytepiece::decode_with_specials(tok, v, specials, !o.keep_special);
        std::string bytes;
        for (const auto id : v) {
            if (const std::string* s = specials.content_of(id)) {
                if (o.keep_special) bytes += *s;
            } else {
                bytes += tok.decode_bytes(&id, 1);
            }
        }
        return bytes;
    };
    output out;
    std::vector<std::uint32_t> ids;
    for (const auto& file : o.files) {
        input_file in(file);
        auto handle_line = [&](std::string_view line, std::size_t line_no) {
            parse_id_line(line, file, line_no, id_bound, ids);
            // Each line is decoded on its own: chunks end at a \n, which no UTF-8 character
            // straddles, so dropping invalid bytes per line drops what the whole would.
            out.put(decode_line(ids));
            if (o.lines) out.put('\n');
        };
        for_each_line(in, handle_line, [&] {
            if (in.interactive()) out.flush();
        });
    }
    out.finish();
    return 0;
}

const char* const sentencepiece_encode_doc =
    "SentencePiece models: MODEL may be a SentencePiece unigram .model file (told by its content,\n"
    "  not its name). Then every input line, without its \\n, gives one output line, exactly what\n"
    "  'spm_encode --model=MODEL --output_format=id' (tokenize: '--output_format=piece') prints:\n"
    "  ids (or pieces, unescaped, as SentencePiece writes them) separated by single spaces, an\n"
    "  empty line for an empty line. No special ids are added unless asked for: --bos and --eos\n"
    "  put the model's <s> and </s> first and last on every line, as spm_encode's\n"
    "  --extra_options=bos:eos does (an error if the model has no such piece). --lines changes\n"
    "  nothing; --raw and --alpha are refused. A BPE, WORD or CHAR .model is refused as such.\n"
    "  --add-special is --bos --eos for a SentencePiece model.\n\n"
    "Hugging Face tokenizer.json files (with a Unigram model; told by content): every input line,\n"
    "  without its \\n, gives one output line: the ids of HF tokenizers' encode(line) separated by\n"
    "  single spaces (tokenize: its tokens, escaped as below), an empty line for an empty line.\n"
    "  --add-special runs the file's post-processor (add_special_tokens=True: [CLS] ... [SEP] and\n"
    "  the like); without it no special tokens are added. A line that is not valid UTF-8 is an\n"
    "  error. --lines changes nothing; --raw, --alpha, --bos and --eos are refused.\n\n"
    "--add-special with a BytePiece model adds nothing: no post-processor adds ids there (special\n"
    "  tokens given with --special are matched in the text with --allow-special, not added).\n";

const char* const encode_options_doc =
    "\noptions:\n"
    "  -m, --model MODEL  model file: BytePiece JSON, binary from convert, SentencePiece .model, or\n"
    "                     Hugging Face tokenizer.json\n"
    "  --raw              do not normalize: segment the input bytes as they are\n"
    "  --lines            one output line per input line, the newline not encoded (see above)\n"
    "  --alpha A          sample with this alpha (A >= 0); negative: deterministic (default -1)\n"
    "  --seed S           seed of the random generator, 0 to 2^64-1 (default 0); needs --alpha\n"
    "  --bos, --eos       SentencePiece models: add <s> / </s> to every line (see above)\n"
    "  --add-special      add the model's special tokens (tokenizer.json: its post-processor;\n"
    "                     SentencePiece: <s> and </s>; BytePiece: none)\n"
    "  --offsets          print each id as ID@BEGIN:END, byte offsets into the input (see above)\n";

const char* const special_options_doc =
    "  --special TOKEN    a special token (repeatable); see 'Special tokens' above\n"
    "  --special-file F   special tokens, one per line (TOKEN or TOKEN<TAB>ID)\n"
    "  --allow-special    match the special tokens in the text (off by default)\n"
    "  --refuse-special   fail on a special token in the text instead of encoding it as text\n"
    "  -h, --help         this text\n";

const registrar encode_command("encode", {
    "encode text to ids, one line of ids per chunk (or per line with --lines)",
    std::string("usage: bytepiece encode -m MODEL [--raw] [--lines] [--alpha A [--seed S]] [--bos] [--eos] [--add-special]\n"
                "                        [--offsets] [--special TOKEN]... [--special-file F] [--allow-special | --refuse-special]\n"
                "                        [FILE...]\n\n"
                "Encodes each FILE (standard input when none) with the BytePiece model MODEL and prints one\n"
                "line per chunk (a line of text together with the newlines after it): the chunk's ids\n"
                "separated by single spaces. The text is NFC-normalized first, as the reference does.\n\n") +
        lines_doc + "\n" + streaming_doc + "\n" + sampling_doc + "\n" + sentencepiece_encode_doc + "\n" + offsets_doc +
        "\n" + special_doc + encode_options_doc + special_options_doc,
    [](std::vector<std::string>& a) { return run_encode(a, false); }});

const registrar tokenize_command("tokenize", {
    "split text into pieces, one line of escaped pieces per chunk (or per line with --lines)",
    std::string("usage: bytepiece tokenize -m MODEL [--raw] [--lines] [--alpha A [--seed S]] [--bos] [--eos] [--add-special]\n"
                "                          [--offsets] [--special TOKEN]... [--special-file F] [--allow-special | --refuse-special]\n"
                "                          [FILE...]\n\n"
                "Like 'encode', but prints the pieces instead of their ids.\n\n") +
        escape_doc + "\n" + lines_doc + "\n" + streaming_doc + "\n" + sampling_doc + "\n" + sentencepiece_encode_doc +
        "\n" + offsets_doc + "\n" + special_doc + encode_options_doc + special_options_doc,
    [](std::vector<std::string>& a) { return run_encode(a, true); }});

const registrar decode_command("decode", {
    "turn lines of ids back into text",
    std::string("usage: bytepiece decode -m MODEL [--raw] [--lines] [--keep-special] [--special TOKEN] [FILE...]\n\n"
                "Reads lines of space-separated ids (the output of 'encode') from each FILE (standard\n"
                "input when none) and writes the text they stand for. Ids 0-2 are skipped; an id outside\n"
                "the vocabulary is an error naming the file and line. By default bytes that do not form\n"
                "valid UTF-8 are dropped, as the reference's decode does; --raw writes the pieces' bytes\n"
                "exactly, so 'encode --raw | decode --raw' gives back the input byte for byte.\n\n"
                "With --lines, each line of ids gives its text followed by a newline: the inverse of\n"
                "'encode --lines' (a last input line without a newline comes back with one).\n\n"
                "Input from a pipe or terminal is answered line by line as it arrives, so the tool can\n"
                "serve as a co-process.\n\n"
                "With a SentencePiece unigram .model (told by its content), each line of ids gives its\n"
                "text and a newline, exactly what 'spm_decode --model=MODEL --input_format=id' prints\n"
                "(control ids such as <s> give nothing, the unknown id the model's unk surface, byte\n"
                "pieces are joined into characters). A field that is not an id is an error naming the\n"
                "line (spm_decode would read it as 0). --lines changes nothing; --raw is refused.\n\n"
                "With a Hugging Face tokenizer.json, each line of ids gives HF tokenizers' decode(ids) and\n"
                "a newline: special added tokens are skipped (skip_special_tokens=True) unless\n"
                "--keep-special is given. --lines changes nothing; --raw is refused.\n\n"
                "With a BytePiece model, the ids of special tokens (a binary model's own, and those of\n"
                "--special and --special-file, numbered as encode numbers them) are accepted and skipped,\n"
                "or written as their text with --keep-special.\n") +
        "\noptions:\n"
        "  -m, --model MODEL  model file: BytePiece JSON, binary from convert, or SentencePiece .model\n"
        "  --raw              write the pieces' bytes as they are, invalid UTF-8 included\n"
        "  --lines            end each decoded line with a newline (for 'encode --lines' output)\n"
        "  --keep-special     tokenizer.json, BytePiece with special tokens: keep them in the text\n"
        "  --special TOKEN    BytePiece: a special token, as given to encode (repeatable)\n"
        "  --special-file F   BytePiece: special tokens, as given to encode\n"
        "  -h, --help         this text\n",
    [](std::vector<std::string>& a) { return run_decode(a); }});

}  // namespace
}  // namespace bytepiece_cli
