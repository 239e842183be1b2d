// SPDX-License-Identifier: Apache-2.0
// Lattice analytics against brute force: every segmentation of short strings is enumerated and
// nbest, log_partition, entropy, expected counts, log_probability and sampling without
// replacement are compared with what the enumeration says; long texts are checked against an
// independent k-best dynamic program.
#include <bytepiece/lattice.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "test_support.hpp"

namespace {

using ids_t = std::vector<std::uint32_t>;

bool verbose() { return std::getenv("BYTEPIECE_TEST_VERBOSE") != nullptr; }

using test_support::file_exists;

std::string real_model_path() { return test_support::shared_path("models/bytepiece.eu.plus.40k.model"); }

// Overlapping pieces, equal counts (so exact score ties exist) and one piece, "a\nb", that
// can never be used because it would cross a chunk boundary.
bytepiece::model small_model() {
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    for (int b = 0; b < 256; ++b) {
        const bool letter = (b >= 'a' && b <= 'z') || b == ' ' || b == '\n';
        counts.emplace_back(std::string(1, static_cast<char>(b)), letter ? 40 : 2);
    }
    const std::vector<std::pair<std::string, std::uint64_t>> extra = {
        {"ab", 30},  {"ba", 20}, {"abc", 15}, {"bc", 10},  {"ca", 6},   {"aa", 25},      {"aaa", 8},   {"an", 40},
        {"na", 40},  {"ana", 12}, {"ban", 9}, {"banana", 3}, {"nan", 4}, {"中", 20},      {"国", 18},   {"中国", 30},
        {"人", 15},  {"国人", 5}, {"中国人", 4}, {"é", 10}, {"\n\n", 5}, {"he", 20},      {"ll", 10},   {"lo", 12},
        {"llo", 6}, {"hello", 4}, {" b", 7},  {"a\n", 3},  {"a\nb", 50}};
    counts.insert(counts.end(), extra.begin(), extra.end());
    return bytepiece::model::from_counts(counts);
}

const bytepiece::tokenizer& small_tokenizer() {
    static const bytepiece::tokenizer tok(small_model());
    return tok;
}

const bytepiece::tokenizer* real_tokenizer() {
    static const std::unique_ptr<bytepiece::tokenizer> tok =
        file_exists(real_model_path()) ? std::make_unique<bytepiece::tokenizer>(bytepiece::tokenizer::load(real_model_path()))
                                       : nullptr;
    return tok.get();
}

std::vector<std::pair<std::size_t, std::size_t>> chunks_of(std::string_view t) {
    std::vector<std::pair<std::size_t, std::size_t>> chunks;
    bytepiece::for_each_chunk(t, [&](std::string_view c) {
        const std::size_t b = static_cast<std::size_t>(c.data() - t.data());
        chunks.emplace_back(b, b + c.size());
    });
    return chunks;
}

std::size_t chunk_end(const std::vector<std::pair<std::size_t, std::size_t>>& chunks, std::size_t pos) {
    for (const auto& c : chunks)
        if (c.first <= pos && pos < c.second) return c.second;
    return pos;
}

// Every segmentation of the normalized text, by depth-first search.
std::vector<ids_t> enumerate(const bytepiece::tokenizer& tok, std::string_view text) {
    std::string storage;
    const std::string_view t = tok.normalized_view(text, storage);
    const auto chunks = chunks_of(t);
    std::vector<ids_t> out;
    ids_t cur;
    const auto* bytes = reinterpret_cast<const unsigned char*>(t.data());
    std::function<void(std::size_t)> go = [&](std::size_t pos) {
        if (pos == t.size()) {
            out.push_back(cur);
            return;
        }
        tok.trie().common_prefix_search(bytes + pos, chunk_end(chunks, pos) - pos, [&](std::size_t len, std::int32_t id) {
            cur.push_back(static_cast<std::uint32_t>(id));
            go(pos + len);
            cur.pop_back();
        });
    };
    go(0);
    return out;
}

double total_score(const bytepiece::tokenizer& tok, const ids_t& ids) {
    double s = 0;
    for (auto id : ids) s += tok.model().score(id);
    return s;
}

struct brute {
    double log_z = 0;
    double entropy = 0;
    std::vector<double> probs;
    std::vector<double> log_probs;
    std::vector<double> counts;  // expected count per id
};

brute brute_force(const bytepiece::tokenizer& tok, const std::vector<ids_t>& segs, double alpha) {
    brute b;
    std::vector<double> lw(segs.size());
    double top = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < segs.size(); ++i) top = std::max(top, lw[i] = alpha * total_score(tok, segs[i]));
    double z = 0;
    for (double x : lw) z += std::exp(x - top);
    b.log_z = top + std::log(z);
    b.counts.assign(tok.vocab_size(), 0.0);
    for (std::size_t i = 0; i < segs.size(); ++i) {
        const double p = std::exp(lw[i] - b.log_z);
        b.probs.push_back(p);
        b.log_probs.push_back(lw[i] - b.log_z);
        if (p > 0) b.entropy -= p * std::log(p);
        for (auto id : segs[i]) b.counts[id] += p;
    }
    return b;
}

