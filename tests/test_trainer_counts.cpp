// SPDX-License-Identifier: Apache-2.0
// trainer::train_counts (the pruning of given piece counts, the reference's convert_to_bytepiece)
// and trainer::train_source (texts handed over by a callback, once per pass). The expected counts
// are worked out by hand from spec §5 in the comments.
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using counts = std::vector<std::pair<std::string, std::uint64_t>>;

// The options convert_to_bytepiece gives its trainer.
bytepiece::trainer_options convert_options(std::size_t pieces) {
    bytepiece::trainer_options o;
    o.max_vocab_size = {pieces + 259};
    o.max_piece_length = std::numeric_limits<std::size_t>::max();
    o.min_count = 1;
    return o;
}

std::uint64_t count_of(const bytepiece::model& m, const std::string& piece) {
    for (std::size_t id = bytepiece::model::first_piece_id; id < m.vocab_size(); ++id)
        if (m.piece(static_cast<bytepiece::model::id_type>(id)) == piece) return m.count(static_cast<bytepiece::model::id_type>(id));
    return 0;
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

}  // namespace

TEST_CASE("train_counts: a piece the others encode better is split into them", "[trainer][counts]") {
    // 255 bytes with count 1, "c" 100, "ab" 100, "abc" 1: total 456. "abc" alone scores
    // log(1/456) = -6.1, "ab" + "c" 2 log(100/456) = -3.0, so "abc" goes into "ab" and "c"
    // (101 each) and is removed; the next round changes nothing.
    bytepiece::trainer t(convert_options(3));
    t.train_counts({{"abc", 1}, {"ab", 100}, {"c", 100}});
    REQUIRE(t.models().size() == 1);
    const auto& m = t.models()[0];
    CHECK(m.vocab_size() == 3 + 256 + 1);
    CHECK(count_of(m, "ab") == 101);
    CHECK(count_of(m, "c") == 101);
    CHECK(count_of(m, "a") == 1);
    CHECK(count_of(m, "abc") == 0);
    CHECK(t.outcomes()[0].produced == 260);  // of the 262 asked for: convert never cuts
}

TEST_CASE("train_counts: pieces over max_piece_length are split, and the cut to a size", "[trainer][counts]") {
    {
        // "abcd" is longer than 2 bytes: it is split into "ab" + "cd" (2 log(5/266) beats any
        // path through single bytes), adding its 10 to each.
        bytepiece::trainer_options o = convert_options(3);
        o.max_piece_length = 2;
        bytepiece::trainer t(o);
        t.train_counts({{"abcd", 10}, {"ab", 5}, {"cd", 5}});
        const auto& m = t.models()[0];
        CHECK(m.vocab_size() == 3 + 256 + 2);
        CHECK(count_of(m, "ab") == 15);
        CHECK(count_of(m, "cd") == 15);
    }
    {
        // 259 ids leave room for the single bytes only: "ab" is cut and split into "a" + "b".
        bytepiece::trainer_options o = convert_options(1);
        o.max_vocab_size = {259};
        bytepiece::trainer t(o);
        t.train_counts({{"ab", 100}});
        const auto& m = t.models()[0];
        CHECK(m.vocab_size() == 259);
        CHECK(count_of(m, "a") == 101);
        CHECK(count_of(m, "b") == 101);
        CHECK(count_of(m, "c") == 1);
    }
}

TEST_CASE("train_counts: zero counts, empty and repeated pieces", "[trainer][counts]") {
    {
        bytepiece::trainer t(convert_options(1));
        t.train_counts({{"xy", 0}});
        CHECK(t.models()[0].vocab_size() == 259);
    }
    bytepiece::trainer t(convert_options(2));
    CHECK(code_of([&] { t.train_counts({{"x", 0}}); }) == bytepiece::errc::invalid_argument);
    CHECK(code_of([&] { t.train_counts({{"", 3}}); }) == bytepiece::errc::invalid_argument);
    CHECK(code_of([&] { t.train_counts({{"xy", 3}, {"xy", 4}}); }) == bytepiece::errc::invalid_argument);
    CHECK(t.models().empty());
}

TEST_CASE("train_source: the same model as train(range); a changed second pass and a failing source", "[trainer][counts]") {
    const std::vector<std::string> texts = {"the cat sat on the mat\n", "the dog sat on the log\n", "a cat and a dog\n"};
    bytepiece::trainer_options o;
    o.max_vocab_size = {300};
    o.min_count = 1;
    bytepiece::trainer a(o), b(o);
    a.train(texts);
    int calls = 0;
    b.train_source([&](int pass, auto&& emit) {
        CHECK(pass == ++calls);
        for (const auto& s : texts) emit(s);
    });
    CHECK(calls == 2);
    CHECK(a.models()[0].to_json() == b.models()[0].to_json());

    bytepiece::trainer c(o);
    CHECK(code_of([&] {
              c.train_source([&](int pass, auto&& emit) {
                  if (pass == 1)
                      for (const auto& s : texts) emit(s);
              });
          }) == bytepiece::errc::invalid_argument);
    CHECK_THROWS_AS(c.train_source([&](int pass, auto&& emit) {
                        emit(texts[0]);
                        if (pass == 2) throw std::runtime_error("source failed");
                    }),
                    std::runtime_error);
    CHECK(c.models().empty());
}
