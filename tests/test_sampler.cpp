// SPDX-License-Identifier: Apache-2.0
// Exactness of stochastic tokenization: every segmentation of short strings is enumerated,
// 200,000 seeded draws are compared with the exact distribution (chi-square and total
// variation), and seeded runs are checked for reproducibility and numerical stability.
#include <bytepiece/sampler.hpp>
#include <bytepiece/tokenizer.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "test_support.hpp"

namespace {

using ids_t = std::vector<std::uint32_t>;

bool verbose() { return std::getenv("BYTEPIECE_TEST_VERBOSE") != nullptr; }

using test_support::file_exists;

std::string real_model_path() { return test_support::shared_path("models/bytepiece.eu.plus.40k.model"); }

// A small vocabulary with overlapping pieces (ASCII, two- and three-byte characters, runs),
// so short strings have a handful to a few dozen segmentations.
bytepiece::model small_model() {
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    for (int b = 0; b < 256; ++b) {
        const bool letter = (b >= 'a' && b <= 'z') || b == ' ' || b == '\n';
        counts.emplace_back(std::string(1, static_cast<char>(b)), letter ? 40 : 2);
    }
    const std::vector<std::pair<std::string, std::uint64_t>> extra = {
        {"ab", 30}, {"ba", 20}, {"abc", 15}, {"bc", 10},   {"ca", 6},      {"aa", 25},    {"aaa", 8},
        {"an", 40}, {"na", 35}, {"ana", 12}, {"ban", 9},   {"banana", 3},  {"nan", 4},    {"中", 20},
        {"国", 18}, {"中国", 30}, {"人", 15}, {"国人", 5}, {"中国人", 4}, {"é", 10},     {"\n\n", 5},
        {"he", 20}, {"ll", 10}, {"lo", 12},  {"llo", 6},   {"hello", 4},   {" b", 7},     {"a\n", 3}};
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

// Every segmentation of `text` (normalized and cut into chunks like encode), by depth-first
// search over the trie.
std::vector<ids_t> enumerate(const bytepiece::tokenizer& tok, std::string_view text) {
    std::string storage;
    const std::string_view t = tok.normalized_view(text, storage);
    std::vector<std::pair<std::size_t, std::size_t>> chunks;
    bytepiece::for_each_chunk(t, [&](std::string_view c) {
        const std::size_t b = static_cast<std::size_t>(c.data() - t.data());
        chunks.emplace_back(b, b + c.size());
    });
    std::vector<ids_t> out;
    ids_t cur;
    const auto* bytes = reinterpret_cast<const unsigned char*>(t.data());
    std::function<void(std::size_t)> go = [&](std::size_t pos) {
        if (pos == t.size()) {
            out.push_back(cur);
            return;
        }
        std::size_t end = 0;
        for (const auto& c : chunks)
            if (c.first <= pos && pos < c.second) end = c.second;
        tok.trie().common_prefix_search(bytes + pos, end - pos, [&](std::size_t len, std::int32_t id) {
            cur.push_back(static_cast<std::uint32_t>(id));
            go(pos + len);
            cur.pop_back();
        });
    };
    go(0);
    return out;
}

std::string key_of(const ids_t& ids) {
    return std::string(reinterpret_cast<const char*>(ids.data()), ids.size() * sizeof(std::uint32_t));
}

double total_score(const bytepiece::tokenizer& tok, const ids_t& ids) {
    double s = 0;
    for (auto id : ids) s += tok.model().score(id);
    return s;
}

// Exact P(S) proportional to exp(alpha * score(S)).
std::vector<double> exact_probabilities(const bytepiece::tokenizer& tok, const std::vector<ids_t>& segs, double alpha) {
    std::vector<double> lw(segs.size());
    double top = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < segs.size(); ++i) top = std::max(top, lw[i] = alpha * total_score(tok, segs[i]));
    double z = 0;
    for (double& x : lw) z += (x = std::exp(x - top));
    for (double& x : lw) x /= z;
    return lw;
}


// E|X - np| for X ~ Binomial(n, p), by de Moivre's closed form.
double binomial_mean_abs_dev(double n, double p) {
    if (p <= 0 || p >= 1) return 0;
    const double m = std::floor(n * p);
    const double log_c = std::lgamma(n + 1) - std::lgamma(m + 2) - std::lgamma(n - m);
    return 2 * std::exp(log_c + (m + 1) * std::log(p) + (n - m) * std::log1p(-p) + std::log(m + 1));
}

struct fit {
    double chi2 = 0;
    int df = 0;
    double p_value = 1;
    double tv = 0;       // total-variation distance between the empirical and exact distributions
    double tv_null = 0;  // its expected value for a perfect sampler with this many draws
};

// Chi-square goodness of fit, categories with expected count < 5 pooled.
fit goodness_of_fit(const std::vector<double>& probs, const std::vector<std::uint64_t>& counts, std::uint64_t n) {
    fit f;
    const double dn = static_cast<double>(n);
    for (std::size_t i = 0; i < probs.size(); ++i) {
        f.tv += 0.5 * std::abs(static_cast<double>(counts[i]) / dn - probs[i]);
        f.tv_null += 0.5 * binomial_mean_abs_dev(dn, probs[i]) / dn;
    }
    std::vector<std::size_t> order(probs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return probs[a] < probs[b]; });
    std::vector<std::pair<double, double>> bins;  // (expected, observed)
    double pool_e = 0, pool_o = 0;
    for (std::size_t i : order) {
        const double e = probs[i] * dn, o = static_cast<double>(counts[i]);
        if (e < 5) {
            pool_e += e;
            pool_o += o;
        } else {
            bins.emplace_back(e, o);
        }
    }
    if (pool_e > 0) {
        if (pool_e < 5 && !bins.empty()) {
            bins.front().first += pool_e;  // the smallest unpooled category
            bins.front().second += pool_o;
        } else {
            bins.emplace_back(pool_e, pool_o);
        }
    }
    for (const auto& b : bins) f.chi2 += (b.second - b.first) * (b.second - b.first) / b.first;
    f.df = static_cast<int>(bins.size()) - 1;
    f.p_value = f.df > 0 ? test_support::gamma_q(f.df / 2.0, f.chi2 / 2.0) : 1.0;
    return f;
}

