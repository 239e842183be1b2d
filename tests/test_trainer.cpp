// SPDX-License-Identifier: Apache-2.0
// The trainer: exactness against the reference's training runs (golden/train), independence from
// the thread count, repeatability, round trips, errors, and the `bytepiece train` command.
#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using piece_counts = std::map<std::string, std::uint64_t>;

struct golden_run {
    std::size_t vocab;
    bool isolate_digits;
    bool ensure_unicode;
    std::string file() const {
        return "golden/train/small.v" + std::to_string(vocab) + ".mc2.id" + (isolate_digits ? "1" : "0") + ".eu" +
               (ensure_unicode ? "1" : "0") + ".model";
    }
};

const std::vector<golden_run>& golden_runs() {
    static const std::vector<golden_run> runs = {
        {4000, false, false}, {4000, false, true}, {4000, true, false}, {4000, true, true},
        {1000, false, false}, {1000, false, true}, {1000, true, false}, {1000, true, true},
    };
    return runs;
}

bytepiece::trainer_options options_for(const golden_run& r, unsigned threads) {
    bytepiece::trainer_options o;
    o.order = 6;
    o.max_vocab_size = {r.vocab};
    o.max_piece_length = 36;
    o.min_count = 2;
    o.isolate_digits = r.isolate_digits;
    o.ensure_unicode = r.ensure_unicode;
    o.threads = threads;
    return o;
}

piece_counts counts_of(const bytepiece::model& m) {
    piece_counts out;
    for (std::size_t id = bytepiece::model::first_piece_id; id < m.vocab_size(); ++id)
        out.emplace(std::string(m.piece(static_cast<std::uint32_t>(id))), m.count(static_cast<std::uint32_t>(id)));
    return out;
}

std::string show_piece(const std::string& p) {
    std::string out;
    bytepiece::detail::base64_encode_append(p, out);
    return out;
}

// Number of pieces whose count differs or that only one side has; lists the first few.
std::size_t difference(const piece_counts& ours, const piece_counts& ref, std::string& report) {
    std::size_t n = 0;
    auto note = [&](const std::string& p, std::uint64_t a, std::uint64_t b) {
        if (++n <= 10) report += "  piece " + show_piece(p) + ": ours " + std::to_string(a) + ", reference " + std::to_string(b) + "\n";
    };
    for (const auto& [p, c] : ours) {
        const auto it = ref.find(p);
        if (it == ref.end()) note(p, c, 0);
        else if (it->second != c) note(p, c, it->second);
    }
    for (const auto& [p, c] : ref)
        if (!ours.count(p)) note(p, 0, c);
    return n;
}

std::vector<bytepiece::model> train_file(const std::string& path, bytepiece::trainer_options o) {
    bytepiece::trainer t(std::move(o));
    t.train_files({path});
    return t.models();
}

using test_support::cli;
using test_support::quote;
using test_support::run;

// A small synthetic corpus with some structure, repeated words, digits and CJK.
std::vector<std::string> synthetic_texts() {
    std::vector<std::string> texts;
    const char* words[] = {"the", "cat", "sat", "on", "mat", "\xE4\xB8\xAD\xE6\x96\x87", "2024", "token", "ization", "\xC3\xA9t\xC3\xA9"};
    std::uint32_t x = 7;
    for (int t = 0; t < 20; ++t) {
        std::string s;
        for (int i = 0; i < 400; ++i) {
            x = x * 1103515245u + 12345u;
            s += words[(x >> 16) % 10];
            s += (x >> 8) % 7 == 0 ? "\n" : " ";
        }
        texts.push_back(s);
    }
    return texts;
}

}  // namespace

