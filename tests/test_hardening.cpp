// SPDX-License-Identifier: Apache-2.0
// Hostile model files and inputs found by the fuzzers (fuzz/): every one must end in a model
// or a typed bytepiece::error, quickly, without a crash and without memory out of proportion
// to the input.
#include <bytepiece/bytepiece.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include "test_support.hpp"

// --- Allocation accounting -------------------------------------------------------------------
// This program replaces the global operator new so a test can ask for the largest single
// allocation and the total allocated while it watches, and so prove that a loader does not
// reserve memory for what a file merely claims.
namespace {
std::atomic<bool> g_watching{false};
std::atomic<std::size_t> g_largest{0};
std::atomic<std::size_t> g_total{0};

void* counted_alloc(std::size_t n) {
    if (g_watching.load(std::memory_order_relaxed)) {
        g_total.fetch_add(n, std::memory_order_relaxed);
        std::size_t prev = g_largest.load(std::memory_order_relaxed);
        while (n > prev && !g_largest.compare_exchange_weak(prev, n, std::memory_order_relaxed)) {
        }
    }
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return operator new(n, std::nothrow); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

struct allocation_watch {
    allocation_watch() {
        g_largest = 0;
        g_total = 0;
        g_watching = true;
    }
    ~allocation_watch() { g_watching = false; }
    std::size_t largest() const { return g_largest.load(); }
    std::size_t total() const { return g_total.load(); }
};

using bytepiece::errc;
using bytepiece::model;
using bytepiece::model_error;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// Generous limits: these catch quadratic or runaway behaviour (minutes or hours), not ordinary
// slowness. Sanitizer builds run these cases about ten times slower, and on a loaded 2-core
// machine one took 19 s, so they get a wider margin.
#if defined(BYTEPIECE_SANITIZE)
constexpr double fast_seconds = 60.0;
#else
constexpr double fast_seconds = 10.0;
#endif

std::string key_of(const std::string& piece) {
    std::string k;
    bytepiece::detail::base64_encode_append(piece, k);
    return k;
}

// All 256 single bytes, ids 3..258, count 1, compact; `extra` entries are appended verbatim.
std::string byte_entries() {
    std::string s;
    for (int b = 0; b < 256; ++b) {
        if (b) s += ',';
        s += "\"" + key_of(std::string(1, static_cast<char>(b))) + "\":[" + std::to_string(b + 3) + ",\"\",1]";
    }
    return s;
}

std::string model_with(const std::string& extra = "") { return "{" + byte_entries() + extra + "}"; }

// Loads `json` and returns the model_error it throws (failing the test if it loads).
model_error load_error(const std::string& json, const std::string& source = "hostile.model") {
    try {
        model::from_json(json, source);
    } catch (const model_error& e) {
        return e;
    }
    FAIL("the model loaded, but an error was expected");
    return model_error(errc::model_empty, "");
}

void check_rejected(const std::string& json, errc code, const std::string& mention = "") {
    const auto t0 = clock_type::now();
    const model_error e = load_error(json);
    const std::string what = e.what();
    INFO(what.substr(0, 300));
    CHECK(e.code() == code);
    CHECK(what.find("hostile.model") != std::string::npos);
    CHECK(what.find(mention) != std::string::npos);
    CHECK(what.size() < 1000);  // messages quote keys and values briefly, never whole inputs
    CHECK(seconds_since(t0) < fast_seconds);
}

}  // namespace

TEST_CASE("a million nested brackets are rejected without recursion", "[hardening][model]") {
    const std::string deep(1000000, '[');
    check_rejected(deep, errc::model_bad_shape, "top level must be an object");
    check_rejected(deep + std::string(1000000, ']'), errc::model_bad_shape);
    check_rejected("{\"QQ==\":" + deep, errc::model_bad_shape, "element 0");
    check_rejected("{\"QQ==\":[3," + deep, errc::model_bad_shape, "element 1");
    check_rejected("{\"QQ==\":[3,\"A\"," + deep, errc::model_bad_shape, "element 2");
    check_rejected("{\"QQ==\":[3,\"A\",1," + deep, errc::model_bad_shape, "exactly 3 elements");
    std::string objects;
    for (int i = 0; i < 200000; ++i) objects += "{\"QQ==\":";
    check_rejected(objects, errc::model_bad_shape, "must be an array");
    check_rejected(std::string(1000000, '{'), errc::model_not_json);
}

TEST_CASE("numbers that overflow or are not integers are rejected", "[hardening][model]") {
    const std::string rest = ",\"Qg==\":[4,\"B\",1]}";
    // Beyond double range the JSON parser itself refuses the number ("number overflow").
    check_rejected("{\"QQ==\":[1e400,\"A\",1]" + rest, errc::model_not_json, "1e400");
    check_rejected("{\"QQ==\":[3,\"A\",1e400]" + rest, errc::model_not_json, "1e400");
    check_rejected("{\"QQ==\":[-1e400,\"A\",1]" + rest, errc::model_not_json, "-1e400");
    check_rejected("{\"QQ==\":[3,\"A\",-1e400]" + rest, errc::model_not_json, "-1e400");
    check_rejected("{\"QQ==\":[3,\"A\",1e308]" + rest, errc::model_bad_count, "1e308");
    check_rejected("{\"QQ==\":[1e-400,\"A\",1]" + rest, errc::model_bad_ids);
    check_rejected("{\"QQ==\":[3.0,\"A\",1]" + rest, errc::model_bad_ids, "not an integer");
    check_rejected("{\"QQ==\":[3,\"A\",1.0]" + rest, errc::model_bad_count);
    check_rejected("{\"QQ==\":[3,\"A\",1e2]" + rest, errc::model_bad_count);
    check_rejected("{\"QQ==\":[3,\"A\",0.5]" + rest, errc::model_bad_count);
    // -0 is the integer 0: not a valid id, not a positive count.
    check_rejected("{\"QQ==\":[-0,\"A\",1]" + rest, errc::model_bad_ids, "id 3 is missing");
    check_rejected("{\"QQ==\":[3,\"A\",-0]" + rest, errc::model_bad_count, "not positive");
    check_rejected("{\"QQ==\":[3,\"A\",-0.0]" + rest, errc::model_bad_count);
    check_rejected("{\"QQ==\":[-1,\"A\",1]" + rest, errc::model_bad_ids, "negative");
    check_rejected("{\"QQ==\":[3,\"A\",-1]" + rest, errc::model_bad_count, "not positive");
    check_rejected("{\"QQ==\":[-9223372036854775809,\"A\",1]" + rest, errc::model_bad_ids);
    check_rejected("{\"QQ==\":[3,\"A\",-9223372036854775809]" + rest, errc::model_bad_count);
    // 2^64 does not fit any integer type: the parser hands it over as a float.
    check_rejected("{\"QQ==\":[18446744073709551616,\"A\",1]" + rest, errc::model_bad_ids);
    check_rejected("{\"QQ==\":[3,\"A\",18446744073709551616]" + rest, errc::model_bad_count, "64 bits");
    check_rejected("{\"QQ==\":[3,\"A\",99999999999999999999999999999]" + rest, errc::model_bad_count);
    // Each count fits, their sum does not.
    check_rejected(model_with(",\"QUI=\":[259,\"AB\",18446744073709551615]"), errc::model_bad_count, "overflows");
    check_rejected(model_with(",\"QUI=\":[259,\"AB\",9223372036854775808],\"QUJD\":[260,\"ABC\",9223372036854775808]"),
                   errc::model_bad_count, "overflows");
    // The largest count that fits, with the other counts, loads and scores finitely.
    const auto m = model::from_json(model_with(",\"QUI=\":[259,\"AB\",18446744073709551359]"));
    CHECK(m.total_count() == 18446744073709551615ull);
    CHECK(m.score(259) <= 0.0);
    CHECK(m.score(259) > -1e-9);
}

TEST_CASE("ids far out of range are rejected naming the id", "[hardening][model]") {
    check_rejected(model_with(",\"QUI=\":[4294967296,\"AB\",1]"), errc::model_bad_ids, "4294967296");
    check_rejected(model_with(",\"QUI=\":[18446744073709551615,\"AB\",1]"), errc::model_bad_ids, "18446744073709551615");
    check_rejected(model_with(",\"QUI=\":[4000000000,\"AB\",1]"), errc::model_bad_ids, "4000000000");
    check_rejected("{\"QQ==\":[0,\"A\",1]}", errc::model_bad_ids);
    check_rejected("{\"QQ==\":[2,\"A\",1]}", errc::model_bad_ids);
    // Out of range for a 16-bit id type only.
    std::string many = "{";
    std::uint64_t id = 3;
    for (int len = 1; len <= 3 && id < 70000; ++len) {
        std::string piece(static_cast<std::size_t>(len), '\0');
        for (std::uint32_t v = 0; v < (1u << (8 * len)) && id < 70000; ++v) {
            for (int k = 0; k < len; ++k) piece[static_cast<std::size_t>(k)] = static_cast<char>((v >> (8 * k)) & 0xFF);
            if (id > 3) many += ',';
            many += "\"" + key_of(piece) + "\":[" + std::to_string(id++) + ",\"\",1]";
        }
    }
    many += '}';
    CHECK(model::from_json(many).piece_count() == 69997);
    try {
        bytepiece::basic_model<float, std::uint16_t>::from_json(many, "hostile.model");
        FAIL("a model with more pieces than 16-bit ids can number loaded");
    } catch (const model_error& e) {
        CHECK(e.code() == errc::model_too_large);
    }
}

TEST_CASE("duplicate keys are rejected", "[hardening][model]") {
    check_rejected(model_with(",\"QQ==\":[259,\"A\",1]"), errc::model_duplicate_piece, "QQ==");
    check_rejected(model_with(",\"QQ==\":[68,\"A\",1]"), errc::model_duplicate_id, "68");
}

TEST_CASE("a 1 MB piece loads, encodes and round-trips quickly", "[hardening][model]") {
    // Pseudo-random letters (no '\n', already NFC), so the text holding it is one chunk.
    std::string big(1 << 20, 'a');
    std::uint64_t x = 88172645463325252ull;
    for (auto& c : big) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>('a' + x % 26);
    }
    const auto t0 = clock_type::now();
    const std::string json = model_with(",\"" + key_of(big) + "\":[259,\"" + big + "\",1000000000]");
    const auto m = model::from_json(json, "big.model");
    REQUIRE(m.vocab_size() == 260);
    CHECK(m.piece(259) == big);
    CHECK(m.max_piece_length() == big.size());
    const bytepiece::tokenizer tok(m);
    const std::string text = "<<" + big + ">>" + big.substr(0, 1000) + "\n";
    const auto ids = tok.encode(text);
    CHECK(std::count(ids.begin(), ids.end(), 259u) == 1);
    CHECK(ids.size() == 2 + 1 + 2 + 1000 + 1);
    CHECK(tok.decode(ids) == text);
    const auto pieces = tok.tokenize(text);
    REQUIRE(pieces.size() == ids.size());
    CHECK(pieces[2] == big);
    const std::string saved = m.to_json();
    CHECK(model::from_json(saved).to_json() == saved);
    CHECK(seconds_since(t0) < fast_seconds);
}