struct exactness_case {
    std::string name;
    std::string text;
    const bytepiece::tokenizer* tok;
};

}  // namespace

TEST_CASE("the test's incomplete gamma agrees with closed forms", "[sampler][stats]") {
    for (double x : {0.1, 1.0, 3.0, 10.0, 40.0}) {
        CHECK(test_support::gamma_q(1.0, x) == Approx(std::exp(-x)).epsilon(1e-12));  // chi-square, 2 df
        CHECK(test_support::gamma_q(2.0, x) == Approx((1 + x) * std::exp(-x)).epsilon(1e-12));
    }
    // Chi-square with 10000 df at its mean: close to one half.
    CHECK(test_support::gamma_q(5000.0, 5000.0) == Approx(0.5).margin(0.01));
    CHECK(binomial_mean_abs_dev(2, 0.5) == Approx(0.5));
    CHECK(binomial_mean_abs_dev(1, 0.5) == Approx(0.5));
}

TEST_CASE("sampling matches the exact distribution over all segmentations", "[sampler][exact]") {
    std::vector<exactness_case> cases = {
        {"ascii banana", "banana", &small_tokenizer()},
        {"ascii abcab", "abcab", &small_tokenizer()},
        {"ascii hello", "hello", &small_tokenizer()},
        {"cjk", "中国人", &small_tokenizer()},
        {"mixed", "é中a", &small_tokenizer()},
        {"mixed 2", "ab 中国", &small_tokenizer()},
        {"repeated 7", "aaaaaaa", &small_tokenizer()},
        {"two chunks", "ab\nba", &small_tokenizer()},
        {"leading newlines", "\n\nab", &small_tokenizer()},
        {"16 repeated (10,609 segmentations)", "aaaaaaaaaaaaaaaa", &small_tokenizer()},
    };
    if (const auto* real = real_tokenizer()) {
        cases.push_back({"eu.plus.40k Hello", "Hello", real});
        cases.push_back({"eu.plus.40k 你好", "你好", real});
        cases.push_back({"eu.plus.40k a\\n", "ok!\n", real});
    } else {
        WARN("real-model exactness cases skipped: " << real_model_path() << " is absent");
    }
    const std::uint64_t draws = 200000;
    const double alphas[] = {0.0, 0.1, 0.5, 1.0, 4.0};
    bool saw_big = false;
    double worst_p = 1, worst_tv = 0, worst_excess = -1;
    for (std::size_t ci = 0; ci < cases.size(); ++ci) {
        const auto& c = cases[ci];
        const auto segs = enumerate(*c.tok, c.text);
        REQUIRE(segs.size() >= 2);
        saw_big |= segs.size() > 10000;
        std::unordered_map<std::string, std::size_t> index;
        for (std::size_t i = 0; i < segs.size(); ++i) index.emplace(key_of(segs[i]), i);
        REQUIRE(index.size() == segs.size());
        for (std::size_t ai = 0; ai < 5; ++ai) {
            const double alpha = alphas[ai];
            const auto probs = exact_probabilities(*c.tok, segs, alpha);
            const auto sampler = c.tok->sampler(alpha);
            bytepiece::splitmix64 g(1000 + 10 * ci + ai);
            std::vector<std::uint64_t> counts(segs.size(), 0);
            ids_t ids;
            for (std::uint64_t d = 0; d < draws; ++d) {
                ids.clear();
                sampler.sample(c.text, g, ids);
                const auto it = index.find(key_of(ids));
                if (it == index.end()) FAIL("sampled a sequence that is not a segmentation of \"" << c.text << "\"");
                ++counts[it->second];
            }
            const fit f = goodness_of_fit(probs, counts, draws);
            INFO(c.name << " alpha=" << alpha << ": " << segs.size() << " segmentations, chi2=" << f.chi2 << " df=" << f.df
                        << " p=" << f.p_value << " TV=" << f.tv << " (expected for an exact sampler " << f.tv_null << ")");
            if (verbose())
                std::printf("%-36s alpha=%-4g K=%-6zu chi2=%10.2f df=%-6d p=%.4f TV=%.5f TV_exact_sampler=%.5f\n",
                            c.name.c_str(), alpha, segs.size(), f.chi2, f.df, f.p_value, f.tv, f.tv_null);
            CHECK(f.p_value > 1e-4);
            // With 200,000 draws the empirical TV of a perfect sampler is itself about
            // sqrt(K / (2 pi n)); once that exceeds half the tolerance (thousands of
            // segmentations), the excess over its exact expectation is what is bounded.
            if (f.tv_null < 0.005) CHECK(f.tv < 0.01);
            else CHECK(f.tv - f.tv_null < 0.01);
            worst_p = std::min(worst_p, f.p_value);
            if (f.tv_null < 0.005) worst_tv = std::max(worst_tv, f.tv);
            else worst_excess = std::max(worst_excess, f.tv - f.tv_null);
        }
    }
    CHECK(saw_big);
    if (verbose())
        std::printf("worst p-value %.4g, worst TV (small cases) %.5f, worst TV excess (large cases) %.5f\n", worst_p, worst_tv,
                    worst_excess);
}