TEST_CASE("trainer reproduces the reference's training runs on small.txt", "[trainer][golden]") {
    if (!test_support::require_shared("corpus/small.txt")) return;
    const std::string corpus = test_support::shared_path("corpus/small.txt");
    for (const auto& r : golden_runs()) {
        if (!test_support::require_shared(r.file())) return;
        const std::string golden_path = test_support::shared_path(r.file());
        const auto models = train_file(corpus, options_for(r, 2));
        REQUIRE(models.size() == 1);
        const bytepiece::model golden = bytepiece::model::load(golden_path);
        std::string report;
        const std::size_t diff = difference(counts_of(models[0]), counts_of(golden), report);
        INFO(r.file() << ": " << models[0].piece_count() << " pieces (reference " << golden.piece_count() << "), "
                      << diff << " differ\n" << report);
        CHECK(diff == 0);
        // Same pieces and counts, hence the same ids; the file must then be byte-identical.
        const bool identical = models[0].to_json() == test_support::read(golden_path);
        CHECK(identical);
    }
}

TEST_CASE("trainer: several sizes in one run give each size's model and the reference's file names", "[trainer][golden]") {
    if (!test_support::require_shared("golden/train/small.v1000.mc2.id0.eu1.model")) return;
    bytepiece::trainer_options o = options_for({4000, false, true}, 2);
    o.max_vocab_size = {1000, 4000};
    bytepiece::trainer t(o);
    t.train_files({test_support::shared_path("corpus/small.txt")});
    REQUIRE(t.models().size() == 2);
    CHECK(t.vocab_sizes() == std::vector<std::size_t>{4000, 1000});
    const std::string base = test_support::scratch_path("trainer_multi.model");
    const auto paths = t.output_paths(base);
    REQUIRE(paths == std::vector<std::string>{base + ".4000", base + ".1000"});
    t.save(base);
    CHECK(test_support::read(paths[0]) == test_support::read(test_support::shared_path("golden/train/small.v4000.mc2.id0.eu1.model")));
    CHECK(test_support::read(paths[1]) == test_support::read(test_support::shared_path("golden/train/small.v1000.mc2.id0.eu1.model")));
    CHECK(!test_support::file_exists(base));
    for (const auto& p : paths) std::remove(p.c_str());
}

TEST_CASE("trainer: the result does not depend on the thread count and repeats exactly", "[trainer]") {
    const auto texts = synthetic_texts();
    std::vector<std::string> outputs;
    for (const unsigned threads : {1u, 2u, 3u, 1u}) {
        bytepiece::trainer_options o;
        o.max_vocab_size = {600, 300};
        o.min_count = 3;
        o.isolate_digits = true;
        o.threads = threads;
        bytepiece::trainer t(o);
        t.train(texts);
        REQUIRE(t.models().size() == 2);
        outputs.push_back(t.models()[0].to_json() + t.models()[1].to_json());
    }
    for (std::size_t i = 1; i < outputs.size(); ++i) CHECK(outputs[i] == outputs[0]);

    if (!test_support::require_shared("corpus/small.txt")) return;
    const std::string corpus = test_support::shared_path("corpus/small.txt");
    const golden_run r{1000, false, true};
    const std::string one = train_file(corpus, options_for(r, 1)).front().to_json();
    CHECK(train_file(corpus, options_for(r, 2)).front().to_json() == one);
    CHECK(train_file(corpus, options_for(r, 1)).front().to_json() == one);
}

TEST_CASE("trainer: a file is one text, the same as its content passed as a string", "[trainer]") {
    if (!test_support::require_shared("corpus/small.txt")) return;
    // Seven copies: 1.4 MB, so the file is read in several blocks.
    const std::string small = test_support::read(test_support::shared_path("corpus/small.txt"));
    std::string content;
    for (int i = 0; i < 7; ++i) content += small;
    const std::string path = test_support::scratch_path("trainer_big.txt");
    test_support::write(path, content);
    bytepiece::trainer_options o;
    o.max_vocab_size = {2000};
    o.threads = 2;
    const std::string from_file = train_file(path, o).front().to_json();
    bytepiece::trainer t(o);
    t.train(std::vector<std::string>{content});
    CHECK(t.models().front().to_json() == from_file);
    std::remove(path.c_str());
}

