// SPDX-License-Identifier: Apache-2.0
#include <bytepiece/batch.hpp>

#include <atomic>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

using bytepiece::batch_options;
using bytepiece::thread_pool;
using bytepiece::tokenizer;

namespace {

// Sanitized builds run 5 to 20 times slower; the real-corpus cases then use a prefix.
#if defined(BYTEPIECE_SANITIZE) || defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

// Forces a task per few bytes so that even small texts get cut and spread over threads.
batch_options tiny_tasks() {
    batch_options o;
    o.min_task_bytes = 1;
    o.tasks_per_thread = 64;
    return o;
}

const tokenizer& toy() {
    static const tokenizer tok(test_support::make_model(
        {{"ab", 50}, {"abc", 40}, {"\n\n", 30}, {"e\xCC\x81", 5}, {"\xC3\xA9", 20}, {"the", 60}, {" ", 70},
         {"\xE4\xB8\xAD\xE6\x96\x87", 25}}));
    return tok;
}

const tokenizer& toy_bos_eos() {
    static const tokenizer tok(toy().model(), bytepiece::encode_options{true, true, true});
    return tok;
}

// Text with the cases a cut must not disturb: runs of '\n', combining marks right after a
// '\n', decomposed letters that NFC composes, Hangul jamo, ill-formed bytes and CJK.
std::string random_text(std::mt19937& g, std::size_t length) {
    static const std::vector<std::string> atoms = {
        "a", "b", "c", "ab", "abc", "the", " ", "\n", "\n\n", "\n\n\n", "e\xCC\x81", "\xC3\xA9", "\xCC\x81",
        "\xCC\xA3\xCC\x81", "\xE1\x84\x80\xE1\x85\xA1", "\xE1\x85\xA1", "\xE4\xB8\xAD\xE6\x96\x87", "\xFF", "\xE4\xB8",
        "\r\n", "x"};
    std::uniform_int_distribution<std::size_t> pick(0, atoms.size() - 1);
    std::string s;
    while (s.size() < length) s += atoms[pick(g)];
    return s;
}

template <class Range>
bytepiece::batch_result sequential(const tokenizer& tok, const Range& texts) {
    bytepiece::batch_result r;
    r.offsets.push_back(0);
    for (const auto& t : texts) {
        tok.encode(t, r.ids);
        r.offsets.push_back(r.ids.size());
    }
    return r;
}

void require_same(const bytepiece::batch_result& got, const bytepiece::batch_result& want) {
    REQUIRE(got.offsets == want.offsets);
    REQUIRE(got.ids == want.ids);
}

std::string head(const std::string& text, std::size_t limit) {
    return text.size() <= limit ? text : text.substr(0, limit);
}

}  // namespace

TEST_CASE("safe_cut lands only right after a run of newlines that a non-newline follows", "[batch]") {
    const std::string text = "ab\n\ncd\nef\n\n\ngh\n";
    const std::string_view v = text;
    for (std::size_t from = 0; from <= text.size(); ++from) {
        const std::size_t cut = bytepiece::detail::batch::safe_cut(v, from);
        REQUIRE(cut >= from);
        if (cut < text.size()) {
            REQUIRE(cut > 0);
            REQUIRE(text[cut - 1] == '\n');
            REQUIRE(text[cut] != '\n');
            for (std::size_t q = from; q < cut; ++q) REQUIRE_FALSE((q > 0 && text[q - 1] == '\n' && text[q] != '\n'));
        }
    }
    REQUIRE(bytepiece::detail::batch::safe_cut("no newline here", 3) == 15);
    REQUIRE(bytepiece::detail::batch::safe_cut("ends with newlines\n\n", 1) == 20);
}

TEST_CASE("batch output equals sequential encoding for 1 to 4 threads", "[batch]") {
    std::mt19937 g(7);
    std::vector<std::string> texts;
    std::uniform_int_distribution<std::size_t> len(0, 400);
    for (int i = 0; i < 300; ++i) texts.push_back(random_text(g, len(g)));
    for (const tokenizer* tok : {&toy(), &toy_bos_eos()}) {
        const auto want = sequential(*tok, texts);
        for (std::size_t threads = 1; threads <= 4; ++threads) {
            CAPTURE(threads, tok->options().add_bos);
            thread_pool pool(threads);
            REQUIRE(pool.size() == threads);
            require_same(bytepiece::encode_batch(*tok, texts, pool, tiny_tasks()), want);
            require_same(bytepiece::encode_batch(*tok, texts, pool), want);  // default task sizes
            require_same(bytepiece::encode_batch(*tok, texts, threads, tiny_tasks()), want);
        }
    }
}

