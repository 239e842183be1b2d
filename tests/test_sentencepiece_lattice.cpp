// SPDX-License-Identifier: Apache-2.0
// Sampling, n-best, entropy and the partition function over SentencePiece's lattice equal an
// exact enumeration of every segmentation (written here independently of the library's
// lattice), on hand-made models and on short texts with the real fixtures.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "bytepiece/random.hpp"
#include "bytepiece/sentencepiece_tokenizer.hpp"
#include "sp_test_texts.hpp"
#include "test_support.hpp"

#ifdef BYTEPIECE_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

namespace {

using bytepiece::sentencepiece_model;
using bytepiece::sentencepiece_tokenizer;
using piece_type = sentencepiece_model::piece_type;
using ids_type = std::vector<std::uint32_t>;

struct path {
    ids_type ids;
    double score;
};

// Every segmentation of `text` (already normalized) by SentencePiece's rules, from the model's
// pieces directly: at each character start, every NORMAL or USER_DEFINED piece (up to its
// first NUL) that is a prefix ending at a character end, and an unknown character when no
// piece is exactly that character. Ids follow Encode's rules for unknowns.
class enumerator {
public:
    enumerator(const sentencepiece_tokenizer& tok, std::string text) : tok_(tok), m_(tok.model()), s_(std::move(text)) {
        float lo = FLT_MAX, hi = FLT_MIN;
        for (const auto& p : m_.pieces)
            if (p.type == piece_type::normal) {
                lo = std::min(lo, p.score);
                hi = std::max(hi, p.score);
            }
        unknown_ = lo - 10.0f;
        highest_ = hi;
        for (std::size_t p = 0; p < s_.size();) {
            const auto lead = static_cast<unsigned char>(s_[p]);
            const std::size_t len = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
            p = std::min(p + len, s_.size());
            ends_.push_back(p);
        }
    }

    std::vector<path> all() {
        out_.clear();
        std::vector<std::pair<std::uint32_t, std::size_t>> nodes;  // (id or ~0u for unknown, begin)
        walk(0, 0.0, nodes);
        return out_;
    }

private:
    bool is_end(std::size_t p) const { return std::find(ends_.begin(), ends_.end(), p) != ends_.end(); }

    void walk(std::size_t p, double score, std::vector<std::pair<std::uint32_t, std::size_t>>& nodes) {
        if (p == s_.size()) {
            out_.push_back({ids_of(nodes), score});
            return;
        }
        const std::size_t char_end = *std::upper_bound(ends_.begin(), ends_.end(), p);
        bool single = false;
        for (std::size_t id = 0; id < m_.pieces.size(); ++id) {
            const auto& piece = m_.pieces[id];
            if (piece.type != piece_type::normal && piece.type != piece_type::user_defined) continue;
            const std::string key = piece.text.substr(0, piece.text.find('\0'));
            if (key.empty() || s_.compare(p, key.size(), key) != 0 || !is_end(p + key.size())) continue;
            if (p + key.size() == char_end) single = true;
            const double s = piece.type == piece_type::user_defined
                                 ? static_cast<double>(static_cast<float>(key.size()) * highest_) - 0.1
                                 : static_cast<double>(piece.score);
            nodes.emplace_back(static_cast<std::uint32_t>(id), p);
            walk(p + key.size(), score + s, nodes);
            nodes.pop_back();
        }
        if (!single) {
            nodes.emplace_back(~0u, p);
            walk(char_end, score + static_cast<double>(unknown_), nodes);
            nodes.pop_back();
        }
    }

    ids_type ids_of(const std::vector<std::pair<std::uint32_t, std::size_t>>& nodes) const {
        static const char* const hex = "0123456789ABCDEF";
        ids_type ids;
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            if (nodes[i].first != ~0u) {
                ids.push_back(nodes[i].first);
                continue;
            }
            const std::size_t begin = nodes[i].second;
            const std::size_t end = i + 1 < nodes.size() ? nodes[i + 1].second : s_.size();
            if (m_.trainer.byte_fallback) {
                for (std::size_t b = begin; b < end; ++b) {
                    const auto c = static_cast<unsigned char>(s_[b]);
                    ids.push_back(*tok_.piece_to_id(std::string("<0x") + hex[c >> 4] + hex[c & 15] + ">"));
                }
            } else if (i == 0 || nodes[i - 1].first != ~0u) {
                ids.push_back(*tok_.piece_to_id("<unk>"));
            }
        }
        return ids;
    }

    const sentencepiece_tokenizer& tok_;
    const sentencepiece_model& m_;
    std::string s_;
    std::vector<std::size_t> ends_;
    float unknown_ = 0, highest_ = 0;
    std::vector<path> out_;
};

