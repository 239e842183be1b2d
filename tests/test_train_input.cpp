// SPDX-License-Identifier: Apache-2.0
// Training input that cannot be read twice (standard input, pipes, FIFOs, process
// substitution) gives the same model as the file itself, and a file that changes between the two
// passes, or a range of texts that differs the second time, is an error, never a wrong model.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;

bytepiece::trainer_options small_options() {
    bytepiece::trainer_options o;
    o.max_vocab_size = {1000};
    o.threads = 2;
    return o;
}

template <class F>
bytepiece::errc code_of(F&& f) {
    try {
        f();
    } catch (const bytepiece::error& e) {
        return e.code();
    }
    return bytepiece::errc{};
}

// Repeats `body` on the texts `first` the first time it is iterated and `second` after that,
// as a generator or a single-pass stream does.
class changing_range {
public:
    changing_range(std::vector<std::string> first, std::vector<std::string> second)
        : first_(std::move(first)), second_(std::move(second)) {}
    std::vector<std::string>::const_iterator begin() const { return (++begun_ == 1 ? first_ : second_).begin(); }
    std::vector<std::string>::const_iterator end() const { return (begun_ == 1 ? first_ : second_).end(); }

private:
    std::vector<std::string> first_, second_;
    mutable int begun_ = 0;
};

}  // namespace

