// SPDX-License-Identifier: Apache-2.0
// The stream encoder must give exactly one-shot encode's ids however the input is split.
#include "test_support.hpp"

#include <bytepiece/stream_encoder.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

using ids_t = std::vector<std::uint32_t>;

#ifdef BYTEPIECE_SANITIZE
constexpr std::size_t corpus_limit = 2u << 20;  // the sanitizers are ~20x slower
#else
constexpr std::size_t corpus_limit = std::size_t(-1);
#endif

// A feed size from 1 byte to 1 MiB, log-uniform, so that tiny and huge pieces both occur.
std::size_t random_feed_size(std::mt19937_64& g) {
    const int bits = std::uniform_int_distribution<int>(0, 20)(g);
    return std::uniform_int_distribution<std::size_t>(std::size_t{1} << bits >> 1 | 1, std::size_t{1} << bits)(g);
}

ids_t stream(const bytepiece::tokenizer& tok, std::string_view text, std::mt19937_64& g,
             bytepiece::stream_options opt = {}, std::uint64_t* forced = nullptr) {
    bytepiece::stream_encoder enc(tok, std::move(opt));
    ids_t ids;
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t n = std::min(random_feed_size(g), text.size() - i);
        enc.feed(text.substr(i, n), ids);
        i += n;
    }
    enc.finish(ids);
    if (forced) *forced = enc.forced_cuts();
    else CHECK(enc.forced_cuts() == 0);
    return ids;
}

// Feeds in fixed-size pieces and records the chunk lines the sink reports.
std::vector<ids_t> stream_lines(const bytepiece::tokenizer& tok, std::string_view text, std::size_t piece) {
    bytepiece::stream_encoder enc(tok);
    std::vector<ids_t> lines(1);
    auto sink = [&](const std::uint32_t* ids, std::size_t n, bool ends) {
        lines.back().insert(lines.back().end(), ids, ids + n);
        if (ends) lines.emplace_back();
    };
    for (std::size_t i = 0; i < text.size(); i += piece) enc.feed_chunks(text.substr(i, piece), sink);
    enc.finish_chunks(sink);
    lines.pop_back();
    return lines;
}

std::vector<ids_t> one_shot_lines(const bytepiece::tokenizer& tok, std::string_view text) {
    std::vector<ids_t> lines;
    std::string storage;
    bytepiece::for_each_chunk(tok.normalized_view(text, storage), [&](std::string_view chunk) {
        lines.emplace_back();
        tok.encode_chunk(chunk, lines.back());
    });
    return lines;
}

const bytepiece::tokenizer& eu_model() {
    static const bytepiece::tokenizer tok =
        bytepiece::tokenizer::load(test_support::shared_path("models/bytepiece.eu.plus.40k.model"));
    return tok;
}

}  // namespace

TEST_CASE("stream encoder equals one-shot encode on every corpus file, any feed sizes", "[stream]") {
    if (!test_support::require_shared("models/bytepiece.eu.plus.40k.model")) return;
    const auto& tok = eu_model();
    std::mt19937_64 g(20261123);
    for (const char* name : {"small.txt", "en.txt", "zh.txt", "code.txt", "mixed.txt"}) {
        const std::string rel = std::string("corpus/") + name;
        if (!test_support::require_shared(rel)) continue;
        std::string text = test_support::read(test_support::shared_path(rel));
        if (text.size() > corpus_limit) text.resize(corpus_limit);
        INFO(name);
        CHECK(stream(tok, text, g) == tok.encode(text));
    }
}

