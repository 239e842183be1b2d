// SPDX-License-Identifier: Apache-2.0
// `bytepiece encode`, `tokenize` and `decode`.
#include <bytepiece/random.hpp>
#include <bytepiece/sampler.hpp>
#include <bytepiece/stream_encoder.hpp>
#include <bytepiece/tokenizer.hpp>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"

namespace bytepiece_cli {

// Declared in cli.hpp: `tokenize` and `nbest --pieces` share it.
void append_escaped(std::string_view piece, output& out) {
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
        const std::size_t n = d.cp == bytepiece::detail::utf8::invalid ? 0 : d.length;
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

namespace {

const char* const sampling_doc =
    "Sampling (--alpha A with A >= 0): each chunk's segmentation is drawn at random with\n"
    "  probability proportional to exp(A * its total score): A = 0 is uniform over all\n"
    "  segmentations, large A approaches the deterministic output. The draws come from one\n"
    "  splitmix64 generator seeded with --seed (default 0), used chunk by chunk in input order,\n"
    "  and are the same on every platform. A negative A means deterministic encoding, as in\n"
    "  BytePiece.\n";

const char* const escape_doc =
    "Piece escaping (tokenize): pieces are separated by one space; inside a piece\n"
    "  \\\\ is a backslash, \\s a space, \\n a newline, \\t a tab, \\r a carriage return,\n"
    "  and \\xHH a byte that is not part of valid UTF-8. Everything else is written as is.\n";

struct common_options {
    std::string model;
    bool raw = false;
    std::vector<std::string> files;
    double alpha = -1;       // < 0: deterministic (Viterbi), as in BytePiece
    std::uint64_t seed = 0;  // of the splitmix64 generator used when alpha >= 0
};

common_options parse_common(std::vector<std::string>& argv, bool sampling = false) {
    arguments args(argv);
    common_options o;
    o.model = args.value({"-m", "--model"});
    o.raw = args.flag({"--raw"});
    if (sampling) {
        const std::string alpha = args.value({"--alpha"});
        if (!alpha.empty()) o.alpha = parse_double(alpha, "--alpha");
        if (o.alpha > 1e6) throw usage_error("--alpha must be at most 1e6, got '" + alpha + "'");
        const std::string seed = args.value({"--seed"});
        if (!seed.empty()) {
            // Whole numbers up to 2^64 - 1; parse_integer stops at 2^63 - 1.
            char* end = nullptr;
            errno = 0;
            const unsigned long long v = std::strtoull(seed.c_str(), &end, 10);
            if (seed[0] == '-' || *end != '\0' || errno == ERANGE)
                throw usage_error("--seed must be a whole number from 0 to 18446744073709551615, got '" + seed + "'");
            o.seed = static_cast<std::uint64_t>(v);
        }
    }
    o.files = args.positional();
    if (o.model.empty()) throw usage_error("missing -m MODEL");
    if (o.files.empty()) o.files.push_back("-");
    return o;
}

int run_encode(std::vector<std::string>& argv, bool pieces) {
    const common_options o = parse_common(argv, true);
    bytepiece::encode_options eo;
    eo.normalize = !o.raw;
    const auto tok = bytepiece::tokenizer::load(o.model, eo);
    // One generator for the whole run, consumed chunk by chunk in input order, so the output
    // equals the library's sample() of the concatenated input with splitmix64(seed).
    std::optional<bytepiece::sampler> sampler;
    if (o.alpha >= 0) sampler.emplace(tok, o.alpha);
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
        auto sink = [&](const std::uint32_t* ids, std::size_t n, bool chunk_ends) {
            put_ids(ids, n, first);
            if (chunk_ends) {
                out.put('\n');
                first = true;
            }
            out.put(std::string_view());  // put(char) never flushes; a huge line must
        };
        for (const auto& file : o.files) {
            current = file == "-" ? "<stdin>" : file;
            for_each_raw_block(file, std::size_t{1} << 20, [&](std::string_view block) { enc.feed_chunks(block, sink); });
            // Files are separate texts: a last line without newline is a chunk of its own.
            enc.finish_chunks(sink);
        }
        if (warned > max_warnings)
            std::fprintf(stderr, "bytepiece: warning: %llu more forced cut(s) not shown\n",
                         static_cast<unsigned long long>(warned - max_warnings));
        return 0;
    }
    std::vector<std::uint32_t> ids;
    std::string normalized;
    for (const auto& file : o.files) {
        for_each_block(file, [&](std::string_view block) {
            bytepiece::for_each_chunk(tok.normalized_view(block, normalized), [&](std::string_view chunk) {
                ids.clear();
                sampler->sample_chunk(chunk, rng, ids);
                bool first = true;
                put_ids(ids.data(), ids.size(), first);
                out.put('\n');
            });
        });
    }
    return 0;
}

int run_decode(std::vector<std::string>& argv) {
    const common_options o = parse_common(argv);
    const auto tok = bytepiece::tokenizer::load(o.model);
    output out;
    std::vector<std::uint32_t> ids;
    for (const auto& file : o.files) {
        std::size_t line_no = 0;
        std::string pending;  // a line split across blocks
        auto handle_line = [&](std::string_view line) {
            ++line_no;
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
                if (v >= tok.vocab_size())
                    throw failure(file + ":" + std::to_string(line_no) + ": id " + std::to_string(v) + " is outside the vocabulary [0, " +
                                  std::to_string(tok.vocab_size()) + ")");
                ids.push_back(static_cast<std::uint32_t>(v));
            }
            out.put(tok.decode(ids));
        };
        for_each_block(file, [&](std::string_view block) {
            std::size_t pos = 0;
            while (pos < block.size()) {
                const std::size_t nl = block.find('\n', pos);
                if (nl == std::string_view::npos) {
                    pending.append(block.substr(pos));
                    break;
                }
                if (!pending.empty()) {
                    pending.append(block.substr(pos, nl - pos));
                    handle_line(pending);
                    pending.clear();
                } else {
                    handle_line(block.substr(pos, nl - pos));
                }
                pos = nl + 1;
            }
        });
        if (!pending.empty()) handle_line(pending);
    }
    return 0;
}

const char* const encode_options_doc =
    "\noptions:\n"
    "  -m, --model MODEL  model file (BytePiece JSON, or binary from convert)\n"
    "  --raw              do not normalize: segment the input bytes as they are\n"
    "  --alpha A          sample with this alpha (A >= 0); negative: deterministic (default -1)\n"
    "  --seed S           seed of the random generator, 0 to 2^64-1 (default 0)\n"
    "  -h, --help         this text\n";

const registrar encode_command("encode", {
    "encode text to ids, one line of ids per chunk",
    std::string("usage: bytepiece encode -m MODEL [--raw] [--alpha A [--seed S]] [FILE...]\n\n"
                "Encodes each FILE (standard input when none) with the BytePiece model MODEL and prints one\n"
                "line per chunk (a line of text together with the newlines after it): the chunk's ids\n"
                "separated by single spaces. The text is NFC-normalized first, as the reference does.\n\n") +
        sampling_doc +
        encode_options_doc,
    [](std::vector<std::string>& a) { return run_encode(a, false); }});

const registrar tokenize_command("tokenize", {
    "split text into pieces, one line of escaped pieces per chunk",
    std::string("usage: bytepiece tokenize -m MODEL [--raw] [--alpha A [--seed S]] [FILE...]\n\n"
                "Like 'encode', but prints the pieces instead of their ids.\n\n") +
        escape_doc + "\n" + sampling_doc +
        encode_options_doc,
    [](std::vector<std::string>& a) { return run_encode(a, true); }});

const registrar decode_command("decode", {
    "turn lines of ids back into text",
    std::string("usage: bytepiece decode -m MODEL [FILE...]\n\n"
                "Reads lines of space-separated ids (the output of 'encode') from each FILE (standard\n"
                "input when none) and writes the text they stand for. Ids 0-2 are skipped; bytes that do\n"
                "not form valid UTF-8 are dropped. An id outside the vocabulary is an error.\n\n"
                "options:\n"
                "  -m, --model MODEL  model file (BytePiece JSON, or binary from convert)\n"
                "  -h, --help         this text\n"),
    [](std::vector<std::string>& a) { return run_decode(a); }});

}  // namespace
}  // namespace bytepiece_cli