TEST_CASE("trainer: a trained model round-trips through save and load", "[trainer]") {
    bytepiece::trainer_options o;
    o.max_vocab_size = {500};
    bytepiece::trainer t(o);
    t.train(synthetic_texts());
    const std::string path = test_support::scratch_path("trainer_roundtrip.model");
    t.save(path);
    const std::string saved = test_support::read(path);
    CHECK(saved == t.models().front().to_json());
    const auto loaded = bytepiece::model::load(path);
    CHECK(loaded.to_json() == saved);
    // The model holds all bytes and encodes any text losslessly.
    bytepiece::tokenizer tok(loaded);
    const std::string text = "the cat sat on the \xE4\xB8\xAD\xE6\x96\x87 mat 2024\n\xFF\x01";
    CHECK(tok.decode_bytes(tok.encode(text).data(), tok.encode(text).size()) == text);
    std::remove(path.c_str());
}

TEST_CASE("trainer: options and progress", "[trainer]") {
    // Orders from 1 to 9 (9 uses the wide n-gram tables) all give loadable models.
    for (const std::size_t order : {std::size_t(1), std::size_t(2), std::size_t(3), std::size_t(9)}) {
        bytepiece::trainer_options o;
        o.order = order;
        o.max_vocab_size = {400};
        o.min_count = 0;
        o.ensure_unicode = order != 2;
        bytepiece::trainer t(o);
        t.train(synthetic_texts());
        INFO("order " << order);
        CHECK(t.models().front().piece_count() >= 256);
        CHECK(t.models().front().piece_count() <= 397);
        CHECK(bytepiece::model::from_json(t.models().front().to_json()).to_json() == t.models().front().to_json());
    }
    std::vector<bytepiece::train_progress> seen;
    bytepiece::trainer_options o;
    o.max_vocab_size = {300};
    o.threads = 2;
    o.progress = [&](const bytepiece::train_progress& p) { seen.push_back(p); };
    bytepiece::trainer t(o);
    t.train(synthetic_texts());
    REQUIRE(!seen.empty());
    CHECK(seen.front().phase == bytepiece::train_phase::count_ngrams);
    CHECK(seen.back().phase == bytepiece::train_phase::prune_pieces);
    for (std::size_t i = 1; i < seen.size(); ++i) {
        CHECK(seen[i].phase >= seen[i - 1].phase);
        if (seen[i].phase == seen[i - 1].phase && seen[i].round == seen[i - 1].round) CHECK(seen[i].done >= seen[i - 1].done);
    }
}

TEST_CASE("trainer: errors", "[trainer]") {
    auto code_of = [](auto&& f) {
        try {
            f();
        } catch (const bytepiece::error& e) {
            return e.code();
        }
        return bytepiece::errc{};
    };
    using bytepiece::errc;
    auto with = [](auto change) {
        bytepiece::trainer_options o;
        o.max_vocab_size = {1000};
        change(o);
        return o;
    };
    CHECK(code_of([&] { bytepiece::trainer t(with([](auto& o) { o.order = 0; })); }) == errc::train_bad_option);
    CHECK(code_of([&] { bytepiece::trainer t(with([](auto& o) { o.order = 33; })); }) == errc::train_bad_option);
    CHECK(code_of([&] { bytepiece::trainer t(with([](auto& o) { o.max_vocab_size = {258}; })); }) == errc::train_bad_option);
    CHECK(code_of([&] { bytepiece::trainer t(with([](auto& o) { o.max_vocab_size = {}; })); }) == errc::train_bad_option);
    CHECK(code_of([&] { bytepiece::trainer t(with([](auto& o) { o.max_vocab_size = {500, 500}; })); }) == errc::train_bad_option);
    CHECK(code_of([&] { bytepiece::trainer t(with([](auto& o) { o.max_piece_length = 0; })); }) == errc::train_bad_option);
    CHECK(code_of([&] { bytepiece::trainer t(with([](auto& o) { o.max_vocab_size = {259}; })); }) == errc{});

    bytepiece::trainer t(with([](auto&) {}));
    CHECK(code_of([&] { t.save(test_support::scratch_path("never.model")); }) == errc::train_bad_option);
    CHECK(code_of([&] { t.train(std::vector<std::string>{}); }) == errc::train_empty_corpus);
    CHECK(code_of([&] { t.train(std::vector<std::string>{"", ""}); }) == errc::train_empty_corpus);
    const std::string empty = test_support::scratch_path("trainer_empty.txt");
    test_support::write(empty, "");
    CHECK(code_of([&] { t.train_files({empty}); }) == errc::train_empty_corpus);
    CHECK(code_of([&] { t.train_files({empty, test_support::scratch_path("no/such/file.txt")}); }) == errc::io_open);
    CHECK(t.models().empty());
    std::remove(empty.c_str());
    // One byte is enough: the other 255 are added with count 1.
    t.train(std::vector<std::string>{"x"});
    CHECK(t.models().front().piece_count() == 256);
}