const std::vector<std::string>& short_texts() {
    static const std::vector<std::string> texts = {"banana", "abcab",   "hello", "中国人",           "é中a",
                                                   "ab 中国", "aaaaaaa", "ab\nba", "\n\nab",           "a\nb",
                                                   "nanana", "a b ba", "aaaaaaaaaaaaaaaa" /* 10,609 */};
    return texts;
}


// Top-k path scores by a per-position k-best dynamic program: an independent reference.
std::vector<double> kbest_scores_reference(const bytepiece::tokenizer& tok, std::string_view t, std::size_t k) {
    const auto chunks = chunks_of(t);
    const auto* bytes = reinterpret_cast<const unsigned char*>(t.data());
    std::vector<std::vector<double>> best(t.size() + 1);
    best[0] = {0.0};
    for (std::size_t s = 0; s < t.size(); ++s) {
        tok.trie().common_prefix_search(bytes + s, chunk_end(chunks, s) - s, [&](std::size_t len, std::int32_t id) {
            auto& dst = best[s + len];
            for (double v : best[s]) dst.push_back(v + tok.model().score(static_cast<std::uint32_t>(id)));
        });
        if (s + 1 <= t.size()) {
            auto& next = best[s + 1];
            std::sort(next.begin(), next.end(), std::greater<>());
            if (next.size() > k) next.resize(k);
        }
        best[s].clear();
        best[s].shrink_to_fit();
    }
    auto& last = best[t.size()];
    std::sort(last.begin(), last.end(), std::greater<>());
    if (last.size() > k) last.resize(k);
    return last;
}

}  // namespace

TEST_CASE("log_partition, entropy, expected counts and log_probability equal brute force", "[lattice][exact]") {
    const auto& tok = small_tokenizer();
    for (const auto& text : short_texts()) {
        const auto segs = enumerate(tok, text);
        REQUIRE(!segs.empty());
        for (double alpha : {0.0, 0.1, 0.5, 1.0, 4.0, 30.0}) {
            INFO("text \"" << text << "\" alpha " << alpha << " (" << segs.size() << " segmentations)");
            const brute b = brute_force(tok, segs, alpha);
            const auto lat = tok.lattice(text, alpha);
            CHECK(lat.log_partition() == Approx(b.log_z).epsilon(1e-12).margin(1e-12));
            CHECK(tok.log_partition(text, alpha) == Approx(b.log_z).epsilon(1e-12).margin(1e-12));
            CHECK(lat.entropy() == Approx(b.entropy).epsilon(1e-10).margin(1e-12));
            CHECK(tok.entropy(text, alpha) == Approx(b.entropy).epsilon(1e-10).margin(1e-12));
            const auto counts = lat.expected_counts();
            REQUIRE(counts.size() == tok.vocab_size());
            for (std::size_t id = 0; id < counts.size(); ++id) CHECK(counts[id] == Approx(b.counts[id]).margin(1e-12));
            for (std::size_t i = 0; i < segs.size(); i += 1 + segs.size() / 200)
                CHECK(lat.log_probability(segs[i]) == Approx(b.log_probs[i]).epsilon(1e-10).margin(1e-10));
            if (alpha == 0.0) CHECK(lat.log_partition() == Approx(std::log(static_cast<double>(segs.size()))));
        }
    }
}

