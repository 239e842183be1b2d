// SPDX-License-Identifier: Apache-2.0
// What training tells about its result and its failures: a model smaller than asked for says so
// and why (trainer::outcomes and a line from `bytepiece train`), an empty corpus names its
// files, and threads the system refuses are an error with an id.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const bytepiece::error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("trainer::outcomes: how many ids each size got and why fewer", "[trainer][outcome]") {
    if (!test_support::require_shared("corpus/small.txt")) return;
    const std::string corpus = test_support::shared_path("corpus/small.txt");
    using bytepiece::shortfall;

    // Far more ids than small.txt has pieces counted 32 times.
    bytepiece::trainer_options o;
    o.max_vocab_size = {40000};
    o.min_count = 32;
    bytepiece::trainer few(o);
    few.train_files({corpus});
    REQUIRE(few.outcomes().size() == 1);
    const bytepiece::vocab_outcome& f = few.outcomes()[0];
    CHECK(f.requested == 40000);
    CHECK(f.produced == few.models()[0].vocab_size());
    CHECK(f.produced < 1000);
    CHECK(f.reason == shortfall::few_pieces);
    INFO(f.explanation);
    // The number of multi-byte pieces and the option that limits them.
    CHECK(f.explanation.find("only " + std::to_string(f.produced - 259) + " multi-byte pieces") != std::string::npos);
    CHECK(f.explanation.find("at least 32 times") != std::string::npos);

    // Two sizes: the larger one runs out of pieces, the cut to the smaller one loses a few.
    o.max_vocab_size = {400, 4000, 1000};
    o.min_count = 2;
    bytepiece::trainer two(o);
    two.train_files({corpus});
    REQUIRE(two.outcomes().size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        const bytepiece::vocab_outcome& r = two.outcomes()[i];
        INFO(r.requested << ": " << r.produced << ", " << r.explanation);
        CHECK(r.requested == two.vocab_sizes()[i]);
        CHECK(r.produced == two.models()[i].vocab_size());
        CHECK(r.produced <= r.requested);
        CHECK((r.reason == shortfall::none) == (r.produced == r.requested));
        CHECK(r.explanation.empty() == (r.reason == shortfall::none));
    }
    CHECK(two.outcomes()[0].reason == shortfall::few_pieces);
    CHECK(two.outcomes()[1].reason == shortfall::unused_after_cut);
    const std::size_t lost = 1000 - two.outcomes()[1].produced;
    CHECK(two.outcomes()[1].explanation.find("cut to 1000 ids, " + std::to_string(lost) + " piece") != std::string::npos);

    // The smallest size holds the single bytes only, which are never short.
    o.max_vocab_size = {259};
    bytepiece::trainer full(o);
    full.train_files({corpus});
    CHECK(full.outcomes()[0].produced == 259);
    CHECK(full.outcomes()[0].reason == shortfall::none);
}

TEST_CASE("bytepiece train: a smaller model than asked for is said on stderr, unless -q", "[trainer][outcome][cli]") {
    if (cli().empty()) {
        WARN("skipped: the bytepiece tool is not built (BYTEPIECE_BUILD_TOOLS=OFF)");
        return;
    }
    if (!test_support::require_shared("corpus/small.txt")) return;
    const std::string corpus = quote(test_support::shared_path("corpus/small.txt"));
    const std::string out = test_support::scratch_path("train_outcome.model");
    std::remove(out.c_str());
    auto r = run(quote(cli()) + " train -i " + corpus + " -o " + quote(out) + " -v 40000 --min-count 32 --no-progress 2>&1");
    REQUIRE(r.status == 0);
    const std::size_t ids = bytepiece::model::load(out).vocab_size();
    INFO(r.out);
    CHECK(r.out.find("bytepiece train: warning: " + out + " has " + std::to_string(ids) + " ids, not the 40000 asked for: only ") == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);

    r = run(quote(cli()) + " train -i " + corpus + " -o " + quote(out) + " -v 40000 --min-count 32 -q 2>&1");
    CHECK(r.status == 0);
    CHECK(r.out.empty());
    std::remove(out.c_str());
}

TEST_CASE("trainer: an empty corpus names its files", "[trainer][outcome]") {
    const std::string dir = test_support::scratch_path("train_outcome_empty");
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string a = dir + "/a.txt", b = dir + "/b.txt";
    test_support::write(a, "");
    test_support::write(b, "");
    bytepiece::trainer_options o;
    o.max_vocab_size = {300};
    bytepiece::trainer t(o);
    std::string e = error_of([&] { t.train_files({a}); });
    CHECK(e.find("[bytepiece.train.1] " + a + ": ") == 0);
    e = error_of([&] { t.train_files({a, b}); });
    CHECK(e.find("[bytepiece.train.1] " + a + ", " + b + ": ") == 0);
    e = error_of([&] { t.train(std::vector<std::string>{"", ""}); });
    CHECK(e.find("[bytepiece.train.1] ") == 0);
    CHECK(e.find("texts") != std::string::npos);

    if (!cli().empty()) {
        const auto r = run(quote(cli()) + " train -i " + quote(a) + " -o " + quote(dir + "/x.model") + " -v 300 2>&1");
        CHECK(r.status == 2);
        CHECK(r.out.find("[bytepiece.train.1] " + a + ": ") != std::string::npos);
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("bytepiece train: threads the system refuses are an error with an id", "[trainer][outcome][cli]") {
    if (cli().empty()) return;
    if (!test_support::require_shared("corpus/small.txt")) return;
    // Root is not held to a process limit, but every process is held to its address space: with
    // 1 GB, the 8 MB stacks of 1024 threads cannot all be mapped.
    const std::string limit = "ulimit -v 1000000; ";
    if (run("bash -c \"" + limit + quote(cli()) + " --version\" 2>&1").status != 0) {
        WARN("skipped: the tool does not start in 1 GB of address space (a sanitizer build)");
        return;
    }
    const std::string out = test_support::scratch_path("train_threads.model");
    std::remove(out.c_str());
    const auto r = run("bash -c \"" + limit + quote(cli()) + " train -i " + quote(test_support::shared_path("corpus/small.txt")) +
                       " -o " + quote(out) + " -v 1000 -t 1024 -q\" 2>&1");
    INFO(r.out);
    if (r.status == 0) {
        WARN("the system started 1024 threads in 1 GB of address space; nothing to check");
        std::remove(out.c_str());
        return;
    }
    CHECK(r.status == 2);
    CHECK(r.out.find("[bytepiece.train.3] trainer: cannot start worker thread ") != std::string::npos);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
    CHECK(!test_support::file_exists(out));
}
