// SPDX-License-Identifier: Apache-2.0
// Count files that are truncated, damaged, of another kind, version or options are refused
// with their own error code and a message that names the file (train_counts.hpp).
#include "test_support.hpp"

namespace {

using bytepiece::errc;
using test_support::read;
using test_support::scratch_folder;

struct refusal {
    errc code = errc::invalid_argument;
    std::string message;
    bool thrown = false;
};

template <class F>
refusal refused(F&& f) {
    refusal r;
    try {
        f();
    } catch (const bytepiece::error& e) {
        r.code = e.code();
        r.message = e.what();
        r.thrown = true;
    }
    return r;
}

std::string corpus_text() {
    std::string text;
    const char* lines[] = {"the cat sat on the mat 2024\n", "token ization \xC3\xA9t\xC3\xA9\n\n", "\xE4\xB8\xAD\xE6\x96\x87 text 42\n"};
    for (int i = 0; i < 300; ++i) text += lines[i % 3];
    return text;
}

bytepiece::trainer_options small_options() {
    bytepiece::trainer_options o;
    o.max_vocab_size = {300};
    o.order = 4;
    return o;
}

// Files of each kind, made once.
struct fixture {
    scratch_folder dir{"train_shards_errors"};
    std::string text = dir / "text.txt";
    std::string ngrams = dir / "a.ngrams";
    std::string pruned = dir / "a.pruned";
    std::string pieces = dir / "a.pieces";
    fixture() {
        test_support::write(text, corpus_text());
        bytepiece::trainer t(small_options());
        t.count_ngrams({text}, ngrams);
        t.prune_ngrams(ngrams, pruned);
        t.count_pieces(pruned, {text}, pieces);
    }
};

}  // namespace

TEST_CASE("count files: truncated, damaged and foreign files are refused", "[train_shards][errors]") {
    fixture f;
    for (const std::string& path : {f.ngrams, f.pruned, f.pieces}) {
        const std::string bytes = read(path);
        INFO(path << ", " << bytes.size() << " bytes");
        REQUIRE(bytes.size() > 2200);
        CHECK_NOTHROW(bytepiece::read_count_file_info(path));
        const std::string bad = f.dir / "bad.counts";
        // Cut at several places: the header, the records, the trailer.
        for (const std::size_t keep : {std::size_t(0), std::size_t(5), std::size_t(11), std::size_t(100), std::size_t(2111),
                                       bytes.size() / 2, bytes.size() - 25, bytes.size() - 9, bytes.size() - 1}) {
            INFO("cut to " << keep << " bytes");
            test_support::write(bad, bytes.substr(0, keep));
            const refusal r = refused([&] { bytepiece::read_count_file_info(bad); });
            REQUIRE(r.thrown);
            CHECK(r.code == (keep == 0 ? errc::count_file_not_counts : errc::count_file_truncated));
            CHECK(r.message.find(bad) != std::string::npos);
            CHECK(r.message.find("at byte") != std::string::npos);
        }
        // One byte flipped anywhere after the magic and the version: the checksum says so.
        for (const std::size_t at : {std::size_t(12), std::size_t(13), std::size_t(40), std::size_t(64 + 8 * 'a'), std::size_t(2112),
                                     bytes.size() / 3, bytes.size() - 30, bytes.size() - 24, bytes.size() - 20, bytes.size() - 12}) {
            INFO("byte " << at << " flipped");
            std::string damaged = bytes;
            damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
            test_support::write(bad, damaged);
            const refusal r = refused([&] { bytepiece::read_count_file_info(bad); });
            REQUIRE(r.thrown);
            CHECK(r.code == errc::count_file_damaged);
            CHECK(r.message.find(bad) != std::string::npos);
            CHECK(r.message.find("damaged") != std::string::npos);
        }
        {
            std::string damaged = bytes;
            damaged[bytes.size() - 3] ^= 1;  // the end mark
            test_support::write(bad, damaged);
            CHECK(refused([&] { bytepiece::read_count_file_info(bad); }).code == errc::count_file_truncated);
        }
        {
            std::string other = bytes;
            other[1] = 'X';  // the magic
            test_support::write(bad, other);
            const refusal r = refused([&] { bytepiece::read_count_file_info(bad); });
            CHECK(r.code == errc::count_file_not_counts);
            CHECK(r.message.find(bad) != std::string::npos);
        }
        {
            std::string other = bytes;
            other[8] = 2;  // version 2
            test_support::write(bad, other);
            const refusal r = refused([&] { bytepiece::read_count_file_info(bad); });
            CHECK(r.code == errc::count_file_version);
            CHECK(r.message.find("version 2") != std::string::npos);
            CHECK(r.message.find(bad) != std::string::npos);
        }
    }
    // A model file, a text file: not count files.
    CHECK(refused([&] { bytepiece::read_count_file_info(f.text); }).code == errc::count_file_not_counts);
}