TEST_CASE("seeded samples are fixed: same ids in every build, on every run", "[sampler][reproducible]") {
    const auto& tok = small_tokenizer();
    const std::string text = "banana hello 中国人 aaaaaa\nabcab é\n\nban";
    // Recorded once; any build (Debug, Release, sanitizers) on any IEEE-754 platform without
    // FMA contraction must reproduce them.
    const ids_t got_01 = tok.sample(text, 0.1, std::uint64_t{42});
    const auto pieces = tok.sample_pieces(text, 0.1, std::uint64_t{42});
    std::string joined;
    for (const auto& p : pieces) joined += p;
    CHECK(joined == text);
    CHECK(pieces.size() == got_01.size());

    std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the ids of several seeded draws
    for (double alpha : {0.0, 0.1, 1.0, 10.0}) {
        const auto s = tok.sampler(alpha);
        for (std::uint64_t seed = 0; seed < 20; ++seed)
            for (auto id : s.sample(text, seed)) h = (h ^ id) * 1099511628211ull;
    }
    if (verbose()) {
        std::printf("seed 42 alpha 0.1:");
        for (auto id : got_01) std::printf(" %u", id);
        std::printf("\nhash %llx\n", static_cast<unsigned long long>(h));
    }
    CHECK(got_01 == ids_t{276, 100, 271, 35, 282, 35, 286, 35, 273, 273, 13, 263, 267, 101, 35, 272, 259, 101, 264});
    CHECK(h == 0xf5e3f49b05114317ull);

    if (const auto* real = real_tokenizer()) {
        const std::string corpus_text =
            "BytePiece is a byte-based tokenizer. 它不依赖空格分词，而是直接在字节上训练。\n"
            "Numbers like 3.14159 and code like `for (int i = 0; i < n; ++i)` are common.\n";
        std::uint64_t hr = 1469598103934665603ull;
        const auto s = real->sampler(0.1);
        for (std::uint64_t seed = 0; seed < 50; ++seed)
            for (auto id : s.sample(corpus_text, seed)) hr = (hr ^ id) * 1099511628211ull;
        if (verbose()) std::printf("real hash %llx\n", static_cast<unsigned long long>(hr));
        CHECK(hr == 0x95837af5985150bcull);
    } else {
        WARN("real-model reproducibility check skipped: " << real_model_path() << " is absent");
    }
}

TEST_CASE("different seeds give different samples; the same seed the same", "[sampler][reproducible]") {
    const auto& tok = small_tokenizer();
    const std::string text = "banana banana banana aaaaaaaaaa hello hello";
    const auto s = tok.sampler(0.0);
    std::unordered_map<std::string, int> seen;
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        const auto a = s.sample(text, seed), b = s.sample(text, seed);
        CHECK(a == b);
        ++seen[key_of(a)];
    }
    CHECK(seen.size() >= 19);
}

TEST_CASE("threads sharing one sampler reproduce the single-threaded samples", "[sampler][threads]") {
    const auto& tok = small_tokenizer();
    const std::string text = "banana hello 中国人 aaaaaa\nabcab é\n\nban banana";
    const auto s = tok.sampler(0.5);
    std::vector<ids_t> reference;
    for (std::uint64_t seed = 0; seed < 200; ++seed) reference.push_back(s.sample(text, seed));
    std::vector<std::vector<ids_t>> got(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (std::uint64_t seed = 0; seed < 200; ++seed) {
                got[t].push_back(s.sample(text, seed));
                // Interleave a long text so that the per-thread scratch really is reused.
                bytepiece::splitmix64 g(seed + 1000 * static_cast<std::uint64_t>(t));
                (void)s.sample(std::string(3000, 'a'), g);
            }
        });
    for (auto& th : threads) th.join();
    for (const auto& g : got) CHECK(g == reference);
}

TEST_CASE("sampling a text equals sampling its chunks with the same generator", "[sampler]") {
    const auto& tok = small_tokenizer();
    const std::string text = "banana\n\nhello 中国人\nab\n";
    const auto s = tok.sampler(0.3);
    bytepiece::splitmix64 g1(5), g2(5);
    const ids_t whole = s.sample(text, g1);
    ids_t parts;
    bytepiece::for_each_chunk(text, [&](std::string_view c) { s.sample_chunk(c, g2, parts); });
    CHECK(whole == parts);
    CHECK(g1 == g2);  // and they consumed the same random numbers

    bytepiece::sampler::workspace ws;
    bytepiece::splitmix64 g3(5);
    ids_t with_ws;
    s.sample(text, g3, with_ws, ws);
    CHECK(with_ws == whole);
}