TEST_CASE("nested long pieces keep a long single-chunk text linear", "[hardening][model]") {
    // Pieces a^2, a^4, ..., a^65536: starting at any position of a run of a's, a walk would
    // match up to 65536 bytes, so a start-by-start Viterbi over a 1 MiB run would take some
    // 10^10 steps. The automaton takes one step per byte plus the 16 pieces ending there.
    std::string members;
    std::size_t id = 259;  // after <pad>, <bos>, <eos> and the 256 bytes
    for (std::size_t len = 2; len <= 65536; len *= 2, ++id) {
        const std::string piece(len, 'a');
        members += ",\"" + key_of(piece) + "\":[" + std::to_string(id) + ",\"" + piece + "\",1000]";
    }
    const auto t0 = clock_type::now();
    const auto m = model::from_json(model_with(members), "nested.model");
    const bytepiece::tokenizer tok(m);
    const std::string text((std::size_t{1} << 20) + 3, 'a');  // one chunk: no newline
    const auto ids = tok.encode(text);
    CHECK(tok.decode(ids) == text);
    CHECK(ids.size() < 100);  // mostly a^65536
    CHECK(seconds_since(t0) < fast_seconds);
}

TEST_CASE("NUL bytes in pieces load, encode and save as \\u0000", "[hardening][model]") {
    const std::string nul_piece("a\0b", 3);
    const auto m = model::from_json(model_with(",\"" + key_of(nul_piece) + "\":[259,\"a\\u0000b\",100],\"" +
                                               key_of(std::string(2, '\0')) + "\":[260,\"\\u0000\\u0000\",50]"));
    CHECK(m.piece(259) == nul_piece);
    CHECK(m.piece(260) == std::string(2, '\0'));
    const bytepiece::tokenizer tok(m);
    const std::string text("za\0b\0\0z", 7);
    const auto ids = tok.encode(text);
    CHECK(ids == std::vector<std::uint32_t>{'z' + 3u, 259, 260, 'z' + 3u});
    CHECK(tok.decode(ids) == text);
    const std::string saved = m.to_json();
    CHECK(saved.find("\"a\\u0000b\"") != std::string::npos);
    CHECK(model::from_json(saved).to_json() == saved);
}