TEST_CASE("count files: a well-formed checksum does not let malformed records through", "[train_shards][errors]") {
    fixture f;
    // Records out of order, with a valid checksum: written by hand.
    bytepiece::detail::count_header h;
    h.kind = bytepiece::detail::count_format::kind_pieces;
    h.order = 4;
    h.chunk_chars = 10000;
    h.min_count = 2;
    h.ensure_unicode = true;
    const std::string bad = f.dir / "unsorted.pieces";
    {
        bytepiece::detail::count_file_writer w(bad, h);
        w.add("b", 1);
        w.add("a", 1);
        w.end_section();
        w.commit();
    }
    const refusal r = refused([&] { bytepiece::read_count_file_info(bad); });
    CHECK(r.code == errc::count_file_invalid);
    CHECK(r.message.find(bad) != std::string::npos);
    CHECK(r.message.find("out of order") != std::string::npos);
    // Byte counts that do not add up to the positions.
    h.kind = bytepiece::detail::count_format::kind_ngrams;
    h.min_count = 0;
    h.ensure_unicode = false;
    h.positions = 5;
    {
        bytepiece::detail::count_file_writer w(bad, h);
        for (int s = 0; s < 3; ++s) w.end_section();
        w.commit();
    }
    const refusal sum = refused([&] { bytepiece::read_count_file_info(bad); });
    CHECK(sum.code == errc::count_file_invalid);
    CHECK(sum.message.find("positions") != std::string::npos);
    // A record that could share more bytes with the one before: not what the writer writes.
    h.positions = 0;
    h.kind = bytepiece::detail::count_format::kind_pieces;
    h.min_count = 2;
    {
        bytepiece::detail::count_file_writer w(bad, h);
        w.add("ab", 1);
        w.end_section();
        w.commit();
    }
    std::string bytes = read(bad);
    // Records start after the header: count 1, shared 0, length 2, "ab", then the section's 0.
    const std::size_t at = bytepiece::detail::count_format::header_bytes;
    REQUIRE(bytes.substr(at, 6) == std::string("\x01\x00\x02" "ab\x00", 6));
    bytes.insert(at + 5, std::string("\x01\x00\x02" "ac", 5));  // "ac" after "ab" with nothing shared
    std::string content = bytes.substr(0, bytes.size() - 24);
    char trailer[24];
    bytepiece::detail::put_u64(trailer, content.size());
    bytepiece::detail::put_u64(trailer + 8, bytepiece::detail::hash_bytes(content));
    std::memcpy(trailer + 16, bytepiece::detail::count_format::end_magic, 8);
    test_support::write(bad, content + std::string(trailer, 24));
    const refusal shared = refused([&] { bytepiece::read_count_file_info(bad); });
    CHECK(shared.code == errc::count_file_invalid);
    INFO(shared.message);
    CHECK(shared.message.find("shares fewer bytes") != std::string::npos);
    CHECK(shared.message.find("at byte " + std::to_string(at + 5)) != std::string::npos);
}

TEST_CASE("count files: wrong kinds and other options are refused", "[train_shards][errors]") {
    fixture f;
    bytepiece::trainer t(small_options());
    const std::string out = f.dir / "out.counts";
    auto code_of = [](auto&& fn) { return refused(fn).code; };
    // Wrong kinds.
    CHECK(code_of([&] { t.prune_ngrams(f.pieces, out); }) == errc::count_file_wrong_kind);
    CHECK(code_of([&] { t.prune_ngrams(f.pruned, out); }) == errc::count_file_wrong_kind);
    CHECK(code_of([&] { t.count_pieces(f.ngrams, {f.text}, out); }) == errc::count_file_wrong_kind);
    CHECK(code_of([&] { t.train_from_counts(f.ngrams); }) == errc::count_file_wrong_kind);
    CHECK(code_of([&] { bytepiece::merge_count_files({f.pruned, f.pruned}, out); }) == errc::count_file_wrong_kind);
    CHECK(code_of([&] { bytepiece::merge_count_files({f.ngrams, f.pieces}, out); }) == errc::count_file_wrong_kind);
    const refusal kind = refused([&] { t.count_pieces(f.pieces, {f.text}, out); });
    CHECK(kind.message.find(f.pieces) != std::string::npos);
    CHECK(kind.message.find("piece counts") != std::string::npos);

    // Other options: order, isolate_digits, min_count, ensure_unicode.
    auto with = [](auto change) {
        bytepiece::trainer_options o = small_options();
        change(o);
        return o;
    };
    bytepiece::trainer order5(with([](auto& o) { o.order = 5; }));
    bytepiece::trainer digits(with([](auto& o) { o.isolate_digits = true; }));
    bytepiece::trainer min3(with([](auto& o) { o.min_count = 3; }));
    bytepiece::trainer no_unicode(with([](auto& o) { o.ensure_unicode = false; }));
    CHECK(code_of([&] { order5.prune_ngrams(f.ngrams, out); }) == errc::count_file_mismatch);
    CHECK(code_of([&] { digits.prune_ngrams(f.ngrams, out); }) == errc::count_file_mismatch);
    CHECK(code_of([&] { min3.count_pieces(f.pruned, {f.text}, out); }) == errc::count_file_mismatch);
    CHECK(code_of([&] { no_unicode.count_pieces(f.pruned, {f.text}, out); }) == errc::count_file_mismatch);
    CHECK(code_of([&] { min3.train_from_counts(f.pieces); }) == errc::count_file_mismatch);
    const refusal order = refused([&] { order5.prune_ngrams(f.ngrams, out); });
    CHECK(order.message.find(f.ngrams) != std::string::npos);
    CHECK(order.message.find("order 4") != std::string::npos);

    // Merges of files from other options or another pruned model.
    const std::string ngrams5 = f.dir / "b.ngrams";
    order5.count_ngrams({f.text}, ngrams5);
    const refusal merge = refused([&] { bytepiece::merge_count_files({f.ngrams, ngrams5}, out); });
    CHECK(merge.code == errc::count_file_mismatch);
    CHECK(merge.message.find(ngrams5) != std::string::npos);
    const std::string pruned3 = f.dir / "b.pruned", pieces3 = f.dir / "b.pieces";
    bytepiece::trainer t3(with([](auto& o) { o.min_count = 3; }));
    t3.prune_ngrams(f.ngrams, pruned3);
    t3.count_pieces(pruned3, {f.text}, pieces3);
    CHECK(code_of([&] { bytepiece::merge_count_files({f.pieces, pieces3}, out); }) == errc::count_file_mismatch);
    // Same options, another model (counted on other text): refused too.
    const std::string other_text = f.dir / "other.txt", other_ngrams = f.dir / "c.ngrams", other_pruned = f.dir / "c.pruned",
                      other_pieces = f.dir / "c.pieces";
    test_support::write(other_text, "another text, quite unlike the first one\nanother text\n");
    t.count_ngrams({other_text}, other_ngrams);
    t.prune_ngrams(other_ngrams, other_pruned);
    t.count_pieces(other_pruned, {other_text}, other_pieces);
    const refusal model = refused([&] { bytepiece::merge_count_files({f.pieces, other_pieces}, out); });
    CHECK(model.code == errc::count_file_mismatch);
    CHECK(model.message.find("another pruned n-gram model") != std::string::npos);
    CHECK_FALSE(test_support::file_exists(out));
}