TEST_CASE("one uniform draw per emitted piece", "[sampler][reproducible]") {
    const auto& tok = small_tokenizer();
    const auto s = tok.sampler(1.0);
    bytepiece::splitmix64 g(77), h(77);
    const ids_t ids = s.sample("banana hello", g);
    h.discard(ids.size());
    CHECK(g == h);
}

TEST_CASE("any UniformRandomBitGenerator can drive the sampler", "[sampler]") {
    const auto& tok = small_tokenizer();
    std::mt19937 mt(1);
    std::minstd_rand lcg(1);
    const auto a = tok.sample("banana", 0.5, mt);
    const auto b = tok.sample("banana", 0.5, lcg);
    CHECK(tok.decode(a) == "banana");
    CHECK(tok.decode(b) == "banana");
}

TEST_CASE("the tokenizer's options apply to samples as to encode", "[sampler]") {
    bytepiece::encode_options o;
    o.add_bos = o.add_eos = true;
    const bytepiece::tokenizer tok(small_model(), o);
    const auto ids = tok.sample("banana", 1.0, std::uint64_t{3});
    REQUIRE(ids.size() >= 3);
    CHECK(ids.front() == 1u);
    CHECK(ids.back() == 2u);
    CHECK(tok.sample("", 1.0, std::uint64_t{3}) == ids_t{1, 2});
    // Normalization: a decomposed e + combining acute samples as the composed character.
    const auto nfc = tok.sample_pieces("e\xCC\x81", 0.0, std::uint64_t{1});
    REQUIRE(nfc.size() >= 3);
    CHECK(nfc.front() == "<bos>");
    CHECK(nfc.back() == "<eos>");
    std::string joined;
    for (std::size_t i = 1; i + 1 < nfc.size(); ++i) joined += nfc[i];
    CHECK(joined == "\xC3\xA9");
}

TEST_CASE("bad alphas are rejected with a clear argument_error", "[sampler][errors]") {
    const auto& tok = small_tokenizer();
    for (double alpha : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(), 2e6}) {
        try {
            (void)tok.sampler(alpha);
            FAIL("alpha " << alpha << " was accepted");
        } catch (const bytepiece::argument_error& e) {
            CHECK(e.code() == bytepiece::errc::invalid_argument);
            CHECK(std::string(e.what()).find("alpha") != std::string::npos);
        }
        CHECK_THROWS_AS(tok.sample("a", alpha, std::uint64_t{1}), bytepiece::argument_error);
    }
    CHECK_NOTHROW(tok.sampler(0.0));
    CHECK_NOTHROW(tok.sampler(1e6));
}

TEST_CASE("a negative alpha means deterministic encoding, as in BytePiece and the command line", "[sampler][api]") {
    bytepiece::encode_options o;
    o.add_bos = true;
    const bytepiece::tokenizer bos_tok(small_model(), o);
    for (const bytepiece::tokenizer* tok : {&small_tokenizer(), &bos_tok}) {
        for (double alpha : {-1.0, -1e-300, -0.5, -std::numeric_limits<double>::infinity()}) {
            INFO("alpha " << alpha);
            const auto s = tok->sampler(alpha);
            CHECK(s.deterministic());
            CHECK(s.alpha() == alpha);
            for (const std::string text : {"banana", "hello aaa\n中国人 abcab\n", "", "e\xCC\x81"}) {
                CHECK(tok->sample(text, alpha, std::uint64_t{7}) == tok->encode(text));
                CHECK(tok->sample_pieces(text, alpha, std::uint64_t{7}) == tok->tokenize(text));
                // No random numbers are drawn.
                bytepiece::splitmix64 g(3), untouched(3);
                CHECK(tok->sample(text, alpha, g) == tok->encode(text));
                CHECK(s.sample_pieces(text, g) == tok->tokenize(text));
                ids_t chunk_ids, want;
                s.sample_chunk(text, g, chunk_ids);
                tok->encode_chunk(text, want);
                CHECK(chunk_ids == want);
                CHECK(g() == untouched());
            }
        }
    }
    CHECK_FALSE(small_tokenizer().sampler(0.0).deterministic());
    CHECK_FALSE(small_tokenizer().sampler(-0.0).deterministic());  // -0 is not negative
    // A distribution is needed for the lattice analytics.
    CHECK_THROWS_AS(small_tokenizer().lattice("abc", -1.0), bytepiece::argument_error);
    CHECK_THROWS_AS(small_tokenizer().entropy("abc", -1.0), bytepiece::argument_error);
}

