// SPDX-License-Identifier: Apache-2.0
// The sharded training commands end to end: count-ngrams, merge, prune-ngrams, count-pieces and
// train --from-counts write the model file `bytepiece train` writes on the whole corpus.
#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::read;
using test_support::run;
using test_support::scratch_folder;

std::string bp(const std::string& args) { return quote(cli()) + " " + args + " 2>&1"; }

// Runs a command that must succeed.
void ok(const std::string& args) {
    const auto r = run(bp(args));
    INFO(args << "\n" << r.out);
    REQUIRE(r.status == 0);
}

// Runs a command that must fail with one line on stderr; returns that line.
std::string fails(const std::string& args) {
    const auto r = run(bp(args));
    INFO(args << "\n" << r.out);
    CHECK(r.status == 2);
    CHECK(test_support::is_one_line(r.out));
    return r.out;
}

}  // namespace

TEST_CASE("cli: the sharded pipeline writes the model train writes", "[cli][train_shards]") {
    if (!test_support::require_cli() || !test_support::require_shared("corpus/mixed.txt") ||
        !test_support::require_shared("corpus/small.txt"))
        return;
    scratch_folder dir("cli_train_shards");
    // Two texts: small.txt and a prefix of mixed.txt that ends after a run of newlines.
    const std::string small = test_support::shared_path("corpus/small.txt");
    const std::string mixed_all = read(test_support::shared_path("corpus/mixed.txt"));
    std::size_t end = 250000;
    while (!(mixed_all[end - 1] == '\n' && mixed_all[end] != '\n')) ++end;
    const std::string mixed = dir / "mixed.txt";
    test_support::write(mixed, mixed_all.substr(0, end));
    auto d = [&](const std::string& name) { return quote(dir / name); };
    for (const std::string opts : {"--order 6 --min-count 2", "--order 5 --min-count 3 --isolate-digits --no-ensure-unicode"}) {
        INFO(opts);
        ok("train -q -i " + quote(small) + " -i " + quote(mixed) + " -o " + d("ref.model") + " --vocab-size 2000 " + opts);
        // Shards: small.txt whole, mixed.txt in three parts (one with 2 threads).
        ok("count-ngrams -q -i " + quote(small) + " -o " + d("s.ngrams") + " " + opts);
        for (int k = 0; k < 3; ++k)
            ok("count-ngrams -q -t " + std::to_string(k) + " -i " + quote(mixed) + " --part " + std::to_string(k) + "/3 -o " +
               d("m" + std::to_string(k) + ".ngrams") + " " + opts);
        ok("merge -q -o " + d("left.ngrams") + " " + d("m2.ngrams") + " " + d("s.ngrams"));
        ok("merge --progress -o " + d("all.ngrams") + " " + d("m0.ngrams") + " -i " + d("left.ngrams") + " " + d("m1.ngrams"));
        ok("prune-ngrams -q -i " + d("all.ngrams") + " -o " + d("all.pruned") + " " + opts);
        ok("count-pieces -q -m " + d("all.pruned") + " -i " + quote(small) + " -o " + d("s.pieces") + " " + opts);
        for (int k = 0; k < 3; ++k)
            ok("count-pieces -q -t 2 -m " + d("all.pruned") + " -i " + quote(mixed) + " --part " + std::to_string(k) + "/3 -o " +
               d("m" + std::to_string(k) + ".pieces") + " " + opts);
        ok("merge -q -o " + d("all.pieces") + " " + d("m2.pieces") + " " + d("m1.pieces") + " " + d("s.pieces") + " " + d("m0.pieces"));
        // --min-count comes from the counts when not given.
        ok("train -q --from-counts " + d("all.pieces") + " -o " + d("sharded.model") + " --vocab-size 2000");
        const std::string expected = read(dir / "ref.model");
        REQUIRE(expected.size() > 1000);
        CHECK(read(dir / "sharded.model") == expected);
        // --memory splits the rare pieces in blocks of 128 KiB here, many of them: the same model.
        ok("train -q --memory 1M --from-counts " + d("all.pieces") + " -o " + d("blocks.model") + " --vocab-size 2000");
        CHECK(read(dir / "blocks.model") == expected);
    }
    // Progress lines name each step and the file written.
    const auto r = run(bp("count-ngrams --progress -i " + quote(small) + " -o " + d("p.ngrams")));
    CHECK(r.status == 0);
    CHECK(r.out.find("count n-grams: [") != std::string::npos);
    CHECK(r.out.find("wrote " + dir / "p.ngrams" + " (n-gram counts: ") != std::string::npos);
}