TEST_CASE("log_probability rejects sequences that are not segmentations", "[lattice]") {
    const auto& tok = small_tokenizer();
    const double ninf = -std::numeric_limits<double>::infinity();
    const auto lat = tok.lattice("a\nb", 1.0);
    const auto cross = tok.piece_to_id("a\nb");
    REQUIRE(cross);
    CHECK(lat.log_probability(ids_t{*cross}) == ninf);  // crosses the chunk boundary
    CHECK(lat.log_probability(tok.encode("a\nb")) > ninf);
    CHECK(lat.log_probability(tok.encode("a\nc")) == ninf);  // wrong text
    CHECK(lat.log_probability(tok.encode("a\n")) == ninf);   // too short
    ids_t with_specials = tok.encode("a\nb");
    with_specials.insert(with_specials.begin(), 1u);
    with_specials.push_back(2u);
    CHECK(lat.log_probability(with_specials) == lat.log_probability(tok.encode("a\nb")));
    CHECK_THROWS_AS(lat.log_probability(ids_t{99999999u}), bytepiece::decode_error);
    CHECK(tok.score(tok.encode("banana")) == Approx(total_score(tok, tok.encode("banana"))));
    CHECK_THROWS_AS(tok.score(ids_t{99999999u}), bytepiece::decode_error);
    CHECK(tok.score(ids_t{0u, 1u, 2u}) == 0.0);
}

TEST_CASE("nbest equals brute-force sorting, over one chunk and several", "[lattice][nbest]") {
    const auto& tok = small_tokenizer();
    for (const auto& text : short_texts()) {
        const auto segs = enumerate(tok, text);
        std::vector<double> sorted;
        std::map<std::vector<std::uint32_t>, double> valid;
        for (const auto& s : segs) {
            sorted.push_back(total_score(tok, s));
            valid[s] = sorted.back();
        }
        std::sort(sorted.begin(), sorted.end(), std::greater<>());
        for (std::size_t k : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{50}, segs.size(), segs.size() + 3}) {
            if (k > 2000) continue;
            INFO("text \"" << text << "\" k " << k);
            const auto best = tok.nbest(text, k);
            REQUIRE(best.size() == std::min(k, segs.size()));
            CHECK(best.front().ids == tok.encode(text));
            std::set<ids_t> distinct;
            for (std::size_t r = 0; r < best.size(); ++r) {
                const auto it = valid.find(best[r].ids);
                REQUIRE(it != valid.end());
                CHECK(best[r].score == it->second);
                CHECK(best[r].score == Approx(sorted[r]).margin(1e-12));
                if (r > 0) CHECK(best[r].score <= best[r - 1].score);
                distinct.insert(best[r].ids);
            }
            CHECK(distinct.size() == best.size());
        }
    }
}