TEST_CASE("stream encoder: a 5 MB single line converges and matches", "[stream]") {
    if (!test_support::require_shared("models/bytepiece.eu.plus.40k.model") ||
        !test_support::require_shared("corpus/mixed.txt"))
        return;
    const auto& tok = eu_model();
    std::string text = test_support::read(test_support::shared_path("corpus/mixed.txt"));
    text.resize(std::min<std::size_t>(text.size(), 5u << 20));
    std::replace(text.begin(), text.end(), '\n', ' ');
    std::mt19937_64 g(7);
    const ids_t expected = tok.encode(text);
    CHECK(stream(tok, text, g) == expected);
    // A small window still converges on real text: no forced cut, same ids.
    bytepiece::stream_options small;
    small.window = 4096;
    CHECK(stream(tok, text, g, small) == expected);
    // Whole line at once, then in 1-byte pieces over a prefix.
    bytepiece::stream_encoder enc(tok);
    ids_t ids;
    enc.feed(text, ids);
    enc.finish(ids);
    CHECK(ids == expected);
    const std::string_view prefix = std::string_view(text).substr(0, 300000);
    ids.clear();
    for (char c : prefix) enc.feed(std::string_view(&c, 1), ids);
    enc.finish(ids);
    CHECK(ids == tok.encode(prefix));
}

TEST_CASE("stream encoder: NFC across feed boundaries", "[stream][nfc]") {
    if (!test_support::require_shared("models/bytepiece.eu.plus.40k.model")) return;
    const auto& tok = eu_model();
    // Decomposed Latin (e + acute, a + diaeresis + acute out of canonical order), Hangul jamo
    // that compose into syllables, CJK and kana with a combining voiced mark, and no ASCII for
    // long stretches, so that cut points other than ASCII bytes are needed.
    const std::string pieces[] = {"e\xCC\x81", "a\xCC\x81\xCC\xA3", "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8",
                                  "\xE4\xB8\xAD", "\xE3\x81\x8B\xE3\x82\x99", "\xC3\xA9", " ", "x\n", "\n\n",
                                  "\xCC\x88"};
    std::mt19937_64 g(3);
    std::string text;
    while (text.size() < 200000) {
        text += pieces[std::uniform_int_distribution<std::size_t>(0, std::size(pieces) - 1)(g)];
        if (text.size() > 100000 && text.size() < 150000) {  // a long line without ASCII
            text += pieces[std::uniform_int_distribution<std::size_t>(0, 4)(g)];
        }
    }
    REQUIRE_FALSE(bytepiece::is_nfc_quick(text));
    const ids_t expected = tok.encode(text);
    for (int round = 0; round < 5; ++round) CHECK(stream(tok, text, g) == expected);
    // Every split point of a short decomposed text, including inside combining sequences.
    const std::string shortt = "Cafe\xCC\x81 \xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8 a\xCC\x81\xCC\xA3!\n\ne\xCC\x81";
    const ids_t short_expected = tok.encode(shortt);
    for (std::size_t cut = 0; cut <= shortt.size(); ++cut) {
        bytepiece::stream_encoder enc(tok);
        ids_t ids;
        enc.feed(std::string_view(shortt).substr(0, cut), ids);
        enc.feed(std::string_view(shortt).substr(cut), ids);
        enc.finish(ids);
        INFO("cut at " << cut);
        CHECK(ids == short_expected);
    }
    // Byte by byte.
    bytepiece::stream_encoder enc(tok);
    ids_t ids;
    for (char c : shortt) enc.feed(std::string_view(&c, 1), ids);
    enc.finish(ids);
    CHECK(ids == short_expected);
}

TEST_CASE("stream encoder: chunk lines, CRLF, leading newlines, no final newline", "[stream]") {
    if (!test_support::require_shared("models/bytepiece.eu.plus.40k.model")) return;
    const auto& tok = eu_model();
    const std::string texts[] = {
        "first line\r\nsecond\r\n\r\nthird\r\n",
        "\n\n\nstarts with newlines\nand ends without",
        "no newline at all",
        "",
        "\n",
        "a\n\n\n\nb\n",
        std::string(70000, 'z') + "\r\n" + std::string(100, 'q') + "\n\n" + std::string(140000, 'y'),
    };
    std::mt19937_64 g(11);
    for (const std::string& t : texts) {
        INFO(t.substr(0, 40));
        CHECK(stream(tok, t, g) == tok.encode(t));
        for (std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{4096}, std::size_t{1} << 20})
            CHECK(stream_lines(tok, t, piece) == one_shot_lines(tok, t));
    }
}