TEST_CASE("count files: inputs are never outputs, parts must exist, empty corpora", "[train_shards][errors]") {
    fixture f;
    bytepiece::trainer t(small_options());
    const std::string before = read(f.ngrams);
    auto code_of = [](auto&& fn) { return refused(fn).code; };
    CHECK(code_of([&] { bytepiece::merge_count_files({f.ngrams, f.ngrams}, f.ngrams); }) == errc::invalid_argument);
    CHECK(code_of([&] { t.prune_ngrams(f.ngrams, f.ngrams); }) == errc::invalid_argument);
    CHECK(code_of([&] { t.count_ngrams({f.text}, f.text); }) == errc::invalid_argument);
    CHECK(code_of([&] { t.count_pieces(f.pruned, {f.text}, f.pruned); }) == errc::invalid_argument);
    CHECK(code_of([&] { bytepiece::merge_count_files({}, f.dir / "x"); }) == errc::invalid_argument);
    CHECK(read(f.ngrams) == before);
    CHECK(code_of([&] { t.count_ngrams({f.text}, f.dir / "x", {3, 3}); }) == errc::train_bad_option);
    CHECK(code_of([&] { t.count_ngrams({f.text}, f.dir / "x", {0, 0}); }) == errc::train_bad_option);
    CHECK(code_of([&] { t.count_ngrams({"-"}, f.dir / "x", {0, 2}); }) == errc::invalid_argument);
    CHECK(code_of([&] { t.count_ngrams({f.dir / "missing.txt"}, f.dir / "x"); }) == errc::io_open);
    CHECK_FALSE(test_support::file_exists(f.dir / "x"));
    // A file without newlines is all in part 0.
    test_support::write(f.dir / "oneline.txt", std::string(5000, 'z'));
    t.count_ngrams({f.dir / "oneline.txt"}, f.dir / "o0.ngrams", {0, 2});
    t.count_ngrams({f.dir / "oneline.txt"}, f.dir / "o1.ngrams", {1, 2});
    CHECK(bytepiece::read_count_file_info(f.dir / "o0.ngrams").input_bytes == 5000);
    CHECK(bytepiece::read_count_file_info(f.dir / "o1.ngrams").input_bytes == 0);
    // An empty shard is fine; an empty corpus is refused when pruning.
    const std::string empty = f.dir / "empty.txt";
    test_support::write(empty, "");
    t.count_ngrams({empty}, f.dir / "e.ngrams");
    CHECK(bytepiece::read_count_file_info(f.dir / "e.ngrams").entries == 0);
    CHECK(code_of([&] { t.prune_ngrams(f.dir / "e.ngrams", f.dir / "e.pruned"); }) == errc::train_empty_corpus);
    bytepiece::merge_count_files({f.dir / "e.ngrams", f.ngrams}, f.dir / "sum.ngrams");
    CHECK(read(f.dir / "sum.ngrams") == before);
}