TEST_CASE("a truncated file that claims millions of pieces fails fast without reserving for them",
          "[hardening][model]") {
    // Ids in the hundreds of millions announce a huge vocabulary; the file stops after 20,000 entries.
    std::string json = "{";
    for (int i = 0; i < 20000; ++i) {
        if (i) json += ',';
        std::string piece = "p" + std::to_string(i);
        json += "\"" + key_of(piece) + "\": [" + std::to_string(500000000 - i) + ", \"" + piece + "\", " +
                std::to_string(4000000000ull + static_cast<unsigned>(i)) + "]";
    }
    json += ", \"QUJD\": [4980";  // cut in the middle of an entry
    const auto t0 = clock_type::now();
    std::size_t largest = 0, total = 0;
    {
        allocation_watch watch;
        const model_error e = load_error(json);
        largest = watch.largest();
        total = watch.total();
        CHECK(e.code() == errc::model_not_json);
        CHECK(std::string(e.what()).find("hostile.model") != std::string::npos);
    }
    INFO("file " << json.size() << " bytes, largest allocation " << largest << ", total " << total);
    CHECK(seconds_since(t0) < fast_seconds);
    // Linear in the file (a parsed entry takes a few times its text), never sized by the ids,
    // which would mean hundreds of megabytes.
    CHECK(largest <= 8 * json.size());
    CHECK(total <= 32 * json.size());
    // The same cut everywhere: a complete valid model truncated at many places.
    const std::string full = model_with(",\"QUI=\":[259,\"AB\",5]");
    for (std::size_t cut = 0; cut < full.size(); cut += 97) {
        const model_error e = load_error(full.substr(0, cut));
        CHECK(e.code() == errc::model_not_json);
    }
}

