// SPDX-License-Identifier: Apache-2.0
// Training under a memory limit (trainer_options::memory_limit): the count tables of both
// passes spill sorted runs to a private temporary folder and the runs are merged; the model is
// the one of unbounded training, byte for byte, and the folder is gone afterwards, also when
// training fails.
#include "test_support.hpp"

#include <stdexcept>

namespace {

using test_support::read;
using test_support::scratch_folder;

std::string corpus_prefix(std::size_t bytes) {
    const std::string all = read(test_support::shared_path("corpus/mixed.txt"));
    std::size_t end = std::min(bytes, all.size());
    while (end < all.size() && !(all[end - 1] == '\n' && all[end] != '\n')) ++end;
    return all.substr(0, end);
}

// The model files `trainer::save` writes, concatenated with their names.
std::string saved(const bytepiece::trainer& t, const std::string& path) {
    t.save(path);
    std::string out;
    for (const auto& p : t.output_paths(path)) out += p.substr(p.rfind('.')) + "\n" + read(p);
    return out;
}

// What a spilled training reported: how many merges of runs, in which phases.
struct merges_seen {
    bool ngrams = false, pieces = false;
};

std::string train_bounded(bytepiece::trainer_options o, const std::string& corpus, const scratch_folder& dir, std::uint64_t limit,
                          merges_seen& seen) {
    o.memory_limit = limit;
    o.temp_dir = dir / "tmp";
    o.progress = [&](const bytepiece::train_progress& p) {
        if (p.step != "merge runs") return;
        CHECK(p.round == 0u);
        CHECK(p.done <= p.total);
        if (p.phase == bytepiece::train_phase::prune_ngrams) seen.ngrams = true;
        if (p.phase == bytepiece::train_phase::prune_pieces) seen.pieces = true;
    };
    bytepiece::trainer t(o);
    t.train_files({corpus});
    CHECK(scratch_folder::list(dir / "tmp").empty());
    return saved(t, dir / "bounded.model");
}

}  // namespace

TEST_CASE("train memory: a small limit spills runs and gives the unbounded model", "[train_memory]") {
    if (!test_support::require_shared("corpus/mixed.txt")) return;
    scratch_folder dir("train_memory");
    REQUIRE(::mkdir((dir / "tmp").c_str(), 0777) == 0);
    const std::string corpus = dir / "corpus.txt";
    test_support::write(corpus, corpus_prefix(std::size_t(200) << 10));
    struct setting {
        std::size_t order;
        std::uint64_t min_count;
        bool isolate_digits, ensure_unicode;
        std::vector<std::size_t> sizes;
    };
    const setting settings[] = {
        {6, 2, false, true, {4000, 1000}},
        {4, 3, true, false, {2000}},
        {10, 2, false, true, {3000}},  // n-grams longer than 8 bytes: the wide tables spill too
    };
    for (const auto& s : settings)
        for (unsigned threads : {1u, 2u}) {
            CAPTURE(s.order, s.min_count, s.isolate_digits, s.ensure_unicode, threads);
            bytepiece::trainer_options o;
            o.order = s.order;
            o.min_count = s.min_count;
            o.isolate_digits = s.isolate_digits;
            o.ensure_unicode = s.ensure_unicode;
            o.max_vocab_size = s.sizes;
            o.threads = threads;
            bytepiece::trainer plain(o);
            plain.train_files({corpus});
            const std::string expected = saved(plain, dir / "plain.model");
            // 16 kB (one setting: it writes hundreds of runs) is less than the n-gram model of
            // pass 2 alone: its piece tables get the least share, and the model is the same.
            std::vector<std::uint64_t> limits{std::uint64_t(256) << 10, std::uint64_t(2) << 20};
            if (s.order == 6 && threads == 2) limits.push_back(std::uint64_t(16) << 10);
            for (std::uint64_t limit : limits) {
                CAPTURE(limit);
                merges_seen seen;
                CHECK(train_bounded(o, corpus, dir, limit, seen) == expected);
                // 200 kB of text has far more n-grams than either limit holds, and more
                // pieces than the smaller one.
                CHECK(seen.ngrams);
                if (limit < (std::uint64_t(1) << 20)) CHECK(seen.pieces);
            }
            // A limit larger than the tables ever get spills nothing.
            merges_seen seen;
            CHECK(train_bounded(o, corpus, dir, std::uint64_t(1) << 34, seen) == expected);
            CHECK_FALSE(seen.ngrams);
            CHECK_FALSE(seen.pieces);
        }
}

TEST_CASE("train memory: the spill folder is removed when training fails", "[train_memory]") {
    if (!test_support::require_shared("corpus/mixed.txt")) return;
    scratch_folder dir("train_memory_errors");
    const std::string text = corpus_prefix(std::size_t(200) << 10);
    const std::string tmp = dir / "tmp";
    REQUIRE(::mkdir(tmp.c_str(), 0777) == 0);
    bytepiece::trainer_options o;
    o.max_vocab_size = {1000};
    o.memory_limit = std::uint64_t(256) << 10;
    o.temp_dir = tmp;
    o.threads = 2;
    SECTION("a source that throws in pass 1, after runs were spilled") {
        bytepiece::trainer t(o);
        CHECK_THROWS_WITH(t.train_source([&](int, auto&& emit) {
            for (std::size_t i = 0; i < text.size(); i += 4096) emit(std::string_view(text).substr(i, 4096));
            throw std::runtime_error("source failed");
        }), "source failed");
        CHECK(scratch_folder::list(tmp).empty());
    }
    SECTION("texts that differ in pass 2, found after the piece runs were spilled") {
        bytepiece::trainer t(o);
        CHECK_THROWS_AS(t.train_source([&](int pass, auto&& emit) {
            for (std::size_t i = 0; i < text.size(); i += 4096) emit(std::string_view(text).substr(i, 4096));
            if (pass == 2) emit(std::string_view("one more text"));
        }), bytepiece::argument_error);
        CHECK(scratch_folder::list(tmp).empty());
    }
    SECTION("a temporary folder that does not exist is named in the error") {
        o.temp_dir = dir / "missing";
        bytepiece::trainer t(o);
        try {
            t.train(std::vector<std::string>{text});
            FAIL("no error");
        } catch (const bytepiece::io_error& e) {
            CHECK(std::string(e.what()).find(dir / "missing") != std::string::npos);
            CHECK(e.code() == bytepiece::errc::io_write);
        }
    }
}