TEST_CASE("batch of no texts and of empty texts", "[batch]") {
    const std::vector<std::string_view> none;
    thread_pool pool(3);
    auto r = bytepiece::encode_batch(toy(), none, pool, tiny_tasks());
    REQUIRE(r.ids.empty());
    REQUIRE(r.offsets == std::vector<std::size_t>{0});
    REQUIRE(r.size() == 0);

    const std::vector<std::string> empties(5);
    r = bytepiece::encode_batch(toy(), empties, pool, tiny_tasks());
    REQUIRE(r.ids.empty());
    REQUIRE(r.offsets == std::vector<std::size_t>(6, 0));

    // <bos>/<eos> still frame each empty text, as tok.encode("") does.
    r = bytepiece::encode_batch(toy_bos_eos(), empties, pool, tiny_tasks());
    require_same(r, sequential(toy_bos_eos(), empties));
    REQUIRE(r.size() == 5);
    REQUIRE(std::vector<std::uint32_t>(r.begin(4), r.end(4)) == std::vector<std::uint32_t>{1, 2});

    // Empty texts between non-empty ones keep their place.
    const std::vector<std::string> mixed = {"", "abc\n", "", "", "the e\xCC\x81\n\nx", ""};
    require_same(bytepiece::encode_batch(toy_bos_eos(), mixed, pool, tiny_tasks()), sequential(toy_bos_eos(), mixed));
    require_same(bytepiece::encode_batch(toy(), mixed, pool, tiny_tasks()), sequential(toy(), mixed));

    REQUIRE(bytepiece::encode_parallel(toy(), "", pool, tiny_tasks()).empty());
    REQUIRE(bytepiece::encode_parallel(toy_bos_eos(), "", pool, tiny_tasks()) == std::vector<std::uint32_t>{1, 2});
}

TEST_CASE("one huge text encoded in parallel equals its sequential encoding and its chunks'", "[batch]") {
    std::mt19937 g(11);
    const std::string text = random_text(g, 300000);
    const auto want = toy().encode(text);
    std::vector<std::uint32_t> by_chunks;
    // Encoding chunk by chunk is only the same when NFC cannot cross chunk boundaries, which
    // is what makes the cuts safe in the first place.
    bytepiece::for_each_chunk(bytepiece::nfc(text), [&](std::string_view c) { toy().encode(c, by_chunks); });
    REQUIRE(by_chunks == want);
    for (std::size_t threads = 1; threads <= 4; ++threads) {
        CAPTURE(threads);
        thread_pool pool(threads);
        REQUIRE(bytepiece::encode_parallel(toy(), text, pool, tiny_tasks()) == want);
        REQUIRE(bytepiece::encode_parallel(toy(), text, pool) == want);
        REQUIRE(bytepiece::encode_parallel(toy_bos_eos(), text, pool, tiny_tasks()) == toy_bos_eos().encode(text));
    }
    // A huge text among small ones is itself cut, and its ids still land in its own slot.
    std::vector<std::string> texts = {"abc\n", text, "the\n", random_text(g, 5000)};
    thread_pool pool(4);
    require_same(bytepiece::encode_batch(toy(), texts, pool, tiny_tasks()), sequential(toy(), texts));
    require_same(bytepiece::encode_batch(toy_bos_eos(), texts, pool, tiny_tasks()), sequential(toy_bos_eos(), texts));
}

TEST_CASE("a text with no newline is encoded whole", "[batch]") {
    std::string text;
    while (text.size() < 50000) text += "abc the e\xCC\x81 \xE4\xB8\xAD\xE6\x96\x87 \xCC\x81";
    thread_pool pool(4);
    REQUIRE(bytepiece::encode_parallel(toy(), text, pool, tiny_tasks()) == toy().encode(text));
    const std::vector<std::string> texts = {text, text + "\n", "x"};
    require_same(bytepiece::encode_batch(toy(), texts, pool, tiny_tasks()), sequential(toy(), texts));
}

TEST_CASE("many small texts", "[batch]") {
    std::mt19937 g(3);
    std::uniform_int_distribution<std::size_t> len(0, 12);
    std::vector<std::string> texts;
    for (int i = 0; i < 20000; ++i) texts.push_back(random_text(g, len(g)));
    const auto want = sequential(toy(), texts);
    for (std::size_t threads : {1, 2, 4}) {
        thread_pool pool(threads);
        require_same(bytepiece::encode_batch(toy(), texts, pool, tiny_tasks()), want);
        batch_options o;
        o.min_task_bytes = 1000;
        require_same(bytepiece::encode_batch(toy(), texts, pool, o), want);
    }
    // Any range of things convertible to string_view will do.
    const std::vector<std::string_view> views(texts.begin(), texts.end());
    require_same(bytepiece::encode_batch(toy(), views, 2, tiny_tasks()), want);
    const char* arr[] = {"ab\n", "c", "the\n\n"};
    require_same(bytepiece::encode_batch(toy(), arr, 2, tiny_tasks()), sequential(toy(), arr));
}