TEST_CASE("invalid UTF-8 in the display text is a JSON error, a lone surrogate too", "[hardening][model]") {
    // The reference reads the file as UTF-8 text and fails on such bytes as well.
    check_rejected(model_with(",\"QUI=\":[259,\"A\xff\",5]"), errc::model_not_json);
    check_rejected(model_with(",\"QUI=\":[259,\"\xc3\",5]"), errc::model_not_json);
    check_rejected(model_with(",\"QUI=\":[259,\"\xed\xa0\x80\",5]"), errc::model_not_json);
    check_rejected(model_with(",\"QUI=\":[259,\"\\udc80\",5]"), errc::model_not_json);
    // The display text is informational only: any valid text loads, and save rewrites it.
    const auto m = model::from_json(model_with(",\"QUI=\":[259,\"not AB at all \\u00e9\",5]"));
    CHECK(m.piece(259) == "AB");
    CHECK(m.to_json().find("\"AB\"") != std::string::npos);
}

TEST_CASE("a UTF-8 byte order mark before the JSON is skipped", "[hardening][model]") {
    const std::string json = model_with(",\"QUI=\":[259,\"AB\",5]");
    const auto with_bom = model::from_json("\xef\xbb\xbf" + json);
    CHECK(with_bom.to_json() == model::from_json(json).to_json());
    // Only at the very start, and only a whole BOM.
    check_rejected(" \xef\xbb\xbf" + json, errc::model_not_json);
    check_rejected("\xef\xbb" + json, errc::model_not_json);
    check_rejected("\xef\xbb\xbf\xef\xbb\xbf" + json, errc::model_not_json);
}