TEST_CASE("nbest on long texts matches an independent k-best dynamic program", "[lattice][nbest]") {
    std::vector<std::pair<std::string, const bytepiece::tokenizer*>> models = {{"small", &small_tokenizer()}};
    if (const auto* real = real_tokenizer()) models.emplace_back("eu.plus.40k", real);
    std::string text;
    const std::string path = std::string(BYTEPIECE_SHARED_DIR) + "/corpus/small.txt";
    if (file_exists(path)) text = bytepiece::detail::read_file(path).substr(0, 2500);
    else text = "banana hello 中国人 aaaaaaaaaaa\nabcab é\n\nban ana nanana\n";
    for (const auto& [name, tok] : models) {
        for (std::size_t k : {std::size_t{1}, std::size_t{10}, std::size_t{64}}) {
            INFO(name << " k " << k);
            std::string storage;
            const auto ref = kbest_scores_reference(*tok, tok->normalized_view(text, storage), k);
            const auto got = tok->nbest(text, k);
            REQUIRE(got.size() == ref.size());
            CHECK(got.front().ids == tok->encode(text));
            for (std::size_t r = 0; r < got.size(); ++r) {
                CHECK(got[r].score == Approx(ref[r]).margin(1e-9));
                CHECK(got[r].score == Approx(tok->score(got[r].ids)).margin(1e-12));
                CHECK(tok->decode_bytes(got[r].ids.data(), got[r].ids.size()) == std::string(tok->normalized_view(text, storage)));
            }
            std::set<ids_t> distinct;
            for (const auto& g : got) distinct.insert(g.ids);
            CHECK(distinct.size() == got.size());
        }
    }
}

TEST_CASE("nbest with k = 1024 on 100,000 bytes is exact and quick", "[lattice][nbest][long]") {
    const bytepiece::tokenizer* tok = real_tokenizer() ? real_tokenizer() : &small_tokenizer();
    std::string text;
    const std::string path = std::string(BYTEPIECE_SHARED_DIR) + "/corpus/mixed.txt";
    if (file_exists(path)) text = bytepiece::detail::read_file(path).substr(0, 100000);
    while (text.size() < 100000) text += "banana hello 中国人 aaaa abcab\n";
    std::string one_line = text;
    for (char& c : one_line)
        if (c == '\n') c = ' ';
    bytepiece::encode_options raw;
    raw.normalize = false;
    const bytepiece::tokenizer raw_tok(tok->model(), raw);
    for (const std::string* t : {&text, &one_line}) {
        const auto start = std::chrono::steady_clock::now();
        const auto best = raw_tok.nbest(*t, 1024);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (verbose()) std::printf("nbest k=1024 on %zu bytes (%s): %.3f s\n", t->size(), t == &text ? "many chunks" : "one chunk", seconds);
        REQUIRE(best.size() == 1024);
        CHECK(best.front().ids == raw_tok.encode(*t));
        for (std::size_t r = 1; r < best.size(); ++r) CHECK(best[r].score <= best[r - 1].score);
        std::set<ids_t> distinct;
        for (const auto& b : best) distinct.insert(b.ids);
        CHECK(distinct.size() == best.size());
        for (std::size_t r = 0; r < best.size(); r += 101) CHECK(best[r].score == Approx(raw_tok.score(best[r].ids)).margin(1e-12));
        // Exactness at k = 1024 against the reference program, on a 10,000-byte prefix.
        const std::string head = t->substr(0, 10000);
        const auto ref = kbest_scores_reference(raw_tok, head, 1024);
        const auto got = raw_tok.nbest(head, 1024);
        REQUIRE(got.size() == ref.size());
        for (std::size_t r = 0; r < got.size(); ++r) CHECK(got[r].score == Approx(ref[r]).margin(1e-8));
    }
}