TEST_CASE("tok.sample equals the bound sampler for alphas in rotation, from many threads", "[sampler][api][threads]") {
    const auto& tok = small_tokenizer();
    // More alphas than the tokenizer keeps, so its cache evicts while threads read it.
    const std::vector<double> alphas = {0.0, 0.1, 0.5, 1.0, 2.0, 10.0, 0.1, 0.3};
    const std::string text = "banana hello 中国人 aaaa\nabcab nanana\n";
    std::vector<std::vector<ids_t>> want(alphas.size());
    for (std::size_t a = 0; a < alphas.size(); ++a) {
        const bytepiece::sampler bound(tok, alphas[a]);
        for (std::uint64_t seed = 0; seed < 40; ++seed) want[a].push_back(bound.sample(text, seed));
    }
    std::vector<std::size_t> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < mismatches.size(); ++t)
        threads.emplace_back([&, t] {
            for (std::size_t round = 0; round < 5; ++round)
                for (std::size_t a = (t + round) % alphas.size(), i = 0; i < alphas.size(); ++i, a = (a + 1) % alphas.size())
                    for (std::uint64_t seed = 0; seed < 40; ++seed)
                        mismatches[t] += tok.sample(text, alphas[a], seed) != want[a][seed];
        });
    for (auto& th : threads) th.join();
    for (const std::size_t m : mismatches) CHECK(m == 0);
    // A copy and a moved-to tokenizer sample the same.
    bytepiece::tokenizer copy = tok;
    CHECK(copy.sample(text, 0.5, std::uint64_t{9}) == want[2][9]);
    bytepiece::tokenizer moved = std::move(copy);
    CHECK(moved.sample(text, 0.5, std::uint64_t{9}) == want[2][9]);
    CHECK(moved.sample(text, 2.0, std::uint64_t{9}) == want[4][9]);
}

TEST_CASE("sample_pieces lines up with sample when the options add <bos> and <eos>", "[sampler][api]") {
    bytepiece::encode_options o;
    o.add_bos = o.add_eos = true;
    const bytepiece::tokenizer tok(small_model(), o);
    for (std::uint64_t seed = 0; seed < 30; ++seed) {
        const auto ids = tok.sample("banana nanana", 0.5, seed);
        const auto pieces = tok.sample_pieces("banana nanana", 0.5, seed);
        REQUIRE(pieces.size() == ids.size());
        for (std::size_t i = 0; i < ids.size(); ++i) CHECK(pieces[i] == tok.id_to_piece(ids[i]));
    }
}

TEST_CASE("a very large alpha gives the Viterbi segmentation", "[sampler]") {
    const auto& tok = small_tokenizer();
    for (const std::string text : {"banana", "hello aaa", "中国人 abcab"}) {
        for (double alpha : {200.0, 1e4, 1e6}) {
            const auto s = tok.sampler(alpha);
            for (std::uint64_t seed = 0; seed < 20; ++seed) CHECK(s.sample(text, seed) == tok.encode(text));
        }
    }
}

TEST_CASE("weight entries name each piece by id and byte step, and packed words round-trip", "[sampler]") {
    const auto& tok = small_tokenizer();
    const auto& m = tok.model();
    const auto wt = bytepiece::detail::make_weight_table(m, 0.1);
    REQUIRE(wt->pieces.size() == m.vocab_size() + 1);
    std::vector<double> values(m.max_piece_length() + 1);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i) + 0.5;
    const double* last = values.data() + m.max_piece_length();
    for (std::uint32_t id = bytepiece::model::first_piece_id; id < m.vocab_size(); ++id) {
        const auto& p = wt->pieces[id];
        const std::size_t len = m.piece(id).size();
        CHECK(p.id == id);
        CHECK(p.length() == len);
        CHECK(p.before(last) == last[-static_cast<std::ptrdiff_t>(len)]);
        CHECK(bytepiece::detail::packed_id(p.packed()) == id);
        CHECK(bytepiece::detail::packed_length(p.packed()) == len);
    }
    // The padding entry: weight 0, length 1, so the filter reads a value that is always set.
    const auto& pad = wt->pieces.back();
    CHECK(pad.weight == 0.0);
    CHECK(pad.length() == 1);
    // An overflow row's stand-in in a record has step 0.
    CHECK(bytepiece::detail::packed_length(std::uint64_t{0x80000010u}) == 0);
}

TEST_CASE("portable_exp agrees with std::exp to a few ulp", "[sampler][exp]") {
    std::mt19937_64 r(3);
    std::uniform_real_distribution<double> d(-745.0, 700.0);
    double worst = 0;
    for (int i = 0; i < 200000; ++i) {
        const double y = i < 100 ? -0.01 * i : d(r);
        const auto e = bytepiece::detail::portable_exp(y);
        CHECK(e.mantissa >= 1.0);
        CHECK(e.mantissa < 2.0);
        const double ours = std::log(e.mantissa) + static_cast<double>(e.exponent) * 0.69314718055994530942;
        // Compare in the log domain: absolute error of log = relative error of the value.
        const double rel = std::abs(ours - y) / std::max(1.0, std::abs(y));
        worst = std::max(worst, rel);
        if (y > -700 && y < 700) {
            const double v = std::ldexp(e.mantissa, static_cast<int>(e.exponent));
            const double ref = std::exp(y);
            worst = std::max(worst, std::abs(v - ref) / ref / 0x1p-52);
        }
    }
    CHECK(worst < 4.0);  // in ulps
    const auto big = bytepiece::detail::portable_exp(-2.5e7);
    CHECK(std::abs(std::log(big.mantissa) + static_cast<double>(big.exponent) * 0.69314718055994530942 + 2.5e7) < 1e-7);
}