double log_sum_exp(const std::vector<path>& paths, double alpha) {
    double top = -std::numeric_limits<double>::infinity();
    for (const auto& p : paths) top = std::max(top, alpha * p.score);
    double sum = 0;
    for (const auto& p : paths) sum += std::exp(alpha * p.score - top);
    return top + std::log(sum);
}

// Exact probabilities of each id sequence under exp(alpha * score).
std::map<ids_type, double> probabilities(const std::vector<path>& paths, double alpha) {
    const double log_z = log_sum_exp(paths, alpha);
    std::map<ids_type, double> p;
    for (const auto& x : paths) p[x.ids] += std::exp(alpha * x.score - log_z);
    return p;
}

// Pearson's chi-square of `draws` samples from `draw` against `expected`; samples outside
// `expected` count as infinitely unlikely.
template <class Draw>
double chi_square(const std::map<ids_type, double>& expected, std::size_t draws, Draw&& draw) {
    std::map<ids_type, std::size_t> seen;
    for (std::size_t i = 0; i < draws; ++i) {
        const ids_type ids = draw();
        if (expected.find(ids) == expected.end()) return std::numeric_limits<double>::infinity();
        ++seen[ids];
    }
    double chi = 0;
    for (const auto& [ids, p] : expected) {
        const double e = p * static_cast<double>(draws);
        const double o = static_cast<double>(seen[ids]);
        chi += (o - e) * (o - e) / e;
    }
    return chi;
}

// A bound a correct sampler stays under with overwhelming probability: the chi-square
// distribution's mean (df) plus ten of its standard deviations (sqrt(2 df)), plus slack for
// the few small-expectation cells. A wrong distribution over thousands of draws lands far above.
double chi_square_bound(std::size_t cells) {
    const double df = static_cast<double>(cells - 1);
    return df + 10 * std::sqrt(2 * df) + 20;
}

// How many texts the wrong sampler was tried on (some texts' distribution barely depends on
// alpha): the test cases require a few, so that the check cannot silently do nothing.
std::size_t wrong_sampler_checks = 0;

void check_against_enumeration(const sentencepiece_tokenizer& tok, const std::string& text, bool sample_check) {
    INFO("text: \"" << text << "\"");
    const std::string normalized = tok.normalize(text);
    std::vector<path> paths = enumerator(tok, normalized).all();
    REQUIRE(!paths.empty());
    INFO(paths.size() << " segmentations");

    for (const double alpha : {0.0, 0.25, 1.0, 3.0}) {
        INFO("alpha " << alpha);
        const double log_z = log_sum_exp(paths, alpha);
        CHECK(tok.log_partition(text, alpha) == Approx(log_z).epsilon(1e-12).margin(1e-12));
        double h = 0;
        for (const auto& p : paths) {
            const double q = alpha * p.score - log_z;
            h -= std::exp(q) * q;
        }
        CHECK(tok.entropy(text, alpha) == Approx(h).epsilon(1e-12).margin(1e-12));
        if (alpha == 0.0) CHECK(tok.entropy(text, 0) == Approx(std::log(static_cast<double>(paths.size()))));
    }

    // n-best: the enumeration's best k, scores equal (both sum left to right in double).
    std::stable_sort(paths.begin(), paths.end(), [](const path& a, const path& b) { return a.score > b.score; });
    for (const std::size_t k : {std::size_t{1}, std::size_t{2}, std::size_t{5}, paths.size(), paths.size() + 3}) {
        const auto best = tok.nbest(text, k);
        REQUIRE(best.size() == std::min(k, paths.size()));
        std::vector<ids_type> listed;
        for (std::size_t i = 0; i < best.size(); ++i) {
            CHECK(best[i].score == paths[i].score);
            const auto it = std::find_if(paths.begin(), paths.end(), [&](const path& p) { return p.ids == best[i].ids; });
            REQUIRE(it != paths.end());
            CHECK(it->score == best[i].score);
            CHECK(std::find(listed.begin(), listed.end(), best[i].ids) == listed.end());
            listed.push_back(best[i].ids);
        }
    }
    CHECK(tok.nbest(text, 0).empty());

    if (!sample_check) return;
    const double alpha = 1.0;
    const auto expected = probabilities(paths, alpha);
    const std::size_t draws = 20000;
    bytepiece::splitmix64 g(20261207);
    const double good = chi_square(expected, draws, [&] { return tok.sample(text, alpha, g); });
    INFO("chi-square " << good << " over " << expected.size() << " cells, bound " << chi_square_bound(expected.size()));
    CHECK(good < chi_square_bound(expected.size()));
    // The same check refuses a sampler that ignores alpha (when alpha matters for this text).
    double spread = 0;
    const auto uniform = probabilities(paths, 0.0);
    for (const auto& [ids, p] : expected) spread = std::max(spread, std::abs(p - uniform.at(ids)));
    if (spread > 0.05) {
        ++wrong_sampler_checks;
        const double wrong = chi_square(expected, draws, [&] { return tok.sample(text, 0.0, g); });
        INFO("alpha ignored: chi-square " << wrong);
        CHECK(wrong > chi_square_bound(expected.size()));
    }
}

