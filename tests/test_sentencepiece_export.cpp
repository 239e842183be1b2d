// SPDX-License-Identifier: Apache-2.0
// Export to SentencePiece (spec section 5.3): the byte alphabet, the charsmap's exact bytes, the
// exported model's facts, and the agreement of libsentencepiece 0.1.97 running the export with
// BytePiece on the four released models. SentencePiece's float32 running scores may order
// equal-score pieces differently, or, deep into a long chunk, miss a better path by less than
// their rounding error; every differing chunk must be one of those (or hold NUL, which is
// <unk>), and the counts are printed for the record.
#include <bytepiece/bytepiece.hpp>
#include <bytepiece/sentencepiece_export.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#if BYTEPIECE_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

#include "sp_test_texts.hpp"
#include "test_support.hpp"

namespace {

const char* const released_models[] = {"bytepiece.plus.40k", "bytepiece.eu.plus.40k", "bytepiece.zh.id.eu.40k",
                                       "bytepiece.eu.plus.160k"};

// SHA-256 (FIPS 180-4), to pin the charsmap to the digest the spec gives without a crypto
// library. Checked against the standard "abc" vector below.
std::string sha256_hex(const std::string& data) {
    static constexpr std::uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    std::uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::string msg = data;
    const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
    msg += static_cast<char>(0x80);
    while (msg.size() % 64 != 56) msg += '\0';
    for (int s = 56; s >= 0; s -= 8) msg += static_cast<char>((bits >> s) & 0xFF);
    const auto rotr = [](std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
    for (std::size_t block = 0; block < msg.size(); block += 64) {
        std::uint32_t w[64];
        for (int i = 0; i < 16; ++i) {
            w[i] = 0;
            for (int j = 0; j < 4; ++j) w[i] = (w[i] << 8) | static_cast<unsigned char>(msg[block + 4 * i + j]);
        }
        for (int i = 16; i < 64; ++i) {
            const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int i = 0; i < 64; ++i) {
            const std::uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
            const std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            hh = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
    }
    std::string hex;
    char buf[9];
    for (const std::uint32_t v : h) {
        std::snprintf(buf, sizeof buf, "%08x", v);
        hex += buf;
    }
    return hex;
}

std::uint32_t read32(const std::string& blob, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 4; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(blob.at(at + i));
    return v;
}

// The replacement SentencePiece's normalizer finds for the single byte `c` by walking the
// charsmap's double array as darts-clone does (spec 2.1), or nullopt when no key matches.
std::optional<std::string> charsmap_lookup(const std::string& blob, unsigned char c) {
    const std::uint32_t trie_bytes = read32(blob, 0);
    const auto unit = [&](std::size_t index) { return read32(blob, 4 + 4 * index); };
    const auto offset = [](std::uint32_t u) { return (u >> 10) << ((u & 0x200) >> 6); };
    std::size_t pos = offset(unit(0)) ^ c;
    if (pos >= trie_bytes / 4) return std::nullopt;
    const std::uint32_t u = unit(pos);
    if ((u & 0x800000FFu) != c || !((u >> 8) & 1)) return std::nullopt;
    pos ^= offset(u);
    const std::size_t value = unit(pos) & 0x7FFFFFFFu;
    const std::size_t start = 4 + trie_bytes + value;
    return blob.substr(start, blob.find('\0', start) - start);
}

const bytepiece::tokenizer& released(const std::string& name) {
    static std::map<std::string, std::unique_ptr<bytepiece::tokenizer>> cache;
    auto& slot = cache[name];
    if (!slot)
        slot = std::make_unique<bytepiece::tokenizer>(
            bytepiece::tokenizer::load(test_support::shared_path("models/" + name + ".model")));
    return *slot;
}

}  // namespace

TEST_CASE("the byte alphabet gives every byte its own printable character and inverts exactly", "[sentencepiece][export]") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    std::vector<char32_t> moved;
    for (unsigned b = 0; b < 256; ++b) {
        const char32_t cp = bytepiece::byte_to_alphabet(static_cast<unsigned char>(b));
        if (cp != b) moved.push_back(cp);
        else CHECK(((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE));
    }
    // The 68 bytes that are not printable Latin-1 take U+0100.. in byte order.
    REQUIRE(moved.size() == 68);
    for (std::size_t i = 0; i < moved.size(); ++i) CHECK(moved[i] == 0x100 + i);
    CHECK(bytepiece::byte_to_alphabet(0x00) == U'\u0100');
    CHECK(bytepiece::byte_to_alphabet(' ') == U'\u0120');
    CHECK(bytepiece::byte_to_alphabet('\n') == U'\u010A');
    CHECK(bytepiece::byte_to_alphabet(0x7F) == U'\u0121');
    CHECK(bytepiece::byte_to_alphabet(0xAD) == U'\u0143');
    CHECK(bytepiece::byte_to_alphabet(0xE9) == U'\u00E9');

    std::string all;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    const std::string written = bytepiece::to_byte_alphabet(all);
    CHECK(written.find('\0') == std::string::npos);
    CHECK(bytepiece::nfc(written) == written);  // SentencePiece's input after NFC stays one character per byte
    CHECK(bytepiece::from_byte_alphabet(written) == all);
    CHECK(bytepiece::to_byte_alphabet("a b\n") == "a\xC4\xA0" "b\xC4\x8A");
    CHECK(bytepiece::from_byte_alphabet("") == std::string());

    // Not the alphabet: U+2581, U+0144 (one past it), U+00AD (soft hyphen, moved), malformed UTF-8.
    CHECK_FALSE(bytepiece::from_byte_alphabet("a\xE2\x96\x81").has_value());
    CHECK_FALSE(bytepiece::from_byte_alphabet("\xC5\x84").has_value());
    CHECK_FALSE(bytepiece::from_byte_alphabet("\xC2\xAD").has_value());
    CHECK_FALSE(bytepiece::from_byte_alphabet(" ").has_value());
    CHECK_FALSE(bytepiece::from_byte_alphabet("\xC4").has_value());
    CHECK_FALSE(bytepiece::from_byte_alphabet("\xFF").has_value());
}

TEST_CASE("the charsmap is spec 5.3's 2,723 bytes and maps each byte 1-255 to its alphabet character", "[sentencepiece][export]") {
    const std::string blob = bytepiece::byte_alphabet_charsmap();
    CHECK(blob.size() == 2723);
    CHECK(sha256_hex(blob) == "86d13c74e82b9b3eac91ca8d6786f5d1b41b95ac0d42a677d4c6cfb6ece9070d");
    REQUIRE(blob.size() > 4 + 2048);
    for (unsigned c = 1; c < 256; ++c) {
        INFO("byte " << c);
        const auto replacement = charsmap_lookup(blob, static_cast<unsigned char>(c));
        REQUIRE(replacement.has_value());
        CHECK(*replacement == bytepiece::to_byte_alphabet(std::string(1, static_cast<char>(c))));
    }
    CHECK_FALSE(charsmap_lookup(blob, 0).has_value());
}

TEST_CASE("an exported model has the pieces, scores, ids and flags of spec 5.3", "[sentencepiece][export]") {
    // Pieces that are not UTF-8, hold NUL, spaces or U+2581, or spell a SentencePiece special.
    const auto m = test_support::make_model({{"ab", 40}, {std::string("\xE4\xB8", 2), 7}, {std::string("a\0b", 3), 3},
                                             {"x y", 5}, {"\xE2\x96\x81", 2}, {"<unk>", 9}, {"</s>", 4}});
    const bytepiece::sentencepiece_model sp = bytepiece::to_sentencepiece(m);
    using type = bytepiece::sentencepiece_model::piece_type;
    REQUIRE(sp.pieces.size() == m.vocab_size());
    CHECK(sp.pieces[0].text == "<unk>");
    CHECK(sp.pieces[0].type == type::unknown);
    CHECK(sp.pieces[1].text == "<s>");
    CHECK(sp.pieces[1].type == type::control);
    CHECK(sp.pieces[2].text == "</s>");
    CHECK(sp.pieces[2].type == type::control);
    for (std::uint32_t id = 3; id < m.vocab_size(); ++id) {
        INFO("id " << id << " piece " << sp_test::escaped(m.piece(id)));
        CHECK(sp.pieces[id].type == type::normal);
        CHECK(sp.pieces[id].score == static_cast<float>(m.score(id)));
        CHECK(sp.pieces[id].text.find('\0') == std::string::npos);
        CHECK(bytepiece::from_byte_alphabet(sp.pieces[id].text) == std::string(m.piece(id)));
    }
    CHECK(sp.trainer.model_type == bytepiece::sentencepiece_model::algorithm::unigram);
    CHECK(sp.trainer.vocab_size == static_cast<std::int32_t>(m.vocab_size()));
    CHECK(sp.trainer.unk_id == 0);
    CHECK(sp.trainer.bos_id == 1);
    CHECK(sp.trainer.eos_id == 2);
    CHECK(sp.trainer.pad_id == -1);
    CHECK_FALSE(sp.trainer.byte_fallback);
    CHECK(sp.normalizer.name == "bytepiece_byte_alphabet");
    CHECK(sp.normalizer.precompiled_charsmap == bytepiece::byte_alphabet_charsmap());
    CHECK_FALSE(sp.normalizer.add_dummy_prefix);
    CHECK_FALSE(sp.normalizer.remove_extra_whitespaces);
    CHECK_FALSE(sp.normalizer.escape_whitespaces);
    CHECK_FALSE(sp.denormalizer.has_value());
    CHECK(sp.self_test.empty());
    CHECK_NOTHROW(sp.check("export"));

    // A float model exports the same bytes: its scores are the double scores rounded once.
    CHECK(bytepiece::to_sentencepiece(bytepiece::basic_model<float>::from_json(m.to_json())).serialize() == sp.serialize());

    // The file keeps all of it: the three flags are written (their absence would mean true).
    const std::string bytes = sp.serialize();
    const auto back = bytepiece::sentencepiece_model::parse(bytes, "exported");
    REQUIRE(back.pieces.size() == sp.pieces.size());
    for (std::size_t i = 0; i < sp.pieces.size(); ++i) {
        CHECK(back.pieces[i].text == sp.pieces[i].text);
        CHECK(back.pieces[i].score == sp.pieces[i].score);
        CHECK(back.pieces[i].type == sp.pieces[i].type);
    }
    CHECK(back.normalizer.precompiled_charsmap == sp.normalizer.precompiled_charsmap);
    CHECK_FALSE(back.normalizer.add_dummy_prefix);
    CHECK_FALSE(back.normalizer.remove_extra_whitespaces);
    CHECK_FALSE(back.normalizer.escape_whitespaces);
    CHECK(back.trainer.vocab_size == sp.trainer.vocab_size);
    CHECK(back.trainer.pad_id == -1);

    // SentencePiece refuses a model without a NORMAL piece, so the export refuses an empty one.
    try {
        (void)bytepiece::to_sentencepiece(bytepiece::model());
        FAIL("an empty model was exported");
    } catch (const bytepiece::model_error& e) {
        CHECK(e.code() == bytepiece::errc::model_empty);
    }

#if BYTEPIECE_HAVE_SENTENCEPIECE
    sentencepiece::SentencePieceProcessor proc;
    const auto status = proc.LoadFromSerializedProto(bytes);
    INFO(status.ToString());
    REQUIRE(status.ok());
    CHECK(proc.GetPieceSize() == static_cast<int>(m.vocab_size()));
    CHECK(proc.IsUnknown(0));
    CHECK(proc.IsControl(1));
    CHECK(proc.IsControl(2));
    CHECK(proc.unk_id() == 0);
    CHECK(proc.bos_id() == 1);
    CHECK(proc.eos_id() == 2);
    CHECK(proc.pad_id() == -1);
    for (int id = 3; id < proc.GetPieceSize(); ++id) {
        CHECK(proc.IdToPiece(id) == sp.pieces[static_cast<std::size_t>(id)].text);
        CHECK(proc.GetScore(id) == sp.pieces[static_cast<std::size_t>(id)].score);
    }
    // Spaces, the literal specials, U+2581 and non-UTF-8 bytes come out as BytePiece's pieces.
    const bytepiece::tokenizer tok(m, bytepiece::encode_options{false, false, false});
    for (const std::string& text : {std::string("x y ab"), std::string("<unk></s>"), std::string("\xE2\x96\x81\xE4\xB8\xFF"),
                                   std::string("a\tb\r\n")}) {
        std::vector<int> ids;
        REQUIRE(proc.Encode(text, &ids).ok());
        const auto ours = tok.encode(text);
        CHECK(std::vector<std::uint32_t>(ids.begin(), ids.end()) == ours);
    }
#else
    WARN("skipped the check with libsentencepiece: not found when configuring");
#endif
}

#if BYTEPIECE_HAVE_SENTENCEPIECE

namespace {

// One released model exported and loaded into SentencePiece, next to our own tokenizer.
struct exported_pair {
    const bytepiece::tokenizer* ours = nullptr;
    sentencepiece::SentencePieceProcessor sp;
};

exported_pair& exported(const std::string& name) {
    static std::map<std::string, std::unique_ptr<exported_pair>> cache;
    auto& slot = cache[name];
    if (!slot) {
        slot = std::make_unique<exported_pair>();
        slot->ours = &released(name);
        const std::string bytes = bytepiece::to_sentencepiece(slot->ours->model()).serialize();
        // Our reader's load checks accept it as SentencePiece's do.
        CHECK(bytepiece::sentencepiece_model::parse(bytes, name).pieces.size() == slot->ours->vocab_size());
        const auto status = slot->sp.LoadFromSerializedProto(bytes);
        INFO(name << ": " << status.ToString());
        REQUIRE(status.ok());
    }
    return *slot;
}

// How SentencePiece's ids for the chunks of a text compare with BytePiece's.
struct agreement {
    std::size_t chunks = 0;
    std::size_t identical = 0;
    std::size_t reordered = 0;  // the same ids as a multiset, in another order: an equal-score tie
    // Other pieces for the same bytes, scoring below BytePiece's best by less than the error
    // SentencePiece's float32 running records can make (see `within_float32_error`).
    std::size_t near_tie = 0;
    double largest_gap = 0;     // of those: BytePiece's total score minus SentencePiece's
    std::size_t with_nul = 0;   // NUL is <unk> in SentencePiece (documented)
    std::size_t other = 0;      // anything else: a defect of the export
    std::vector<std::string> examples;

    void add(const exported_pair& pair, std::string_view chunk, std::vector<int>& sp_ids, std::vector<std::uint32_t>& ids) {
        ++chunks;
        sp_ids.clear();
        const auto status = pair.sp.Encode(chunk, &sp_ids);
        ids.clear();
        pair.ours->encode_chunk(chunk, ids);
        if (status.ok() && std::equal(sp_ids.begin(), sp_ids.end(), ids.begin(), ids.end(),
                                      [](int a, std::uint32_t b) { return a >= 0 && static_cast<std::uint32_t>(a) == b; })) {
            ++identical;
            return;
        }
        std::vector<std::uint32_t> theirs;
        bool in_range = status.ok();
        for (const int id : sp_ids) {
            in_range = in_range && id >= 0 && static_cast<std::size_t>(id) < pair.ours->vocab_size();
            theirs.push_back(static_cast<std::uint32_t>(id));
        }
        if (chunk.find('\0') != std::string_view::npos) {
            // Each NUL is an unknown character for SentencePiece; the rest must still be text.
            if (in_range && std::find(theirs.begin(), theirs.end(), 0u) != theirs.end()) {
                ++with_nul;
                return;
            }
        } else if (in_range) {
            std::vector<std::uint32_t> a = theirs, b = ids;
            std::sort(a.begin(), a.end());
            std::sort(b.begin(), b.end());
            // Same multiset: the same pieces, so the same total score (up to rounding); and
            // they must spell the chunk, which a reordering of its own pieces need not.
            if (pair.ours->decode_bytes(theirs) == chunk) {
                if (a == b) {
                    ++reordered;
                    return;
                }
                const double gap = total_score(pair, ids) - total_score(pair, theirs);
                if (within_float32_error(pair, ids, theirs, gap)) {
                    ++near_tie;
                    largest_gap = std::max(largest_gap, gap);
                    return;
                }
            }
        }
        ++other;
        if (examples.size() < 5) {
            std::ostringstream s;
            s << "chunk '" << sp_test::escaped(chunk.substr(0, 200)) << "': sentencepiece [";
            for (auto id : sp_ids) s << ' ' << id;
            s << " ] bytepiece [";
            for (auto id : ids) s << ' ' << id;
            s << " ] " << status.ToString();
            examples.push_back(s.str());
        }
    }

    static double total_score(const exported_pair& pair, const std::vector<std::uint32_t>& ids) {
        double sum = 0;
        for (const auto id : ids) sum += pair.ours->model().score(id);
        return sum;
    }

    // SentencePiece rounds every running record to float32 (spec 2.3) and every score too: each
    // rounding moves a value of magnitude at most |total| by at most 2^-24 |total|. Comparing
    // two paths of k1 and k2 pieces can therefore err by up to (k1 + k2 + 2) 2^-24 |total|
    // (the +2 for the scores' own rounding, whose sum is bounded the same way); a worse path
    // chosen within that margin is arithmetic, not a wrong model. BytePiece's path must be the
    // better one (a negative gap within float64 noise is accepted as the same score).
    static bool within_float32_error(const exported_pair& pair, const std::vector<std::uint32_t>& ours,
                                     const std::vector<std::uint32_t>& theirs, double gap) {
        const double magnitude = std::max(std::fabs(total_score(pair, ours)), std::fabs(total_score(pair, theirs)));
        const double margin = static_cast<double>(ours.size() + theirs.size() + 2) * std::ldexp(magnitude, -24);
        return gap >= -std::ldexp(magnitude, -40) && gap <= margin;
    }

    void add_text(const exported_pair& pair, std::string_view nfc_text) {
        std::vector<int> sp_ids;
        std::vector<std::uint32_t> ids;
        bytepiece::for_each_chunk(nfc_text, [&](std::string_view chunk) { add(pair, chunk, sp_ids, ids); });
    }

    // One line for the record, and the test's verdict: every difference explained.
    // `exact_ties_only`: where the spec measured that every difference is a reordering.
    void report(const std::string& model, const std::string& corpus, double seconds, bool exact_ties_only) const {
        const std::size_t differing = chunks - identical;
        std::printf("sentencepiece export agreement: %-24s %-34s chunks %8zu  differing %6zu (%.2f%%)  reordered %6zu  "
                    "near-tie %3zu (largest gap %.2g)  nul %3zu  other %zu  [%.1f s]\n",
                    model.c_str(), corpus.c_str(), chunks, differing,
                    chunks ? 100.0 * static_cast<double>(differing) / static_cast<double>(chunks) : 0.0, reordered, near_tie,
                    largest_gap, with_nul, other, seconds);
        std::fflush(stdout);
        INFO(model << " on " << corpus);
        for (const auto& e : examples) UNSCOPED_INFO(e);
        CHECK(other == 0);
        if (exact_ties_only) CHECK(near_tie == 0);
        CHECK(identical + reordered + near_tie + with_nul == chunks);
    }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("SentencePiece on the export turns NUL into <unk> and nothing else", "[sentencepiece][export]") {
    if (!test_support::require_shared("models/bytepiece.eu.plus.40k.model")) return;
    auto& pair = exported("bytepiece.eu.plus.40k");
    std::vector<int> ids;
    REQUIRE(pair.sp.Encode(std::string_view("\0", 1), &ids).ok());
    CHECK(ids == std::vector<int>{0});
    ids.clear();
    // Consecutive unknowns merge into one <unk> in SentencePiece; the text around stays.
    const std::string text("ab\0\0cd", 6);
    REQUIRE(pair.sp.Encode(text, &ids).ok());
    std::vector<int> expected;
    for (auto id : pair.ours->encode(std::string_view("ab"))) expected.push_back(static_cast<int>(id));
    expected.push_back(0);
    for (auto id : pair.ours->encode(std::string_view("cd"))) expected.push_back(static_cast<int>(id));
    CHECK(ids == expected);
    // BytePiece itself has a piece for NUL, so this is the one byte the export cannot carry.
    CHECK(pair.ours->encode(std::string_view("\0", 1)) != std::vector<std::uint32_t>{0});
}

TEST_CASE("SentencePiece on the export agrees with BytePiece on the edge cases but for ties and NUL", "[sentencepiece][export][agreement]") {
    if (!test_support::require_shared("golden/edge_cases.jsonl")) return;
    std::istringstream lines(test_support::read(test_support::shared_path("golden/edge_cases.jsonl")));
    std::map<std::string, std::vector<std::pair<std::string, std::vector<std::uint32_t>>>> cases;
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        const auto j = nlohmann::json::parse(line);
        std::string text;
        REQUIRE(bytepiece::detail::base64_decode(j.at("text_b64").get<std::string>(), text));
        cases[j.at("model").get<std::string>()].emplace_back(text, j.at("ids").get<std::vector<std::uint32_t>>());
    }
    for (const std::string name : released_models) {
        if (!test_support::require_shared("models/" + name + ".model")) continue;
        const auto start = std::chrono::steady_clock::now();
        auto& pair = exported(name);
        agreement a;
        REQUIRE(cases[name].size() > 0);
        for (const auto& [text, reference] : cases[name]) {
            // Anchors "BytePiece's ids" to the reference's: our encoder is the one compared.
            CHECK(pair.ours->encode(text) == reference);
            a.add_text(pair, bytepiece::nfc(text));
        }
        a.report(name, "edge_cases.jsonl (" + std::to_string(cases[name].size()) + " texts)", seconds_since(start), true);
    }
}

TEST_CASE("SentencePiece on the export agrees with BytePiece on small.txt and mixed.txt but for ties", "[sentencepiece][export][agreement]") {
    for (const std::string corpus : {"small", "mixed"}) {
        const std::string rel = "corpus/" + corpus + ".txt";
        if (!test_support::require_shared(rel)) continue;
        const std::string text = bytepiece::nfc(test_support::read(test_support::shared_path(rel)));
        std::string label = corpus + ".txt";
        std::string_view sample = text;
        std::string strided;
        // A full run (BYTEPIECE_TEST_FULL=1) covers every chunk. By default every 4th block of
        // about 64 KiB (cut at chunk boundaries; every 8th under the sanitizers, several times
        // slower), so that the sample spans the whole file and all its sources within the CI's time.
#if BYTEPIECE_SANITIZE
        const std::size_t every = test_support::corpus_stride(8);
#else
        const std::size_t every = test_support::corpus_stride(4);
#endif
        if (every > 1 && text.size() > (4u << 20)) {
            std::size_t block = 0;
            for (std::size_t p = 0; p < text.size(); ++block) {
                std::size_t q = std::min(text.size(), p + (64u << 10));
                q = text.find('\n', q);
                q = q == std::string::npos ? text.size() : text.find_first_not_of('\n', q);
                if (q == std::string::npos) q = text.size();
                if (block % every == 0) strided.append(text, p, q - p);
                p = q;
            }
            sample = strided;
            label += " (every " + std::to_string(every) + "th 64 KiB block)";
        }
        for (const std::string name : released_models) {
            if (!test_support::require_shared("models/" + name + ".model")) continue;
            const auto start = std::chrono::steady_clock::now();
            auto& pair = exported(name);
            agreement a;
            a.add_text(pair, sample);
            // small.txt: every difference a reordering (spec 5.3's measurement); on the 20 MB
            // file a few long chunks reach running totals where float32 records cannot tell
            // apart paths that differ by ~1e-5, so near ties are counted there too.
            a.report(name, label, seconds_since(start), corpus == "small");
            // The design's promise (issue 17): at least 99% of chunks on ordinary text; the
            // spec measured 0.34-1.10% differing on small.txt.
            CHECK(static_cast<double>(a.identical) >= 0.985 * static_cast<double>(a.chunks));
        }
    }
}

#else

TEST_CASE("agreement with SentencePiece", "[sentencepiece][export]") {
    WARN("skipped: libsentencepiece was not found when configuring, so the export's agreement cannot be measured");
}

#endif