namespace {

// log Z of a chunk in the log domain, one logaddexp per edge: slow but independent.
double log_partition_reference(const bytepiece::tokenizer& tok, std::string_view chunk, double alpha) {
    const std::size_t n = chunk.size();
    std::vector<double> f(n + 1, -std::numeric_limits<double>::infinity());
    f[0] = 0;
    const auto* b = reinterpret_cast<const unsigned char*>(chunk.data());
    for (std::size_t s = 0; s < n; ++s)
        tok.trie().common_prefix_search(b + s, n - s, [&](std::size_t len, std::int32_t id) {
            const double x = f[s] + alpha * tok.model().score(static_cast<std::uint32_t>(id));
            double& y = f[s + len];
            const double hi = std::max(x, y), lo = std::min(x, y);
            y = lo == -std::numeric_limits<double>::infinity() ? hi : hi + std::log1p(std::exp(lo - hi));
        });
    return f[n];
}

std::string long_line(std::size_t bytes) {
    // Real text when the corpus is there, with newlines turned into spaces so that it is one
    // chunk; otherwise a deterministic mix of ASCII, CJK and stray bytes.
    std::string out;
    const std::string path = std::string(BYTEPIECE_SHARED_DIR) + "/corpus/mixed.txt";
    if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
        out.resize(bytes);
        out.resize(std::fread(&out[0], 1, bytes, f));
        std::fclose(f);
    }
    bytepiece::splitmix64 g(9);
    const char* parts[] = {"banana ", "中国人", "hello ", "\xff\xfe", "aaaa", "x", "é"};
    while (out.size() < bytes) out += parts[g() % 7];
    out.resize(bytes);
    for (char& c : out)
        if (c == '\n') c = ' ';
    return out;
}

}  // namespace

TEST_CASE("a 200,000-byte single chunk samples without overflow at alpha 0, 0.1, 10 and 50", "[sampler][stability]") {
    std::vector<std::pair<std::string, const bytepiece::tokenizer*>> models = {{"small", &small_tokenizer()}};
    if (const auto* real = real_tokenizer()) models.emplace_back("eu.plus.40k", real);
    std::string random_bytes(200000, '\0');
    bytepiece::splitmix64 g(1);
    for (char& c : random_bytes) {
        c = static_cast<char>(g() & 0xFF);
        if (c == '\n') c = 'n';
    }
    const std::string texts[] = {long_line(200000), random_bytes};
    bytepiece::encode_options raw;
    raw.normalize = false;
    for (const auto& [name, tok0] : models) {
        const bytepiece::tokenizer tok(tok0->model(), raw);  // raw bytes, so the chunk stays 200,000 bytes
        for (const auto& text : texts) {
            REQUIRE(text.find('\n') == std::string::npos);
            for (double alpha : {0.0, 0.1, 10.0, 50.0}) {
                INFO(name << " alpha " << alpha);
                const auto s = tok.sampler(alpha);
                bytepiece::splitmix64 rng(2);
                const ids_t ids = s.sample(text, rng);
                CHECK(tok.decode_bytes(ids.data(), ids.size()) == text);
                const double score = tok.score(ids);
                CHECK(std::isfinite(score));
                if (alpha >= 10) {
                    // Nearly Viterbi: per piece, the sample gives up little score.
                    const double best = tok.score(tok.encode(text));
                    CHECK(score <= best + 1e-6);
                    CHECK(score >= best - 0.05 * static_cast<double>(ids.size()));
                }
                const double log_z = tok.log_partition(text, alpha);
                const double ref = log_partition_reference(tok, text, alpha);
                CHECK(std::isfinite(log_z));
                CHECK(log_z == Approx(ref).epsilon(1e-10));
            }
        }
    }
}

// The sampler's internals, reached for the test below.
struct bytepiece::detail::tokenizer_access {
    static const auto& automaton(const bytepiece::tokenizer& tok) { return tok.automaton_; }
};