const std::vector<std::pair<std::string, float>> small_pieces = {
    {"a", -1.5f}, {"b", -2.0f},  {"c", -2.5f},  {"ab", -2.0f}, {"bc", -1.0f}, {"abc", -4.5f},
    {"ca", -3.0f}, {"xa", -2.2f}, {"\xC3\xA9", -3.0f}, {"\xC3\xA9" "a", -2.0f}, {"aa", -2.75f},
};

}  // namespace

TEST_CASE("SentencePiece lattice: hand-made models match exact enumeration", "[sentencepiece][lattice]") {
    wrong_sampler_checks = 0;
    const sentencepiece_tokenizer tok(sp_test::plain_model(small_pieces));
    for (const std::string text : {"a", "ab", "abc", "abcab", "aabca", "xab", "axxbc", "x\xC3\xA9" "ab", "zz",
                                   "\xC3\xA9\xC3\xA9" "aab"})
        check_against_enumeration(tok, text, true);
    // A longer text, without the sampling (many segmentations, few draws each).
    check_against_enumeration(tok, "abcabcaabca", false);

    const sentencepiece_tokenizer bytes(sp_test::plain_model(small_pieces, true));
    for (const std::string text : {"xab", "a\xE4\xBD\xA0\xE5\xA5\xBD" "bc", "xxa"}) check_against_enumeration(bytes, text, true);
    CHECK(wrong_sampler_checks >= 8);
}

TEST_CASE("SentencePiece lattice: real models match exact enumeration on short texts", "[sentencepiece][lattice]") {
    for (const char* relative : {"models/sp/spm-u2k-nmt_nfkc.model", "models/sp/spm-u2k-bytefallback.model"}) {
        if (!test_support::require_shared(relative)) continue;
        INFO(relative);
        wrong_sampler_checks = 0;
        const auto tok = sentencepiece_tokenizer::load(test_support::shared_path(relative));
        for (const std::string text : {"Hello", "the cat", "price: \xE2\x82\xAC" "1", "\xE4\xBD\xA0\xE5\xA5\xBD!", "caf\xC3\xA9's"})
            check_against_enumeration(tok, text, true);
        check_against_enumeration(tok, "Hello world", false);
        CHECK(wrong_sampler_checks >= 3);
    }
}

TEST_CASE("SentencePiece lattice: nbest(text, 1) is encode(text) on the fixtures' sample lines", "[sentencepiece][lattice]") {
    const char* const models[] = {"models/sp/spm-u2k-nmt_nfkc.model", "models/sp/spm-u2k-bytefallback.model",
                                  "models/sp/albert-30k-clean.model", "models/sp/spm-u2k-nodummy-nows.model"};
    if (!test_support::require_shared("models/sp/sample.jsonl")) return;
    std::string line = test_support::read(test_support::shared_path("models/sp/sample.jsonl"));
    // One JSON string with no escapes: strip the quotes and the newline.
    line = line.substr(line.find('"') + 1);
    line = line.substr(0, line.rfind('"'));
    for (const char* relative : models) {
        if (!test_support::require_shared(relative)) continue;
        INFO(relative);
        const auto tok = sentencepiece_tokenizer::load(test_support::shared_path(relative));
        std::vector<std::string> texts = {line, "Hello world!", "  spaces   and\ttabs ", "\xE4\xBD\xA0\xE5\xA5\xBD"};
        for (const auto& sample : tok.model().self_test) texts.push_back(sample.input);
        // And the first lines of the small corpus (prose, code, several scripts).
        if (test_support::require_shared("corpus/small.txt")) {
            const std::string corpus = test_support::read(test_support::shared_path("corpus/small.txt"));
            for (std::size_t from = 0, lines = 0; from < corpus.size() && lines < 300; ++lines) {
                const std::size_t to = std::min(corpus.find('\n', from), corpus.size());
                texts.push_back(corpus.substr(from, to - from));
                from = to + 1;
            }
        }
        std::size_t equal = 0;
        for (const auto& text : texts) {
            INFO("text: \"" << text << "\"");
            const auto ids = tok.encode(text);
            const auto best = tok.nbest(text, 1);
            REQUIRE(best.size() == 1);
            if (best[0].ids == ids) {
                ++equal;
                continue;
            }
            // Only float rounding may part them: encode's path is then among the next best,
            // scoring the same to float precision.
            const auto more = tok.nbest(text, 16);
            const auto it = std::find_if(more.begin(), more.end(), [&](const auto& s) { return s.ids == ids; });
            REQUIRE(it != more.end());
            CHECK(std::abs(it->score - best[0].score) <= 1e-6 * std::abs(best[0].score));
        }
        WARN(relative << ": nbest(text, 1) == encode(text) on " << equal << " of " << texts.size() << " texts");
        CHECK(equal * 10 >= texts.size() * 9);
    }
}