TEST_CASE("train_files: a pipe given by its /dev/fd name gives the same model as the file", "[trainer][input]") {
    if (!test_support::require_shared("corpus/small.txt")) return;
    const std::string corpus = test_support::shared_path("corpus/small.txt");
    bytepiece::trainer from_file(small_options());
    from_file.train_files({corpus});

    // The old trainer read a pipe's content in pass 1 and nothing in pass 2: a model of the 256
    // single bytes and no error.
    std::signal(SIGPIPE, SIG_IGN);  // a writer cut off must see an error, not kill the test
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const std::string content = test_support::read(corpus);
    std::thread writer([&] {
        std::size_t done = 0;
        while (done < content.size()) {
            const ssize_t n = ::write(fds[1], content.data() + done, content.size() - done);
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        ::close(fds[1]);
    });
    bytepiece::trainer from_pipe(small_options());
    bytepiece::errc code{};
    try {
        from_pipe.train_files({"/dev/fd/" + std::to_string(fds[0])});
    } catch (const bytepiece::error& e) {
        code = e.code();
    }
    ::close(fds[0]);
    writer.join();
    CHECK(code == bytepiece::errc{});
    REQUIRE(from_pipe.models().size() == 1);
    CHECK(from_pipe.models()[0].vocab_size() == from_file.models()[0].vocab_size());
    CHECK((from_pipe.models()[0].to_json() == from_file.models()[0].to_json()));
}

TEST_CASE("train_files: a file that changes between the two passes is an error naming it", "[trainer][input]") {
    if (!test_support::require_shared("corpus/small.txt")) return;
    const test_support::scratch_folder folder("train_input_changed");
    const std::string& dir = folder.path();
    const std::string path = dir + "/corpus.txt";
    const std::string content = test_support::read(test_support::shared_path("corpus/small.txt"));

    // The hook runs when pass 2 starts: after pass 1 read the file, before pass 2 opens it.
    auto train_while = [&](auto change) {
        test_support::write(path, content);
        bytepiece::trainer_options o = small_options();
        bool changed = false;
        o.progress = [&](const bytepiece::train_progress& p) {
            if (p.phase == bytepiece::train_phase::count_pieces && !changed) {
                change();
                changed = true;
            }
        };
        bytepiece::trainer t(o);
        std::string message;
        bytepiece::errc code{};
        try {
            t.train_files({path});
        } catch (const bytepiece::error& e) {
            code = e.code();
            message = e.what();
        }
        INFO(message);
        CHECK(changed);
        CHECK(code == bytepiece::errc::io_changed);
        CHECK(message.find(path) != std::string::npos);
        CHECK(t.models().empty());
        CHECK(t.outcomes().empty());
    };
    SECTION("text appended") {
        train_while([&] {
            std::FILE* f = std::fopen(path.c_str(), "ab");
            REQUIRE(f);
            std::fputs("more text, written while the trainer ran\n", f);
            std::fclose(f);
        });
    }
    SECTION("cut short") {
        train_while([&] { std::filesystem::resize_file(path, content.size() / 2); });
    }
    SECTION("same length, one byte different") {
        train_while([&] {
            std::FILE* f = std::fopen(path.c_str(), "r+b");
            REQUIRE(f);
            std::fseek(f, static_cast<long>(content.size() / 3), SEEK_SET);
            std::fputc(content[content.size() / 3] == 'x' ? 'y' : 'x', f);
            std::fclose(f);
        });
    }
    SECTION("replaced by another file") {
        train_while([&] { test_support::write(path, content.substr(0, content.size() - 1) + "!"); });
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("train: a range that gives other texts the second time is an error", "[trainer][input]") {
    const std::vector<std::string> texts = {"the cat sat on the mat\n", "the dog sat on the log\n"};
    bytepiece::trainer_options o;
    o.max_vocab_size = {300};
    o.min_count = 1;
    {
        bytepiece::trainer t(o);
        const changing_range range(texts, {});  // a single-pass range: nothing the second time
        CHECK(code_of([&] { t.train(range); }) == bytepiece::errc::invalid_argument);
        CHECK(t.models().empty());
    }
    {
        // The same bytes cut into other texts are other texts.
        bytepiece::trainer t(o);
        const changing_range range(texts, {texts[0] + texts[1], ""});
        CHECK(code_of([&] { t.train(range); }) == bytepiece::errc::invalid_argument);
    }
    {
        bytepiece::trainer t(o);
        const changing_range range(texts, texts);
        CHECK(code_of([&] { t.train(range); }) == bytepiece::errc{});
        CHECK(t.models().size() == 1);
    }
}

TEST_CASE("train_files: '-' may be given once", "[trainer][input]") {
    bytepiece::trainer t(small_options());
    CHECK(code_of([&] { t.train_files({"-", "-"}); }) == bytepiece::errc::invalid_argument);
}

TEST_CASE("bytepiece train: -i -, /dev/stdin, a FIFO and <(...) give the file's model", "[trainer][input][cli]") {
    if (cli().empty()) {
        WARN("skipped: the bytepiece tool is not built (BYTEPIECE_BUILD_TOOLS=OFF)");
        return;
    }
    if (!test_support::require_shared("corpus/small.txt")) return;
    const std::string corpus = quote(test_support::shared_path("corpus/small.txt"));
    const test_support::scratch_folder folder("train_input_cli");
    const std::string& dir = folder.path();
    const std::string tool = quote(cli());
    const std::string args = " -v 1000 -v 400 --threads 2 -q";
    auto r = run(tool + " train -i " + corpus + " -o " + quote(dir + "/file.model") + args + " 2>&1");
    REQUIRE(r.status == 0);
    const std::string want_1000 = test_support::read(dir + "/file.model.1000");
    const std::string want_400 = test_support::read(dir + "/file.model.400");

    // `timeout`: the old trainer opened a FIFO twice and waited for a second writer forever.
    const std::string fifo = dir + "/corpus.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const std::vector<std::pair<std::string, std::string>> ways = {
        {"pipe", "cat " + corpus + " | " + tool + " train -i - -o OUT" + args},
        {"pipe, plain argument", "cat " + corpus + " | " + tool + " train - -o OUT" + args},
        {"/dev/stdin", "cat " + corpus + " | " + tool + " train -i /dev/stdin -o OUT" + args},
        {"redirected file", tool + " train -i - -o OUT" + args + " < " + corpus},
        {"FIFO", "(cat " + corpus + " > " + quote(fifo) + " &) ; timeout 60 " + tool + " train -i " + quote(fifo) + " -o OUT" + args},
        {"process substitution", "bash -c \"" + tool + " train -i <(cat " + corpus + ") -o OUT" + args + "\""},
    };
    int n = 0;
    for (const auto& [name, command] : ways) {
        const std::string out = dir + "/out" + std::to_string(++n) + ".model";
        std::string line = command;
        line.replace(line.find("OUT"), 3, quote(out));
        r = run(line + " 2>&1");
        INFO(name << ": " << line << "\n-> " << r.out);
        CHECK(r.status == 0);
        CHECK(r.out.empty());
        CHECK(test_support::file_exists(out + ".1000"));
        if (!test_support::file_exists(out + ".1000")) continue;
        CHECK((test_support::read(out + ".1000") == want_1000));
        CHECK((test_support::read(out + ".400") == want_400));
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("bytepiece train: standard input from a file is read again from where it started", "[trainer][input][cli]") {
    if (cli().empty()) return;
    if (!test_support::require_shared("corpus/small.txt")) return;
    const test_support::scratch_folder folder("train_input_offset");
    const std::string& dir = folder.path();
    const std::string content = test_support::read(test_support::shared_path("corpus/small.txt"));
    const std::string skip = "skipped line\n";
    test_support::write(dir + "/with_head.txt", skip + content);
    test_support::write(dir + "/rest.txt", content);
    const std::string tool = quote(cli());
    auto r = run(tool + " train -i " + quote(dir + "/rest.txt") + " -o " + quote(dir + "/want.model") + " -v 500 -q 2>&1");
    REQUIRE(r.status == 0);
    // `read` takes the first line off the shared descriptor; the trainer gets the rest.
    r = run("(read -r line; " + tool + " train -i - -o " + quote(dir + "/got.model") + " -v 500 -q) < " +
            quote(dir + "/with_head.txt") + " 2>&1");
    INFO(r.out);
    CHECK(r.status == 0);
    CHECK((test_support::read(dir + "/got.model") == test_support::read(dir + "/want.model")));
    std::filesystem::remove_all(dir);
}

TEST_CASE("bytepiece train: a copy of standard input that cannot be made is an error naming TMPDIR", "[trainer][input][cli]") {
    if (cli().empty()) return;
    const test_support::scratch_folder folder("train_input_tmpdir");
    const std::string& dir = folder.path();
    const std::string out = dir + "/x.model";
    const auto r = run("printf 'some text to train on\\n' | TMPDIR=" + quote(dir + "/missing") + " " + quote(cli()) +
                       " train -i - -o " + quote(out) + " -v 300 -q 2>&1");
    INFO(r.out);
    CHECK(r.status == 2);
    CHECK(r.out.find("[bytepiece.io.3] standard input") != std::string::npos);
    CHECK(r.out.find(dir + "/missing") != std::string::npos);
    CHECK(!test_support::file_exists(out));
    std::filesystem::remove_all(dir);
}