TEST_CASE("thread_pool: every index runs exactly once, and the pool is reusable", "[batch][pool]") {
    for (std::size_t threads = 1; threads <= 4; ++threads) {
        thread_pool pool(threads);
        for (int round = 0; round < 50; ++round) {
            const std::size_t n = static_cast<std::size_t>(round * 7);
            std::vector<std::atomic<int>> hits(n);
            pool.parallel_for(n, [&](std::size_t i) { hits[i].fetch_add(1); });
            for (auto& h : hits) REQUIRE(h.load() == 1);
        }
    }
}

TEST_CASE("thread_pool: an exception in a task reaches the caller, lowest index first", "[batch][pool]") {
    for (std::size_t threads = 1; threads <= 4; ++threads) {
        CAPTURE(threads);
        thread_pool pool(threads);
        for (int round = 0; round < 20; ++round) {
            try {
                pool.parallel_for(100, [&](std::size_t i) {
                    if (i >= 37 && i % 2 == 1) throw std::runtime_error("task " + std::to_string(i));
                });
                FAIL("no exception");
            } catch (const std::runtime_error& e) {
                REQUIRE(std::string(e.what()) == "task 37");
            }
            // The pool still works after a failed loop.
            std::atomic<std::size_t> sum{0};
            pool.parallel_for(10, [&](std::size_t i) { sum += i; });
            REQUIRE(sum.load() == 45);
        }
        REQUIRE_THROWS_AS(pool.parallel_for(1, [](std::size_t) { throw bytepiece::argument_error(bytepiece::errc::invalid_argument, "x"); }),
                          bytepiece::argument_error);
    }
}

TEST_CASE("thread_pool: nested loops run inline, concurrent callers are served in turn", "[batch][pool]") {
    thread_pool pool(3);
    std::vector<std::atomic<int>> hits(64);
    pool.parallel_for(8, [&](std::size_t i) {
        pool.parallel_for(8, [&](std::size_t j) { hits[i * 8 + j].fetch_add(1); });
    });
    for (auto& h : hits) REQUIRE(h.load() == 1);

    std::mt19937 g(5);
    std::vector<std::string> texts;
    for (int i = 0; i < 200; ++i) texts.push_back(random_text(g, 300));
    const auto want = sequential(toy(), texts);
    std::vector<bytepiece::batch_result> got(3);
    std::vector<std::thread> callers;
    for (std::size_t c = 0; c < got.size(); ++c)
        callers.emplace_back([&, c] { got[c] = bytepiece::encode_batch(toy(), texts, pool, tiny_tasks()); });
    for (auto& t : callers) t.join();
    for (const auto& r : got) require_same(r, want);
}

TEST_CASE("batch encoding of the shared corpora with the 40k model equals sequential", "[batch][shared]") {
    const std::string model = "models/bytepiece.eu.plus.40k.model";
    if (!test_support::require_shared(model)) return;
    const tokenizer tok = tokenizer::load(test_support::shared_path(model));
    for (const char* name : {"corpus/small.txt", "corpus/mixed.txt"}) {
        if (!test_support::require_shared(name)) continue;
        CAPTURE(name);
        std::string text = test_support::read(test_support::shared_path(name));
        if (sanitized) text = head(text, 2u << 20);
        const auto want = tok.encode(text);
        std::vector<std::string_view> lines;
        bytepiece::for_each_chunk(text, [&](std::string_view c) { lines.push_back(c); });
        for (std::size_t threads = 1; threads <= 4; ++threads) {
            CAPTURE(threads);
            thread_pool pool(threads);
            REQUIRE(bytepiece::encode_parallel(tok, text, pool) == want);
            const auto r = bytepiece::encode_batch(tok, lines, pool);
            REQUIRE(r.ids == want);  // chunks are encoded independently, so they concatenate
            REQUIRE(r.size() == lines.size());
            for (std::size_t i = 0; i < lines.size(); i += lines.size() / 97 + 1)
                REQUIRE(std::vector<std::uint32_t>(r.begin(i), r.end(i)) == tok.encode(lines[i]));
        }
    }
}