TEST_CASE("SentencePiece lattice: seeds, empty texts and bad alpha", "[sentencepiece][lattice]") {
    const sentencepiece_tokenizer tok(sp_test::plain_model(small_pieces));
    // The same seed gives the same draws; the seed overload is splitmix64 with that seed.
    bytepiece::splitmix64 g(5);
    for (int i = 0; i < 50; ++i) CHECK(tok.sample("abcabcab", 0.5, std::uint64_t{5} + static_cast<std::uint64_t>(i)) ==
                                       tok.sample("abcabcab", 0.5, std::uint64_t{5} + static_cast<std::uint64_t>(i)));
    CHECK(tok.sample("abcabcab", 0.5, std::uint64_t{5}) == tok.sample("abcabcab", 0.5, g));

    CHECK(tok.sample("", 1.0, std::uint64_t{1}).empty());
    CHECK(tok.log_partition("", 1.0) == 0.0);
    CHECK(tok.entropy("", 1.0) == 0.0);
    const auto empty = tok.nbest("", 3);
    REQUIRE(empty.size() == 1);
    CHECK(empty[0].ids.empty());
    CHECK(empty[0].score == 0.0);

    for (const double bad : {-1.0, -0.0001, std::nan(""), std::numeric_limits<double>::infinity()}) {
        INFO("alpha " << bad);
        for (int which = 0; which < 3; ++which) {
            try {
                if (which == 0) (void)tok.sample("ab", bad, std::uint64_t{1});
                if (which == 1) (void)tok.entropy("ab", bad);
                if (which == 2) (void)tok.log_partition("ab", bad);
                FAIL("no error");
            } catch (const bytepiece::argument_error& e) {
                CHECK(e.code() == bytepiece::errc::invalid_argument);
                CHECK_THAT(e.what(), Catch::Contains("alpha") && Catch::Contains(std::to_string(bad)));
            }
        }
    }
    // A huge alpha that overflows the sums is refused, not answered with NaN.
    const sentencepiece_tokenizer big(sp_test::plain_model({{"a", -3e38f}, {"aa", -1.0f}}));
    CHECK_THROWS_AS(big.log_partition("aaa", 1e300), bytepiece::argument_error);
}

#ifdef BYTEPIECE_HAVE_SENTENCEPIECE
TEST_CASE("SentencePiece lattice: the n-best lists hold SentencePiece's NBestEncode segmentations", "[sentencepiece][lattice][oracle]") {
    // Scores here are multiples of 1/4, so SentencePiece's float sums are exact too and only
    // the order among equal scores may differ: compare the lists as sets, and score order.
    const sentencepiece_model m = sp_test::plain_model(small_pieces);
    const sentencepiece_tokenizer tok(m);
    sentencepiece::SentencePieceProcessor sp;
    REQUIRE(sp.LoadFromSerializedProto(m.serialize()).ok());
    for (const std::string text : {"abcab", "aabca", "xab", "axxbc", "abcabcaabca"}) {
        INFO("text: \"" << text << "\"");
        const auto ours = tok.nbest(text, 1000);
        std::vector<std::vector<int>> theirs;
        REQUIRE(sp.NBestEncode(text, static_cast<int>(ours.size()), &theirs).ok());
        REQUIRE(theirs.size() == ours.size());
        std::vector<std::vector<int>> mine;
        for (std::size_t i = 0; i < ours.size(); ++i) {
            mine.emplace_back(ours[i].ids.begin(), ours[i].ids.end());
            if (i > 0) CHECK(ours[i - 1].score >= ours[i].score);
        }
        std::sort(mine.begin(), mine.end());
        std::sort(theirs.begin(), theirs.end());
        CHECK(mine == theirs);
    }
}
#endif