TEST_CASE("sample_without_replacement draws distinct segmentations with the right law", "[lattice][swor]") {
    const auto& tok = small_tokenizer();
    const std::string text = "nanana";
    const auto segs = enumerate(tok, text);
    REQUIRE(segs.size() >= 6);
    std::map<ids_t, std::size_t> index;
    for (std::size_t i = 0; i < segs.size(); ++i) index[segs[i]] = i;
    for (double alpha : {0.0, 0.5, 2.0}) {
        INFO("alpha " << alpha);
        const brute b = brute_force(tok, segs, alpha);
        const auto lat = tok.lattice(text, alpha);
        // Ordered pairs (first, second): P = p_a * p_b / (1 - p_a) under successive sampling.
        const std::size_t k_segs = segs.size();
        std::vector<double> probs(k_segs * k_segs, 0.0);
        for (std::size_t a = 0; a < k_segs; ++a)
            for (std::size_t c = 0; c < k_segs; ++c)
                if (a != c) probs[a * k_segs + c] = b.probs[a] * b.probs[c] / (1 - b.probs[a]);
        std::vector<double> counts(probs.size(), 0.0);
        bytepiece::splitmix64 g(31 + static_cast<std::uint64_t>(alpha * 10));
        const int draws = 100000;
        double estimate = 0;  // of E[number of pieces], by the inclusion-probability estimator
        for (int d = 0; d < draws; ++d) {
            const auto got = lat.sample_without_replacement(2, g);
            REQUIRE(got.size() == 2);
            REQUIRE(got[0].ids != got[1].ids);
            REQUIRE(got[0].key >= got[1].key);
            counts[index.at(got[0].ids) * k_segs + index.at(got[1].ids)] += 1;
            for (const auto& s : got) estimate += static_cast<double>(s.ids.size()) * std::exp(s.log_probability) / s.inclusion_probability;
        }
        double chi2 = 0;
        int bins = 0;
        double pool_e = 0, pool_o = 0;
        for (std::size_t i = 0; i < probs.size(); ++i) {
            const double e = probs[i] * draws;
            if (e < 5) {
                pool_e += e;
                pool_o += counts[i];
                continue;
            }
            chi2 += (counts[i] - e) * (counts[i] - e) / e;
            ++bins;
        }
        if (pool_e >= 5) {
            chi2 += (pool_o - pool_e) * (pool_o - pool_e) / pool_e;
            ++bins;
        }
        const double p = test_support::gamma_q((bins - 1) / 2.0, chi2 / 2.0);
        if (verbose()) std::printf("swor k=2 alpha=%g: %d bins chi2=%.2f p=%.4f\n", alpha, bins, chi2, p);
        CHECK(p > 1e-4);
        double exact = 0;
        for (std::size_t i = 0; i < k_segs; ++i) exact += b.probs[i] * static_cast<double>(segs[i].size());
        CHECK(estimate / draws == Approx(exact).epsilon(0.01));
        // Each draw's reported log-probability is the exact one.
        const auto one = lat.sample_without_replacement(1, g);
        CHECK(one.front().log_probability == Approx(std::log(b.probs[index.at(one.front().ids)])).margin(1e-12));
    }
}

TEST_CASE("sample_without_replacement returns everything when k covers the lattice", "[lattice][swor]") {
    const auto& tok = small_tokenizer();
    for (const std::string text : {"banana", "ab\nba", "中国人"}) {
        const auto segs = enumerate(tok, text);
        bytepiece::splitmix64 g(4);
        const auto all = tok.sample_without_replacement(text, segs.size() + 10, 0.7, g);
        REQUIRE(all.size() == segs.size());
        std::set<ids_t> distinct;
        double total = 0;
        for (const auto& s : all) {
            distinct.insert(s.ids);
            total += std::exp(s.log_probability);
            CHECK(s.inclusion_probability == 1.0);
        }
        CHECK(distinct.size() == segs.size());
        CHECK(total == Approx(1.0));
    }
}

TEST_CASE("sample_without_replacement copes with long texts and large alpha", "[lattice][swor]") {
    const auto& tok = small_tokenizer();
    std::string text;
    for (int i = 0; i < 60; ++i) text += "banana hello 中国人 aaaa\n";
    bytepiece::splitmix64 g(8);
    for (double alpha : {0.1, 5.0, 100.0}) {
        const auto got = tok.sample_without_replacement(text, 16, alpha, g);
        REQUIRE(got.size() == 16);
        std::set<ids_t> distinct;
        for (std::size_t i = 0; i < got.size(); ++i) {
            distinct.insert(got[i].ids);
            CHECK(tok.decode(got[i].ids) == text);
            CHECK(std::isfinite(got[i].log_probability));
            CHECK(got[i].inclusion_probability > 0.0);
            CHECK(got[i].inclusion_probability <= 1.0);
            if (i) CHECK(got[i].key <= got[i - 1].key);
        }
        CHECK(distinct.size() == 16);
    }
}

