// SPDX-License-Identifier: Apache-2.0
// `bytepiece train --memory LIMIT`: the same model file as without a limit, the spill folder
// gone afterwards, and limits that make no sense refused with one line naming the option.
#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::read;
using test_support::run;
using test_support::scratch_folder;

std::string bp(const std::string& args) { return quote(cli()) + " " + args + " 2>&1"; }

}  // namespace

TEST_CASE("cli: train --memory writes the model of unbounded training", "[cli][train_memory]") {
    if (!test_support::require_cli() || !test_support::require_shared("corpus/small.txt")) return;
    scratch_folder dir("cli_train_memory");
    REQUIRE(::mkdir((dir / "tmp").c_str(), 0777) == 0);
    const std::string corpus = quote(test_support::shared_path("corpus/small.txt"));
    const std::string common = " -v 1000 -q " + corpus;
    auto r = run(bp("train -o " + quote(dir / "plain.model") + common));
    INFO(r.out);
    REQUIRE(r.status == 0);
    for (const char* limit : {"1M", "1m", "1024K", "1MB", "2G"}) {
        CAPTURE(limit);
        r = run(bp("train --memory " + std::string(limit) + " --temp-dir " + quote(dir / "tmp") + " -t 2 -o " +
                   quote(dir / "bounded.model") + common));
        INFO(r.out);
        REQUIRE(r.status == 0);
        CHECK(read(dir / "bounded.model") == read(dir / "plain.model"));
        CHECK(scratch_folder::list(dir / "tmp").empty());
    }
}

TEST_CASE("cli: train refuses a --memory that makes no sense", "[cli][train_memory]") {
    if (!test_support::require_cli() || !test_support::require_shared("corpus/small.txt")) return;
    scratch_folder dir("cli_train_memory_bad");
    const std::string corpus = quote(test_support::shared_path("corpus/small.txt"));
    for (const char* limit : {"0", "-5M", "M", "12X", "1.5G", "1000", "512K", "99999999999999999999G", "1GiB"}) {
        CAPTURE(limit);
        const auto r = run(bp("train --memory '" + std::string(limit) + "' -v 1000 -o " + quote(dir / "m.model") + " " + corpus));
        INFO(r.out);
        CHECK(r.status == 2);
        CHECK(test_support::is_one_line(r.out));
        CHECK(r.out.find("--memory") != std::string::npos);
        CHECK(scratch_folder::list(dir.path()).empty());
    }
    // Options that would have no effect are refused rather than ignored.
    for (const std::string& args : {"--memory 64M --temp-dir /tmp --from-counts " + quote(dir / "none.pieces"), "--temp-dir /tmp " + corpus}) {
        CAPTURE(args);
        const auto r = run(bp("train " + args + " -v 1000 -o " + quote(dir / "m.model")));
        INFO(r.out);
        CHECK(r.status == 2);
        CHECK(test_support::is_one_line(r.out));
        CHECK(r.out.find("--memory") != std::string::npos);
        CHECK(scratch_folder::list(dir.path()).empty());
    }
}
