// SPDX-License-Identifier: Apache-2.0
// Where training writes: an output that cannot be written fails before any input is read, and
// the files of a multi-size run appear all together or not at all.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;

std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("trainer::save: several sizes are written all together or not at all", "[trainer][output]") {
    if (!test_support::require_shared("corpus/small.txt")) return;
    const test_support::scratch_folder folder("train_output_save");
    const std::string& dir = folder.path();
    bytepiece::trainer_options o;
    o.max_vocab_size = {1000, 400};
    bytepiece::trainer t(o);
    t.train_files({test_support::shared_path("corpus/small.txt")});
    const std::string base = dir + "/m.model";

    // The second file cannot be written: the first must not be left behind either, nor any
    // temporary file.
    std::filesystem::create_directory(base + ".400");
    CHECK_THROWS_AS(t.check_output(base), bytepiece::io_error);
    bytepiece::errc code{};
    try {
        t.save(base);
    } catch (const bytepiece::io_error& e) {
        code = e.code();
    }
    CHECK(code == bytepiece::errc::io_write);
    CHECK(entries(dir) == std::vector<std::string>{"m.model.400"});

    // An existing first file keeps its content when the second fails.
    test_support::write(base + ".1000", "old content");
    CHECK_THROWS_AS(t.save(base), bytepiece::io_error);
    CHECK(test_support::read(base + ".1000") == "old content");
    CHECK(entries(dir) == std::vector<std::string>{"m.model.1000", "m.model.400"});

    std::filesystem::remove(base + ".400");
    t.check_output(base);
    t.save(base);
    CHECK(test_support::read(base + ".1000") == t.models()[0].to_json());
    CHECK(test_support::read(base + ".400") == t.models()[1].to_json());
    CHECK(entries(dir) == std::vector<std::string>{"m.model.1000", "m.model.400"});
    std::filesystem::remove_all(dir);
}

TEST_CASE("bytepiece train: an output that cannot be written fails before any input is read", "[trainer][output][cli]") {
    if (cli().empty()) {
        WARN("skipped: the bytepiece tool is not built (BYTEPIECE_BUILD_TOOLS=OFF)");
        return;
    }
    const test_support::scratch_folder folder("train_output_early");
    const std::string& dir = folder.path();
    // Nobody ever writes to this FIFO: a trainer that opened it would wait until `timeout` ends
    // it (status 124), so status 2 proves the input was never touched.
    const std::string fifo = dir + "/never_written.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::filesystem::create_directory(dir + "/a_folder");
    test_support::write(dir + "/a_file", "x");
    std::filesystem::create_directory(dir + "/multi.model.400");
    const std::vector<std::pair<std::string, std::string>> outputs = {
        {"a folder", dir + "/a_folder"},
        {"a missing folder", dir + "/missing/x.model"},
        {"a file as the folder", dir + "/a_file/x.model"},
        {"the second of several sizes is a folder", dir + "/multi.model"},
    };
    for (const auto& [what, out] : outputs) {
        const std::string sizes = what.find("several") != std::string::npos ? " -v 1000 -v 400" : " -v 1000";
        const auto r = run("timeout 20 " + quote(cli()) + " train -i " + quote(fifo) + " -o " + quote(out) + sizes +
                           " --progress 2>&1");
        INFO(what << " -> " << r.out);
        CHECK(r.status == 2);
        CHECK(r.out.find("[bytepiece.io.3] " + out) != std::string::npos);
        CHECK(r.out.find("count n-grams") == std::string::npos);
    }
    CHECK(entries(dir) == std::vector<std::string>{"a_file", "a_folder", "multi.model.400", "never_written.fifo"});
    CHECK(entries(dir + "/a_folder").empty());
    std::filesystem::remove_all(dir);
}