TEST_CASE("stream encoder: <bos>/<eos> and raw mode follow the tokenizer's options", "[stream]") {
    bytepiece::encode_options eo;
    eo.add_bos = eo.add_eos = true;
    const bytepiece::tokenizer tok(test_support::make_model({{"ab", 50}, {"abc", 80}, {"e\xCC\x81", 30}}), eo);
    std::mt19937_64 g(5);
    for (const std::string t : {"", "abcab\nab", "e\xCC\x81\xCC\x81 abc"}) CHECK(stream(tok, t, g) == tok.encode(t));
    eo.normalize = false;
    const bytepiece::tokenizer raw(test_support::make_model({{"ab", 50}, {"e\xCC\x81", 30}}), eo);
    const std::string t = "e\xCC\x81" "ab\xFF\xFE\n\nab";
    CHECK(stream(raw, t, g) == raw.encode(t));
}

TEST_CASE("stream encoder: forced cut on paths that never converge", "[stream][forced]") {
    // With "ab" and "ba" much likelier than single bytes, the best path to an even position
    // is ab ab ab ..., to an odd one a ba ba ...: the two chains meet only at the start, so
    // no id is ever certain before the line ends.
    const bytepiece::tokenizer tok(test_support::make_model({{"ab", 1000}, {"ba", 1000}}));
    std::string text;
    for (int i = 0; i < 5000; ++i) text += "ab";
    text += "a";
    std::mt19937_64 g(9);
    bytepiece::stream_options opt;
    opt.window = 64;
    std::uint64_t reported = 0, last_offset = 0;
    bool kinds_ok = true;
    opt.on_forced_cut = [&](const bytepiece::stream_forced_cut& c) {
        ++reported;
        kinds_ok = kinds_ok && c.reason == bytepiece::stream_forced_cut::kind::segmentation && c.offset > last_offset;
        last_offset = c.offset;
    };
    std::uint64_t forced = 0;
    const ids_t ids = stream(tok, text, g, opt, &forced);
    CHECK(forced > 0);
    CHECK(forced == reported);
    CHECK(kinds_ok);
    CHECK(last_offset < text.size());
    CHECK(tok.decode_bytes(ids.data(), ids.size()) == text);
    CHECK(ids != tok.encode(text));  // one-shot: a ba ba ... ba; the cuts change it
    // With the default window the same text converges only at the end and is exact.
    CHECK(stream(tok, text, g) == tok.encode(text));
}

TEST_CASE("stream encoder: forced NFC cut in an endless run of combining marks", "[stream][forced]") {
    const bytepiece::tokenizer tok(test_support::make_model({{"ab", 10}}));
    std::string text = "a";
    for (int i = 0; i < 2000; ++i) text += "\xCC\x81";
    bytepiece::stream_options opt;
    opt.window = 256;
    std::uint64_t normalization_cuts = 0;
    opt.on_forced_cut = [&](const bytepiece::stream_forced_cut& c) {
        if (c.reason == bytepiece::stream_forced_cut::kind::normalization) ++normalization_cuts;
    };
    bytepiece::stream_encoder enc(tok, opt);
    ids_t ids;
    for (std::size_t i = 0; i < text.size(); i += 100) enc.feed(std::string_view(text).substr(i, 100), ids);
    enc.finish(ids);
    CHECK(normalization_cuts > 0);
    CHECK(enc.forced_cuts() == normalization_cuts);
    CHECK(tok.decode(ids) == bytepiece::nfc(text));  // here every part's NFC is the same as the whole's
}