TEST_CASE("bytepiece train: the reference's models and one-line errors", "[trainer][cli]") {
    if (cli().empty()) {
        WARN("skipped: the bytepiece tool is not built (BYTEPIECE_BUILD_TOOLS=OFF)");
        return;
    }
    if (!test_support::require_shared("golden/train/small.v1000.mc2.id1.eu0.model")) return;
    const std::string corpus = quote(test_support::shared_path("corpus/small.txt"));
    const std::string out = test_support::scratch_path("cli_train.model");
    std::remove(out.c_str());
    auto r = run(quote(cli()) + " train -i " + corpus + " -o " + quote(out) +
                 " --vocab-size 1000 --isolate-digits --no-ensure-unicode --threads 2 2>&1");
    CHECK(r.status == 0);
    // No progress when stderr is not a terminal; only the line that says the model came out
    // short of the 1000 ids asked for.
    CHECK(r.out.find("bytepiece train: note: " + out + " has ") == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
    CHECK(test_support::read(out) == test_support::read(test_support::shared_path("golden/train/small.v1000.mc2.id1.eu0.model")));
    std::remove(out.c_str());

    // Two sizes: MODEL.N files; --progress prints the phases even to a pipe.
    r = run(quote(cli()) + " train " + corpus + " -o " + quote(out) + " -v 1000 --vocab-size 4000 --progress 2>&1");
    CHECK(r.status == 0);
    CHECK(r.out.find("count n-grams") != std::string::npos);
    CHECK(r.out.find("prune pieces") != std::string::npos);
    CHECK(test_support::read(out + ".1000") == test_support::read(test_support::shared_path("golden/train/small.v1000.mc2.id0.eu1.model")));
    CHECK(test_support::read(out + ".4000") == test_support::read(test_support::shared_path("golden/train/small.v4000.mc2.id0.eu1.model")));
    CHECK(!test_support::file_exists(out));
    std::remove((out + ".1000").c_str());
    std::remove((out + ".4000").c_str());

    const std::string empty = test_support::scratch_path("cli_train_empty.txt");
    test_support::write(empty, "");
    const std::vector<std::string> bad = {
        " -i " + quote(test_support::scratch_path("missing.txt")) + " -o " + quote(out) + " --vocab-size 1000",
        " -i " + quote(empty) + " -o " + quote(out) + " --vocab-size 1000",
        " -i " + corpus + " -o " + quote(out) + " --vocab-size 258",
        " -i " + corpus + " -o " + quote(out) + " --vocab-size 1000 --order 0",
        " -i " + corpus + " -o " + quote(out),
        " -i " + corpus + " --vocab-size 1000",
        " -i " + corpus + " -o " + quote(out) + " --vocab-size 1000 --bogus",
        " -i " + corpus + " -o " + quote(test_support::scratch_path("no/such/dir/x.model")) + " --vocab-size 1000",
    };
    for (const auto& args : bad) {
        r = run(quote(cli()) + " train" + args + " 2>&1");
        INFO("bytepiece train" << args << "\n-> " << r.out);
        CHECK(r.status == 2);
        CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
        CHECK(!test_support::file_exists(out));
    }
    std::remove(empty.c_str());
}