TEST_CASE("recorded positions and row walks draw the same pieces from the same draws", "[sampler][records]") {
    // Chunks up to record_limit are sampled from records the filter writes; longer ones, and
    // positions where the filter changes frame, from the automaton's rows. Both must give the
    // same piece for the same uniform, or a chunk's sample would depend on its length class.
    std::vector<const bytepiece::tokenizer*> toks = {&small_tokenizer()};
    std::mt19937 rng(11);
    // Long nested pieces over a small alphabet: many overflow rows.
    auto counts = test_support::random_pieces(rng, 400, 12, 'a', 3, 50);
    for (int b = 0; b < 256; ++b) counts.emplace_back(std::string(1, static_cast<char>(b)), 1 + rng() % 20);
    const bytepiece::tokenizer nested(bytepiece::model::from_counts(counts));
    toks.push_back(&nested);
    if (const auto* real = real_tokenizer()) toks.push_back(real);
    std::vector<std::string> texts = {"banana hello 中国人 aaaaaa", long_line(3000), std::string(5000, 'a')};
    for (int i = 0; i < 20; ++i) {
        std::string t(1 + rng() % 400, 'a');
        for (char& c : t) c = static_cast<char>('a' + rng() % 3);
        texts.push_back(t);
    }
    std::size_t frame_moves = 0, overflow_rows = 0, pieces = 0;
    for (const auto* tok : toks) {
        const auto& a = bytepiece::detail::tokenizer_access::automaton(*tok);
        for (double alpha : {0.0, 0.1, 1.0}) {
            const auto wt = bytepiece::detail::make_weight_table(tok->model(), alpha);
            REQUIRE(wt->fast);
            for (const auto& text : texts) {
                const std::size_t n = text.size();
                std::vector<std::uint32_t> states(n + bytepiece::detail::filter_prefetch, 0);
                a.scan_chunk(reinterpret_cast<const unsigned char*>(text.data()), n, states.data());
                std::vector<double> m1(n + 1), m2(n + 1);
                std::vector<std::int64_t> e1(n + 1), e2(n + 1);
                std::vector<bytepiece::detail::sample_record> records(n + 1);
                std::vector<bytepiece::detail::sample_term> terms(wt->max_piece_length + 4);
                bytepiece::detail::prefix_filter<true>(a, *wt, states.data(), n, m1.data(), e1.data(), records.data());
                bytepiece::detail::prefix_filter<false>(a, *wt, states.data(), n, m2.data(), e2.data(), nullptr);
                REQUIRE(m1 == m2);
                REQUIRE(e1 == e2);
                for (std::size_t e = 1; e <= n; ++e) {
                    frame_moves += e1[e] != e1[e - 1];
                    if (records[e].total >= 0)
                        for (int k = 0; k < 4; ++k) overflow_rows += (records[e].piece[k] >> 32) == 0;
                }
                for (std::uint64_t seed = 0; seed < 5; ++seed) {
                    std::vector<std::uint64_t> p1(n), p2(n);
                    bytepiece::splitmix64 g1(seed), g2(seed);
                    const std::size_t c1 = bytepiece::detail::sample_backward(a, *wt, states.data(), n, m1.data(), e1.data(),
                                                                              records.data(), terms.data(), p1.data(), g1);
                    const std::size_t c2 = bytepiece::detail::sample_backward(a, *wt, states.data(), n, m2.data(), e2.data(),
                                                                              nullptr, terms.data(), p2.data(), g2);
                    REQUIRE(c1 == c2);
                    p1.resize(c1);
                    p2.resize(c2);
                    REQUIRE(p1 == p2);
                    CHECK(g1() == g2());
                    pieces += c1;
                }
            }
        }
    }
    // The cases above must reach both kinds of position and overflow rows.
    CHECK(frame_moves > 0);
    CHECK(overflow_rows > 0);
    CHECK(pieces > 10000);
}

namespace {

// What sampling a chunk drew before long chunks were filtered block by block: one forward
// pass over the whole chunk, then backward sampling from the rows.
ids_t one_pass_sample(const bytepiece::tokenizer& tok, std::string_view chunk, double alpha, std::uint64_t seed) {
    const auto& a = bytepiece::detail::tokenizer_access::automaton(tok);
    const auto wt = bytepiece::detail::make_weight_table(tok.model(), alpha);
    const std::size_t n = chunk.size();
    std::vector<std::uint32_t> states(n + bytepiece::detail::filter_prefetch, 0);
    a.scan_chunk(reinterpret_cast<const unsigned char*>(chunk.data()), n, states.data());
    std::vector<double> mant(n + 1);
    std::vector<std::int64_t> expo(n + 1);
    bytepiece::detail::prefix_filter<false>(a, *wt, states.data(), n, mant.data(), expo.data(), nullptr);
    std::vector<bytepiece::detail::sample_term> terms(wt->max_piece_length + 4);
    std::vector<std::uint64_t> path(n);
    bytepiece::splitmix64 g(seed);
    const std::size_t count = bytepiece::detail::sample_backward(a, *wt, states.data(), n, mant.data(), expo.data(),
                                                                 nullptr, terms.data(), path.data(), g);
    ids_t ids;
    for (std::size_t i = count; i-- > 0;) ids.push_back(bytepiece::detail::packed_id(path[i]));
    return ids;
}

}  // namespace