TEST_CASE("cli: sharded training refuses what it cannot use", "[cli][train_shards]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("cli_train_shards_errors");
    auto d = [&](const std::string& name) { return quote(dir / name); };
    test_support::write(dir / "t.txt", "one text\nand another line\n\nthe end\n");
    ok("count-ngrams -q -i " + d("t.txt") + " -o " + d("a.ngrams"));
    ok("count-ngrams -q --order 4 -i " + d("t.txt") + " -o " + d("b.ngrams"));
    const std::string before = read(dir / "a.ngrams");

    std::string line = fails("merge -o " + d("a.ngrams") + " " + d("a.ngrams") + " " + d("b.ngrams"));
    CHECK(line.find("is one of the inputs") != std::string::npos);
    CHECK(read(dir / "a.ngrams") == before);
    line = fails("merge -o " + d("c.ngrams") + " " + d("a.ngrams") + " " + d("b.ngrams"));
    CHECK(line.find("[bytepiece.train.16]") != std::string::npos);
    CHECK(line.find(dir / "b.ngrams") != std::string::npos);
    CHECK_FALSE(test_support::file_exists(dir / "c.ngrams"));

    std::string damaged = before;
    damaged[damaged.size() / 2] ^= 4;
    test_support::write(dir / "d.ngrams", damaged);
    line = fails("prune-ngrams -i " + d("d.ngrams") + " -o " + d("d.pruned"));
    CHECK(line.find("[bytepiece.train.13]") != std::string::npos);
    CHECK(line.find(dir / "d.ngrams") != std::string::npos);
    test_support::write(dir / "e.ngrams", before.substr(0, before.size() - 10));
    line = fails("merge -o " + d("e2.ngrams") + " " + d("e.ngrams"));
    CHECK(line.find("[bytepiece.train.12]") != std::string::npos);
    line = fails("prune-ngrams --order 5 -i " + d("a.ngrams") + " -o " + d("a.pruned"));
    CHECK(line.find("[bytepiece.train.16]") != std::string::npos);
    line = fails("count-pieces -m " + d("a.ngrams") + " -i " + d("t.txt") + " -o " + d("a.pieces"));
    CHECK(line.find("[bytepiece.train.15]") != std::string::npos);

    // Usage errors.
    CHECK(fails("count-ngrams -i " + d("t.txt") + " -o " + d("x") + " --part 2/2").find("--part") != std::string::npos);
    CHECK(fails("count-ngrams -i " + d("t.txt") + " -o " + d("x") + " --part 1").find("K/N") != std::string::npos);
    fails("count-pieces -i " + d("t.txt") + " -o " + d("x"));
    fails("train --from-counts " + d("a.ngrams") + " -i " + d("t.txt") + " -o " + d("x") + " --vocab-size 300");
    CHECK(fails("train --from-counts " + d("a.ngrams") + " -o " + d("x") + " --vocab-size 300").find("[bytepiece.train.15]") !=
          std::string::npos);
    CHECK_FALSE(test_support::file_exists(dir / "x"));
    for (const std::string cmd : {"count-ngrams", "merge", "prune-ngrams", "count-pieces"}) {
        const auto h = run(bp(cmd + " --help"));
        CHECK(h.status == 0);
        CHECK(h.out.find("usage: bytepiece " + cmd) != std::string::npos);
    }
}