namespace {

// What a stream must give: one-shot encode's ids, except that a line with forced cuts is
// segmented as the lines it splits into at each cut's offset in the normalized text.
ids_t one_shot_split_at(const bytepiece::tokenizer& tok, std::string_view text, const std::vector<std::uint64_t>& cuts) {
    std::string storage;
    const std::string_view t = tok.normalized_view(text, storage);
    ids_t ids;
    std::size_t next = 0;
    bytepiece::for_each_chunk(t, [&](std::string_view chunk) {
        std::size_t start = static_cast<std::size_t>(chunk.data() - t.data());
        const std::size_t end = start + chunk.size();
        for (; next < cuts.size() && cuts[next] < end; ++next) {
            tok.encode_chunk(t.substr(start, cuts[next] - start), ids);
            start = cuts[next];
        }
        tok.encode_chunk(t.substr(start, end - start), ids);
    });
    return ids;
}

struct streamed {
    ids_t ids;
    std::vector<std::uint64_t> cuts;  // segmentation cuts, in order
    std::uint64_t work = 0;
    std::size_t memory = 0;
};

// Streams `text` in feeds of `feed` bytes (random sizes when 0), recording the cuts.
streamed stream_recording(const bytepiece::tokenizer& tok, std::string_view text, std::size_t window, std::size_t feed,
                          std::mt19937_64& g) {
    streamed r;
    bytepiece::stream_options opt;
    opt.window = window;
    bool other_kind = false;
    opt.on_forced_cut = [&](const bytepiece::stream_forced_cut& c) {
        if (c.reason == bytepiece::stream_forced_cut::kind::segmentation) r.cuts.push_back(c.offset);
        else other_kind = true;
    };
    bytepiece::stream_encoder enc(tok, opt);
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t n = std::min(feed ? feed : random_feed_size(g), text.size() - i);
        enc.feed(text.substr(i, n), r.ids);
        i += n;
        r.memory = std::max(r.memory, enc.memory_bytes());
    }
    enc.finish(r.ids);
    CHECK_FALSE(other_kind);  // these texts are ASCII: NFC never needs a forced cut
    CHECK(enc.forced_cuts() == r.cuts.size());
    r.work = enc.work();
    return r;
}

std::string random_letters(std::mt19937_64& g, std::size_t n, char first, unsigned letters) {
    std::string s(n, first);
    for (auto& c : s) c = static_cast<char>(first + static_cast<int>(g() % letters));
    return s;
}

}  // namespace

TEST_CASE("stream encoder: one-shot ids on hostile models and texts, lines split exactly at forced cuts",
          "[stream][forced]") {
    // Small alphabets make paths that disagree for long stretches, long pieces make deep
    // automaton states, equal counts make ties: everything that could tell a stream from the
    // one-shot Viterbi. Small windows force cuts, whose lines must then be segmented exactly as
    // one-shot segments separate lines.
    std::mt19937_64 g(16004);
    std::mt19937 rng(16004);
    for (int round = 0; round < 60; ++round) {
        const unsigned letters = 2 + static_cast<unsigned>(g() % 3);
        auto pieces = test_support::random_pieces(rng, 5 + static_cast<int>(g() % 40), 1 + static_cast<unsigned>(g() % 12),
                                                  'a', letters, round % 3 == 0 ? 1 : 50);
        const std::size_t long_length = std::size_t{1} << (4 + g() % 9);  // 16 .. 4096
        const std::string long_piece =
            round % 4 == 0 ? std::string(long_length, 'a') : random_letters(g, long_length, 'a', letters);
        pieces.emplace_back(long_piece, 1 + g() % 20);
        const bytepiece::tokenizer tok(test_support::make_model(pieces, 1 + g() % 3));
        std::string text;
        const std::size_t target = round % 5 == 0 ? 150000 + g() % 100000 : 1000 + g() % 30000;
        while (text.size() < target) {
            switch (g() % 6) {
                case 0: text += random_letters(g, 1 + g() % 2000, 'a', letters); break;
                case 1: text += std::string(1 + g() % 5000, static_cast<char>('a' + g() % letters)); break;
                case 2: for (std::size_t k = 1 + g() % 2000; k-- > 0;) text += "ab"; break;
                case 3: text += long_piece; break;
                case 4: text += pieces[g() % pieces.size()].first; break;
                default: text += g() % 4 == 0 ? "\n" : random_letters(g, 1 + g() % 50, 'a', letters); break;
            }
        }
        const std::size_t windows[] = {64, 1000, 1u << 14, 1u << 20};
        const std::size_t window = windows[g() % 4];
        const std::size_t feed = g() % 3 == 0 ? 0 : std::size_t{1} << (g() % 21);
        INFO("round " << round << ", window " << window << ", feed " << feed << ", longest piece " << long_length
                      << ", text of " << text.size() << " bytes");
        const streamed s = stream_recording(tok, text, window, feed, g);
        CHECK(s.ids == one_shot_split_at(tok, text, s.cuts));
        if (s.cuts.empty()) CHECK(s.ids == tok.encode(text));
    }
}