TEST_CASE("long chunks sampled block by block draw exactly what one pass over the chunk draws", "[sampler][long]") {
    std::vector<std::pair<std::string, const bytepiece::tokenizer*>> toks = {{"small", &small_tokenizer()}};
    std::mt19937 rng(17);
    auto counts = test_support::random_pieces(rng, 400, 12, 'a', 3, 50);
    for (int b = 0; b < 256; ++b) counts.emplace_back(std::string(1, static_cast<char>(b)), 1 + rng() % 20);
    const bytepiece::tokenizer nested(bytepiece::model::from_counts(counts));
    toks.emplace_back("nested", &nested);
    // One piece of 9,000 bytes: blocks grow to 8 times that, and each checkpoint keeps 8,999
    // positions of history.
    auto with_long = counts;
    with_long.emplace_back(std::string(9000, 'a'), 3);
    const bytepiece::tokenizer long_piece(bytepiece::model::from_counts(with_long));
    toks.emplace_back("9000-byte piece", &long_piece);
    if (const auto* real = real_tokenizer()) toks.emplace_back("eu.plus.40k", real);
    std::string abc(250000, 'a');
    for (char& c : abc)
        if (rng() % 4 == 0) c = static_cast<char>('a' + rng() % 3);
    abc.replace(100000, 30000, std::string(30000, 'a'));  // the long piece fits here several times
    const std::vector<std::string> texts = {long_line(300000), abc};
    for (const auto& [name, tok] : toks) {
        // 1000: some weights fall below 2^-700, so every position aligns exponents.
        for (double alpha : {0.0, 0.1, 1.0, 10.0, 1000.0}) {
            const auto s = tok->sampler(alpha);
            for (const auto& text : texts) {
                for (std::uint64_t seed : {1u, 2u}) {
                    INFO(name << " alpha " << alpha << " bytes " << text.size() << " seed " << seed);
                    bytepiece::splitmix64 g(seed);
                    ids_t got;
                    s.sample_chunk(text, g, got);
                    const ids_t want = one_pass_sample(*tok, text, alpha, seed);
                    REQUIRE(got.size() == want.size());
                    CHECK(got == want);
                    // sample_pieces collects the path instead of writing ids: the same pieces.
                    const auto pieces = s.sample_pieces(text, seed);
                    const auto ids = s.sample(text, seed);
                    REQUIRE(pieces.size() == ids.size());
                    std::size_t same = 0;
                    for (std::size_t i = 0; i < ids.size(); ++i) same += tok->piece_to_id(pieces[i]) == ids[i];
                    CHECK(same == ids.size());
                }
            }
        }
    }
}

#ifdef BYTEPIECE_CLI_PATH
namespace {

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    std::size_t p = 0;
    while (p < s.size()) {
        const std::size_t nl = s.find('\n', p);
        out.push_back(s.substr(p, nl - p));
        if (nl == std::string::npos) break;
        p = nl + 1;
    }
    return out;
}

}  // namespace

TEST_CASE("bytepiece encode --alpha --seed samples exactly like the library", "[sampler][cli]") {
    if (!file_exists(BYTEPIECE_CLI_PATH)) {
        WARN("skipped: the command-line tool " << BYTEPIECE_CLI_PATH << " has not been built");
        return;
    }
    const std::string dir = std::string(BYTEPIECE_BINARY_DIR) + "/tests/";
    const std::string model_path = dir + "sampler_cli.model", input = dir + "sampler_cli.txt", output = dir + "sampler_cli.out";
    small_tokenizer().model().save(model_path);
    const std::string text = "banana hello\n\n中国人 aaaaaa\nabcab é ban\n";
    bytepiece::detail::write_file_atomic(input, text);
    const auto run = [&](const std::string& args) {
        const std::string cmd = std::string("\"") + BYTEPIECE_CLI_PATH + "\" " + args + " -m \"" + model_path + "\" \"" + input +
                                "\" > \"" + output + "\"";
        REQUIRE(std::system(cmd.c_str()) == 0);
        return bytepiece::detail::read_file(output);
    };
    // Sampled: one generator, consumed chunk by chunk.
    const auto s = small_tokenizer().sampler(0.5);
    bytepiece::splitmix64 g(9);
    std::string expected;
    bytepiece::for_each_chunk(text, [&](std::string_view chunk) {
        ids_t ids;
        s.sample_chunk(chunk, g, ids);
        for (std::size_t i = 0; i < ids.size(); ++i) expected += (i ? " " : "") + std::to_string(ids[i]);
        expected += "\n";
    });
    CHECK(run("encode --alpha 0.5 --seed 9") == expected);
    CHECK(lines_of(run("encode --alpha 0.5 --seed 9")).size() == 3);
    // And the whole-text library call gives the same ids.
    std::string flat;
    for (auto id : small_tokenizer().sample(text, 0.5, std::uint64_t{9})) flat += std::to_string(id) + " ";
    std::string cli_flat = run("encode --alpha 0.5 --seed 9");
    for (char& c : cli_flat)
        if (c == '\n') c = ' ';
    std::string squeezed;
    for (char c : cli_flat)
        if (!(c == ' ' && !squeezed.empty() && squeezed.back() == ' ')) squeezed += c;
    CHECK(squeezed == flat);
    // Deterministic: --alpha -1 and no --alpha are the same as before.
    const std::string plain = run("encode");
    CHECK(run("encode --alpha -1 --seed 5") == plain);
    std::string viterbi;
    bytepiece::for_each_chunk(text, [&](std::string_view chunk) {
        const ids_t ids = small_tokenizer().encode(chunk);
        for (std::size_t i = 0; i < ids.size(); ++i) viterbi += (i ? " " : "") + std::to_string(ids[i]);
        viterbi += "\n";
    });
    CHECK(plain == viterbi);
    CHECK(run("tokenize --alpha -1") == run("tokenize"));
    CHECK(run("tokenize --alpha 0 --seed 1") != run("tokenize --alpha 0 --seed 2"));
    // nbest: the first line of each chunk's list is encode's.
    const auto nb = lines_of(run("nbest -k 3"));
    const auto enc = lines_of(plain);
    REQUIRE(nb.size() >= 3);
    CHECK(nb[0].substr(nb[0].find('\t') + 1) == enc[0]);
}
#endif