TEST_CASE("expected counts on long text account for every byte", "[lattice]") {
    const bytepiece::tokenizer* tok = real_tokenizer() ? real_tokenizer() : &small_tokenizer();
    std::string text;
    const std::string path = std::string(BYTEPIECE_SHARED_DIR) + "/corpus/small.txt";
    if (file_exists(path)) text = bytepiece::detail::read_file(path).substr(0, 50000);
    while (text.size() < 50000) text += "banana hello 中国人 aaaa abcab\n";
    for (double alpha : {0.0, 0.1, 1.0, 10.0}) {
        const auto lat = tok->lattice(text, alpha);
        const auto counts = lat.expected_counts();
        double bytes = 0;
        for (std::size_t id = 3; id < counts.size(); ++id)
            bytes += counts[id] * static_cast<double>(tok->model().piece(static_cast<std::uint32_t>(id)).size());
        CHECK(bytes == Approx(static_cast<double>(lat.text().size())).epsilon(1e-9));
        CHECK(std::isfinite(lat.entropy()));
        CHECK(lat.entropy() >= 0);
        std::vector<double> acc;
        lat.add_expected_counts(acc, 2.0);
        CHECK(acc[tok->encode("a").front()] == Approx(2 * counts[tok->encode("a").front()]));
    }
}

TEST_CASE("empty texts and bad k", "[lattice][errors]") {
    const auto& tok = small_tokenizer();
    const auto best = tok.nbest("", 5);
    REQUIRE(best.size() == 1);
    CHECK(best.front().ids.empty());
    CHECK(best.front().score == 0.0);
    CHECK(tok.log_partition("", 1.0) == 0.0);
    CHECK(tok.entropy("", 1.0) == 0.0);
    bytepiece::splitmix64 g(1);
    const auto sw = tok.sample_without_replacement("", 3, 1.0, g);
    REQUIRE(sw.size() == 1);
    CHECK(sw.front().ids.empty());
    CHECK(sw.front().log_probability == 0.0);
    CHECK_THROWS_AS(tok.nbest("abc", 0), bytepiece::argument_error);
    CHECK_THROWS_AS(tok.sample_without_replacement("abc", 0, 1.0, g), bytepiece::argument_error);
    CHECK_THROWS_AS(tok.lattice("abc", -1.0), bytepiece::argument_error);
    try {
        (void)tok.nbest("abc", 0);
    } catch (const bytepiece::argument_error& e) {
        CHECK(e.code() == bytepiece::errc::invalid_argument);
    }
}

TEST_CASE("sample_without_replacement with k = SIZE_MAX returns every segmentation", "[lattice][swor]") {
    const auto& tok = small_tokenizer();
    for (const std::string text : {"banana", "ab\nba", "中国人"}) {
        const auto segs = enumerate(tok, text);
        bytepiece::splitmix64 g(4);
        const auto all = tok.sample_without_replacement(text, std::numeric_limits<std::size_t>::max(), 0.7, g);
        REQUIRE(all.size() == segs.size());
        std::set<ids_t> distinct;
        for (const auto& s : all) {
            distinct.insert(s.ids);
            CHECK(s.inclusion_probability == 1.0);
        }
        CHECK(distinct.size() == segs.size());
    }
}

