// SPDX-License-Identifier: Apache-2.0
// What the API's calls cost in memory, counted rather than timed: this program replaces the
// global operator new and delete with versions that keep a running total of the bytes live
// and the peak since the last reset, so a bound holds or fails the same way on every run.
#include <bytepiece/lattice.hpp>
#include <bytepiece/tokenizer.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

std::atomic<std::size_t> live_bytes{0};
std::atomic<std::size_t> peak_bytes{0};
std::atomic<std::size_t> allocated_bytes{0};  // total handed out since the last reset

// Each block is preceded by a header of `align` bytes (at least 16) whose last 16 hold the
// block's size and the header's size, so that unsized deletes can count it.
void* counted_new(std::size_t n, std::size_t align) noexcept {
    if (align < 16) align = 16;
    const std::size_t head = align;
    void* raw = nullptr;
    if (align <= alignof(std::max_align_t)) {
        raw = std::malloc(head + n);
    } else if (posix_memalign(&raw, align, head + n) != 0) {
        raw = nullptr;
    }
    if (raw == nullptr) return nullptr;
    char* user = static_cast<char*>(raw) + head;
    const std::size_t meta[2] = {n, head};
    std::memcpy(user - sizeof meta, meta, sizeof meta);
    const std::size_t now = live_bytes.fetch_add(n) + n;
    allocated_bytes.fetch_add(n);
    std::size_t peak = peak_bytes.load();
    while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
    }
    return user;
}

void counted_delete(void* p) noexcept {
    if (p == nullptr) return;
    char* user = static_cast<char*>(p);
    std::size_t meta[2];
    std::memcpy(meta, user - sizeof meta, sizeof meta);
    live_bytes.fetch_sub(meta[0]);
    std::free(user - meta[1]);
}

void* throwing_new(std::size_t n, std::size_t align) {
    if (void* p = counted_new(n, align)) return p;
    throw std::bad_alloc();
}

// Starts a measurement: the peak restarts from what is live now. Returns that baseline.
std::size_t reset_counts() {
    const std::size_t now = live_bytes.load();
    peak_bytes.store(now);
    allocated_bytes.store(0);
    return now;
}

}  // namespace