TEST_CASE("an empty or blank file is not JSON", "[hardening][model]") {
    check_rejected("", errc::model_not_json);
    check_rejected(" \n\t", errc::model_not_json);
    check_rejected(std::string(1, '\0'), errc::model_not_json);
    check_rejected("{}", errc::model_empty);
    const std::string path = test_support::scratch_path("hardening_empty.model");
    test_support::write(path, "");
    try {
        model::load(path);
        FAIL("an empty file loaded");
    } catch (const model_error& e) {
        CHECK(e.code() == errc::model_not_json);
        CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
    std::filesystem::remove(path);
}

TEST_CASE("a directory given as the model path is an io_error naming it", "[hardening][model]") {
    const std::string dir = test_support::scratch_path("hardening_dir.model");
    std::filesystem::create_directories(dir);
    try {
        model::load(dir);
        FAIL("a directory loaded as a model");
    } catch (const bytepiece::io_error& e) {
        CHECK((e.code() == errc::io_read || e.code() == errc::io_open));
        CHECK(std::string(e.what()).find(dir) != std::string::npos);
    }
    try {
        bytepiece::tokenizer::load(dir);
        FAIL("a directory loaded as a tokenizer");
    } catch (const bytepiece::io_error& e) {
        CHECK(std::string(e.what()).find(dir) != std::string::npos);
    }
    std::filesystem::remove(dir);
}

TEST_CASE("a huge key that is not base64 is rejected with a short message", "[hardening][model]") {
    check_rejected("{\"" + std::string(1 << 20, '!') + "\":[3,\"A\",1]}", errc::model_bad_base64, "...");
    check_rejected("{\"" + std::string((1 << 20) + 1, 'Q') + "\":[3,\"A\",1]}", errc::model_bad_base64);
    check_rejected(model_with(",\"" + std::string(1 << 20, 'Q') + "\":[3,\"A\",1]"), errc::model_duplicate_id);
}

// --- Inputs found by the fuzzers (fuzz/regressions/<target>/) --------------------------------
// Each is replayed by the fuzz_<target>_replay CTest test as well; here it is pinned to the
// behaviour that was fixed or decided.

TEST_CASE("binary model: a piece's offsets running past the piece bytes are rejected before its bytes are read",
          "[hardening][binary]") {
    // fuzz_binary_load: offsets increased and the last one was right, but one in the middle
    // jumped past the end of the bytes; the reader checked only the order and the last one, and
    // read the piece (a single byte) from beyond the image.
    std::string image = test_support::read(std::string(BYTEPIECE_SOURCE_DIR) + "/fuzz/regressions/binary_load/offsets_past_end.bpm");
    namespace bf = bytepiece::detail::binary_format;
    REQUIRE(image.size() >= bf::header_bytes);
    bf::store<std::uint64_t>(&image[8], bf::checksum(image));  // as the fuzz target does
    try {
        (void)bytepiece::tokenizer::from_binary(image, "found.bpm");
        FAIL("loaded");
    } catch (const model_error& e) {
        INFO(e.what());
        CHECK(e.code() == errc::model_binary_invalid);
        CHECK(std::string(e.what()).find("run past") != std::string::npos);
    }
}

// --- Findings for files this test does not own ------------------------------------------------

TEST_CASE("shape errors name the file once", "[hardening][model]") {
    // detail/model_json.hpp: model_sax::element() builds "source: ..." and hands it to fail(),
    // which prefixes the source again: "[bytepiece.model.2] m.json: m.json: key ...".
    for (const std::string json : {"[]", "{\"QQ==\":{}}", "{\"QQ==\":[3,\"A\",1,2]}", "{\"QQ==\":[\"3\",\"A\",1]}"}) {
        const model_error e = load_error(json, "m.json");
        const std::string what = e.what();
        INFO(what);
        CHECK(e.code() == errc::model_bad_shape);
        CHECK(what.find("m.json") != std::string::npos);
        CHECK(what.find("m.json: m.json") == std::string::npos);
    }
}