TEST_CASE("stream encoder: the work stays linear in the input, whatever the longest piece", "[stream][linear]") {
    // The inputs of issue 16, scaled down: one long piece and text full of copies of it; a
    // run of one byte with a piece of that byte repeated; periodic text, whose paths meet late
    // if ever; a run of newlines. The encoder's count of steps (work()) must stay a small
    // multiple of the bytes for every longest piece (the encoder before issue 16 took steps in
    // proportion to the longest piece per byte), and its buffers within the window's bound.
    // (Times are the benchmark's business: scripts/bench_stream.sh.)
    std::mt19937_64 g(4);
    for (const std::size_t length : {std::size_t{256}, std::size_t{4096}, std::size_t{16384}}) {
        const std::string piece = random_letters(g, length, 'a', 26);
        std::string copies;
        while (copies.size() < 32 * length + 300000) copies += random_letters(g, g() % length, 'a', 26) + piece;
        std::string ab;
        for (int i = 0; i < 600000; ++i) ab += "ab";
        struct hostile {
            const char* name;
            bytepiece::tokenizer tok;
            std::string text;
        };
        const hostile cases[] = {
            {"long piece", bytepiece::tokenizer(test_support::make_model({{piece, 5}})), copies},
            {"run", bytepiece::tokenizer(test_support::make_model({{std::string(length, 'a'), 1}})),
             std::string(1200000, 'a')},
            {"periodic", bytepiece::tokenizer(test_support::make_model({{"ab", 1000}, {"ba", 1000}, {piece, 1}})), ab},
            {"newlines", bytepiece::tokenizer(test_support::make_model({{"\n\n", 1000}, {piece, 1}})),
             std::string(1200000, '\n')},
        };
        for (const hostile& h : cases) {
            INFO(h.name << ", longest piece " << length << " bytes");
            for (const std::size_t window : {std::size_t{1} << 16, std::size_t{1} << 20}) {
                INFO("window " << window);
                const streamed s = stream_recording(h.tok, h.text, window, std::size_t{1} << 16, g);
                CHECK(s.ids == one_shot_split_at(h.tok, h.text, s.cuts));
                CHECK(s.work <= 8 * h.text.size());
                // 12 bytes per kept position (a power of two of them), tens per byte of the
                // longest piece (blocks are up to 16 of them), the feeds and NFC's buffers.
                const std::size_t kept = std::max(window, 2 * length);
                CHECK(s.memory <= 24 * kept + 64 * length + (6u << 20));
            }
        }
    }
}

TEST_CASE("stream encoder: each kind of forced cut says where it is and what it changed", "[stream][forced]") {
    const bytepiece::stream_forced_cut segmentation{bytepiece::stream_forced_cut::kind::segmentation, 1048576};
    const bytepiece::stream_forced_cut normalization{bytepiece::stream_forced_cut::kind::normalization, 2097152};
    const std::string s = segmentation.describe(), n = normalization.describe();
    CHECK(s.find("byte 1048576 of the normalized text") != std::string::npos);
    CHECK(s.find("segmented as two lines") != std::string::npos);
    CHECK(s.find("NFC") == std::string::npos);
    CHECK(n.find("byte 2097152 of the input") != std::string::npos);
    CHECK(n.find("NFC-normalized in two parts") != std::string::npos);
    CHECK(n.find("segment") == std::string::npos);
}