TEST_CASE("nbest over long lines, computed block by block, matches the k-best dynamic program", "[lattice][nbest][long]") {
    std::vector<std::pair<std::string, const bytepiece::tokenizer*>> models = {{"small", &small_tokenizer()}};
    if (const auto* real = real_tokenizer()) models.emplace_back("eu.plus.40k", real);
    // A piece of 9,000 bytes: blocks grow to 72,000 positions, each starting from 8,999
    // positions of history.
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    for (int b = 0; b < 256; ++b) counts.emplace_back(std::string(1, static_cast<char>(b)), b == 'a' ? 50 : 5);
    counts.emplace_back("aa", 20);
    counts.emplace_back("ban", 9);
    counts.emplace_back(std::string(9000, 'a'), 2);
    const bytepiece::tokenizer long_piece(bytepiece::model::from_counts(counts));
    models.emplace_back("9000-byte piece", &long_piece);
    std::string text;
    const std::string path = std::string(BYTEPIECE_SHARED_DIR) + "/corpus/mixed.txt";
    if (file_exists(path)) text = bytepiece::detail::read_file(path).substr(0, 150000);
    while (text.size() < 150000) text += "banana hello 中国人 aaaa abcab ";
    for (char& c : text)
        if (c == '\n') c = ' ';
    text.replace(40000, 20000, std::string(20000, 'a'));  // the long piece fits here, across a block edge
    bytepiece::encode_options raw;
    raw.normalize = false;
    for (const auto& [name, tok] : models) {
        const bytepiece::tokenizer raw_tok(tok->model(), raw);
        // Two chunks: one line of 150,000 bytes, then a short one.
        const std::string t = text + "\nbanana\n";
        for (std::size_t k : {std::size_t{1}, std::size_t{2}, std::size_t{20}}) {
            INFO(name << " k " << k);
            const auto ref = kbest_scores_reference(raw_tok, t, k);
            const auto got = raw_tok.nbest(t, k);
            REQUIRE(got.size() == ref.size());
            CHECK(got.front().ids == raw_tok.encode(t));
            for (std::size_t r = 0; r < got.size(); ++r) {
                CHECK(got[r].score == Approx(ref[r]).epsilon(1e-12));
                CHECK(raw_tok.decode_bytes(got[r].ids) == t);
                if (r > 0) CHECK(got[r].score <= got[r - 1].score);
            }
            std::set<ids_t> distinct;
            for (const auto& g : got) distinct.insert(g.ids);
            CHECK(distinct.size() == got.size());
            // The streaming form gives the same segmentations in the same order.
            std::size_t i = 0, same = 0;
            const std::size_t count = raw_tok.nbest(t, k, [&](const bytepiece::scored_segmentation<std::uint32_t>& s) {
                same += i < got.size() && s.ids == got[i].ids && s.score == got[i].score;
                ++i;
            });
            CHECK(count == got.size());
            CHECK(same == got.size());
        }
    }
}

TEST_CASE("nbest streams: each segmentation once, best first, and k beyond the lattice stops at its size", "[lattice][nbest]") {
    const auto& tok = small_tokenizer();
    for (const std::string text : {"banana", "ab\nba", "中国人 hello", ""}) {
        const auto segs = enumerate(tok, text);
        const std::size_t total = text.empty() ? 1 : segs.size();
        std::vector<bytepiece::scored_segmentation<std::uint32_t>> streamed;
        const std::size_t count = tok.nbest(text, 1000000, [&](bytepiece::scored_segmentation<std::uint32_t>& s) {
            streamed.push_back(std::move(s));
        });
        CHECK(count == total);
        REQUIRE(streamed.size() == total);
        const auto collected = tok.nbest(text, 1000000);
        REQUIRE(collected.size() == total);
        for (std::size_t r = 0; r < total; ++r) {
            CHECK(streamed[r].ids == collected[r].ids);
            CHECK(streamed[r].score == collected[r].score);
        }
    }
    CHECK_THROWS_AS(tok.nbest("abc", 0, [](const bytepiece::scored_segmentation<std::uint32_t>&) {}), bytepiece::argument_error);
}