void* operator new(std::size_t n) { return throwing_new(n, 0); }
void* operator new[](std::size_t n) { return throwing_new(n, 0); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_new(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_new(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return throwing_new(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return throwing_new(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_new(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_new(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { counted_delete(p); }
void operator delete[](void* p) noexcept { counted_delete(p); }
void operator delete(void* p, std::size_t) noexcept { counted_delete(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_delete(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_delete(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_delete(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_delete(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_delete(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_delete(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_delete(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_delete(p); }

namespace {

using ids_t = std::vector<std::uint32_t>;

// A vocabulary of about 30,000 pieces, so that one set of sampling weights (16 bytes a piece)
// stands out against everything else a short sample allocates.
const bytepiece::tokenizer& big_tokenizer() {
    static const bytepiece::tokenizer tok = [] {
        std::mt19937 rng(5);
        std::set<std::string> seen;
        std::vector<std::pair<std::string, std::uint64_t>> pieces;
        while (pieces.size() < 30000) {
            std::string p(2 + rng() % 10, 'a');
            for (char& c : p) c = static_cast<char>('a' + rng() % 26);
            if (seen.insert(p).second) pieces.emplace_back(p, 1 + rng() % 1000);
        }
        return bytepiece::tokenizer(test_support::make_model(pieces));
    }();
    return tok;
}

// One line of `bytes` bytes of letters and spaces: a single chunk.
std::string one_line(std::size_t bytes, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::string s(bytes, ' ');
    for (char& c : s)
        if (rng() % 6 != 0) c = static_cast<char>('a' + rng() % 26);
    return s;
}

// Runs f on a fresh thread, so that it starts with empty per-thread scratch memory, and
// returns the peak of live bytes during the run above what was live before.
template <class F>
std::size_t peak_on_fresh_thread(F&& f) {
    std::size_t base = 0, peak = 0;
    std::thread t([&] {
        base = reset_counts();
        f();
        peak = peak_bytes.load();
    });
    t.join();
    return peak - base;
}

}  // namespace

TEST_CASE("the counting allocator counts", "[memory]") {
    const std::size_t base = reset_counts();
    auto* v = new std::vector<char>(1 << 20);
    CHECK(peak_bytes.load() - base >= (1u << 20));
    delete v;
    CHECK(live_bytes.load() == base);
}

TEST_CASE("tok.sample reuses the tokenizer's weights instead of building them per call", "[memory][api]") {
    const auto& tok = big_tokenizer();
    const std::size_t table_bytes = 16 * tok.vocab_size();
    const std::string text = "hello world";
    for (double alpha : {0.1, 0.5}) {
        (void)tok.sample(text, alpha, std::uint64_t{1});  // the first call builds them
        reset_counts();
        const ids_t ids = tok.sample(text, alpha, std::uint64_t{2});
        INFO("alpha " << alpha << ": " << allocated_bytes.load() << " bytes allocated by a call; a weight table is "
                      << table_bytes);
        CHECK(allocated_bytes.load() < table_bytes / 8);
        // A bound sampler made for the same alpha shares them too.
        reset_counts();
        const auto s = tok.sampler(alpha);
        CHECK(allocated_bytes.load() < table_bytes / 8);
        CHECK(s.sample(text, std::uint64_t{2}) == ids);
    }
}

TEST_CASE("sampling a long chunk takes memory bounded by a block, not by the chunk", "[memory][sampler]") {
    const auto& tok = big_tokenizer();
    const auto s = tok.sampler(0.1);
    std::size_t peak[2] = {0, 0};
    const std::size_t sizes[2] = {std::size_t{1} << 20, std::size_t{4} << 20};
    for (int i = 0; i < 2; ++i) {
        const std::string text = one_line(sizes[i], 7);
        ids_t ids;
        ids.reserve(text.size());  // the output is the caller's; only the sampler's own memory counts
        peak[i] = peak_on_fresh_thread([&] {
            bytepiece::splitmix64 g(3);
            s.sample_chunk(text, g, ids);
        });
        INFO(sizes[i] << " bytes: peak " << peak[i] << " bytes above the start");
        CHECK(!ids.empty());
        // One pass over the whole chunk kept 28 bytes per byte (states, forward values in two
        // arrays, the path): 28 MiB and 112 MiB here. A block of 65,536 positions takes about
        // 6 MiB (4 of them the records the backward pass draws from), whatever the length.
        CHECK(peak[i] < (std::size_t{8} << 20));
    }
    // Four times the text, almost the same memory: the checkpoints are all that grows.
    CHECK(peak[1] < peak[0] + (std::size_t{1} << 18));
}

TEST_CASE("nbest on a long line takes memory bounded by blocks, not by the line", "[memory][nbest]") {
    const auto& tok = big_tokenizer();
    std::size_t peak[2] = {0, 0};
    const std::size_t sizes[2] = {std::size_t{1} << 20, std::size_t{4} << 20};
    for (int i = 0; i < 2; ++i) {
        const std::string text = one_line(sizes[i], 9);
        std::size_t pieces = 0;
        peak[i] = peak_on_fresh_thread([&] {
            const auto best = tok.nbest(text, 2);
            for (const auto& s : best) pieces += s.ids.size();
        });
        // What the result itself holds: the two id lists.
        const std::size_t result = pieces * sizeof(std::uint32_t);
        INFO(sizes[i] << " bytes: peak " << peak[i] << " bytes above the start, " << result << " of them the result");
        // Storing every lattice edge took about 145 bytes per byte (580 MiB here at 4 MiB).
        // Now: blocks of 65,536 positions and the sparse heap memo (a few MiB), the result,
        // and one path's worth of scratch while each is rebuilt.
        CHECK(peak[i] < result + result / 2 + (std::size_t{8} << 20));
    }
}

TEST_CASE("nbest streamed holds one segmentation at a time, not k", "[memory][nbest]") {
    const auto& tok = big_tokenizer();
    const std::string text = one_line(2000, 11);
    const std::size_t k = 20000;
    std::size_t count = 0, longest = 0;
    const std::size_t peak = peak_on_fresh_thread([&] {
        tok.nbest(text, k, [&](const bytepiece::scored_segmentation<std::uint32_t>& s) {
            ++count;
            longest = std::max(longest, s.ids.size());
        });
    });
    REQUIRE(count == k);
    // k full id lists would take k * longest * 4 bytes (some 90 MB here); the search keeps
    // about 150 bytes per segmentation asked for.
    INFO("peak " << peak << " bytes; k lists would take " << k * longest * 4);
    CHECK(peak < k * 200 + (std::size_t{2} << 20));
    CHECK(peak * 10 < k * longest * 4);
}