TEST_CASE("bytepiece encode: forced-cut warnings name the file, the byte and the kind of cut", "[stream][forced][cli]") {
    using test_support::cli;
    using test_support::quote;
    if (cli().empty()) return;
    // All counts equal: the best paths to positions that differ modulo 4096 in a run of 'a'
    // use the long piece as often as they can and differ in where the single 'a's go, with
    // exactly equal scores, so they never meet.
    const std::string model = test_support::scratch_path("stream_cut.model");
    test_support::make_model({{std::string(4096, 'a'), 1}}).save(model);
    const std::string out = test_support::scratch_path("stream_cut.ids");

    const std::string run = test_support::scratch_path("stream_cut_run.txt");
    test_support::write(run, std::string(1200000, 'a') + "\n");
    auto r = test_support::run(quote(cli()) + " encode -m " + quote(model) + " " + quote(run) + " 2>&1 >" + quote(out));
    CHECK(r.status == 0);
    INFO(r.out);
    CHECK(r.out.find("warning: " + run + ": at byte ") != std::string::npos);
    CHECK(r.out.find("of the normalized text") != std::string::npos);
    CHECK(r.out.find("segmented as two lines") != std::string::npos);
    CHECK(r.out.find("NFC") == std::string::npos);

    // A starter and 1.2 MB of combining acute accents: no point where NFC may cut.
    const std::string marks = test_support::scratch_path("stream_cut_marks.txt");
    std::string text = "a";
    for (int i = 0; i < 600000; ++i) text += "\xCC\x81";
    test_support::write(marks, text);
    r = test_support::run(quote(cli()) + " encode -m " + quote(model) + " " + quote(marks) + " 2>&1 >" + quote(out));
    CHECK(r.status == 0);
    INFO(r.out);
    CHECK(r.out.find("warning: " + marks + ": at byte ") != std::string::npos);
    CHECK(r.out.find("of the input") != std::string::npos);
    CHECK(r.out.find("NFC-normalized in two parts") != std::string::npos);
    CHECK(r.out.find("segment") == std::string::npos);
}

TEST_CASE("basic_stream_encoder<float, std::uint16_t> equals its tokenizer's one-shot encode", "[stream][template]") {
    // Float sums round differently from double ones, so the stream must compare the float
    // sums encode forms, not double ones: ties and near-ties of a small alphabet test that.
    using small_tokenizer = bytepiece::basic_tokenizer<float, std::uint16_t>;
    std::mt19937 rng(7);
    std::mt19937_64 g(7);
    auto pieces = test_support::random_pieces(rng, 30, 10, 'a', 3, 9);
    pieces.emplace_back(std::string(3000, 'a'), 2);
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    for (int b = 0; b < 256; ++b) counts.emplace_back(std::string(1, static_cast<char>(b)), 1 + b % 2);
    for (const auto& p : pieces)
        if (std::none_of(counts.begin(), counts.end(), [&](const auto& c) { return c.first == p.first; }))
            counts.push_back(p);
    const small_tokenizer tok(bytepiece::basic_model<float, std::uint16_t>::from_counts(counts));
    std::string text;
    while (text.size() < 400000) {
        text += random_letters(g, 1 + g() % 3000, 'a', 3);
        text += std::string(g() % 9000, 'a');
    }
    bytepiece::basic_stream_encoder<float, std::uint16_t> enc(tok);
    std::vector<std::uint16_t> ids;
    for (std::size_t i = 0; i < text.size(); i += 50000) enc.feed(std::string_view(text).substr(i, 50000), ids);
    enc.finish(ids);
    CHECK(enc.forced_cuts() == 0);
    CHECK(ids == tok.encode(text));
}
