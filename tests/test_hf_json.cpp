// SPDX-License-Identifier: Apache-2.0
// detail/hf_json.hpp against HF tokenizers' own reading of numbers: HF loads a tokenizer.json
// and saves it again, writing each f64 score as its shortest decimal (which a correctly
// rounding parser reads back exactly), so its saved scores are the doubles it read. Those must
// equal hf_json's reading of the original, bit for bit. Plus the reader's errors.
#include "hf_oracle.hpp"
#include "test_support.hpp"

#include "bytepiece/detail/hf_json.hpp"

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

namespace hf_json = bytepiece::detail::hf_json;

std::uint64_t bits(double x) {
    std::uint64_t b;
    std::memcpy(&b, &x, sizeof b);
    return b;
}

// Loads `in` with HF and saves it to `out` (kept in the build tree: later runs reuse it).
bool resave_with_hf(const std::string& in, const std::string& out) {
#if defined(BYTEPIECE_HF_ORACLE_DIR) && defined(BYTEPIECE_NODE)
    const std::string script = test_support::scratch_path("hf_json_resave.js");
    test_support::write(script,
                        "const { Tokenizer } = require(process.argv[2] + '/node_modules/tokenizers');\n"
                        "Tokenizer.fromFile(process.argv[3]).save(process.argv[4]);\n");
    const std::string command = test_support::quote(BYTEPIECE_NODE) + " " + test_support::quote(script) + " " +
                                test_support::quote(BYTEPIECE_HF_ORACLE_DIR) + " " + test_support::quote(in) + " " +
                                test_support::quote(out) + " 2>/dev/null";
    return std::system(command.c_str()) == 0;
#else
    (void)in, (void)out;
    return false;
#endif
}

// The vocab scores of a tokenizer.json as hf_json reads them.
std::vector<double> ours(const std::string& bytes, const std::string& source) {
    const nlohmann::json doc = hf_json::parse(bytes, source);
    const hf_json::cursor vocab = hf_json::cursor(doc, source).at("model").at("vocab");
    std::vector<double> s;
    for (std::size_t i = 0; i < vocab.size(); ++i) s.push_back(vocab[i][1].number());
    return s;
}

// The vocab scores as a correctly rounding parser reads them (nlohmann: strtod).
std::vector<double> correctly_rounded(const std::string& bytes) {
    const nlohmann::json doc = nlohmann::json::parse(bytes);
    std::vector<double> s;
    for (const auto& entry : doc.at("model").at("vocab")) s.push_back(entry[1].get<double>());
    return s;
}

struct comparison {
    std::size_t scores = 0, differ_from_hf = 0, hf_not_nearest = 0;
};

// hf_json's reading of `path` against HF's (its re-save read back exactly).
comparison compare(const std::string& path, const std::string& name) {
    const std::string saved = test_support::scratch_path("hf_json_resaved_" + name);
    REQUIRE(resave_with_hf(path, saved));
    const std::string original = test_support::read(path);
    const std::vector<double> mine = ours(original, path);
    const std::vector<double> hf = correctly_rounded(test_support::read(saved));
    const std::vector<double> nearest = correctly_rounded(original);
    REQUIRE(mine.size() == hf.size());
    comparison c;
    c.scores = mine.size();
    for (std::size_t i = 0; i < mine.size(); ++i) {
        if (bits(mine[i]) != bits(hf[i]) && ++c.differ_from_hf <= 5) {
            INFO("score " << i << ": ours " << mine[i] << ", HF's " << hf[i]);
            CHECK(bits(mine[i]) == bits(hf[i]));
        }
        if (bits(hf[i]) != bits(nearest[i])) ++c.hf_not_nearest;
    }
    return c;
}

std::string vocab_file(const std::vector<std::string>& literals) {
    std::string vocab;
    for (std::size_t i = 0; i < literals.size(); ++i)
        vocab += (i ? ",[\"t" : "[\"t") + std::to_string(i) + "\"," + literals[i] + "]";
    return "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],\"normalizer\":null,"
           "\"pre_tokenizer\":null,\"post_processor\":null,\"decoder\":null,"
           "\"model\":{\"type\":\"Unigram\",\"unk_id\":null,\"vocab\":[" +
           vocab + "],\"byte_fallback\":false}}";
}

}  // namespace

TEST_CASE("hf_json: the fixtures' scores read as HF reads them", "[hf][json]") {
    if (!hf_oracle::available()) return;
    struct fixture {
        const char* file;
        std::size_t scores, not_nearest;  // the fixtures' README figures
    };
    const fixture fixtures[] = {
        {"albert-30k-clean.from_spm.json", 30000, 7899},
        {"albert-30k-clean.transformers-albert.json", 30000, 7909},
        {"spm-u2k-nmt_nfkc.from_spm.json", 2000, 266},
        {"spm-u2k-identity.from_spm.json", 2000, 223},
        {"spm-u2k-bytefallback.from_spm.json", 2000, 190},
        {"bytepiece.eu.plus.40k.bytelevel.json", 39842, 0},
        {"bytepiece.zh.id.eu.40k.bytelevel.json", 39683, 0},
    };
    for (const auto& f : fixtures) {
        const std::string relative = std::string("models/hf/") + f.file;
        if (!test_support::require_shared(relative)) continue;
        INFO(f.file);
        const comparison c = compare(test_support::shared_path(relative), f.file);
        CHECK(c.scores == f.scores);
        CHECK(c.differ_from_hf == 0);
        CHECK(c.hf_not_nearest == f.not_nearest);
        WARN(f.file << ": " << c.scores << " scores, " << c.differ_from_hf << " differ from HF's, "
                    << c.hf_not_nearest << " of HF's not the nearest double");
    }
}

TEST_CASE("hf_json: serde_number on hard literals as HF reads them", "[hf][json]") {
    if (!hf_oracle::available()) return;
    std::vector<std::string> literals = {
        // Not "-0": HF reads it as -0.0 (serde_json turns a negative integer zero into a float),
        // hf_json's document holds the integer 0. No sum tells them apart (a record starts at
        // +0, and +0 + -0 is +0), so ids cannot differ.
        "0", "0.0", "-0.0", "1", "-1", "1.0", "1e0", "1E+2", "1e-2", "123456789012345678", "18446744073709551615",
        "18446744073709551616", "99999999999999999999", "123456789012345678901234567890", "-9223372036854775808",
        "-9223372036854775809", "-1000000000000000000000", "9007199254740993", "9007199254740993.0",
        "0.1", "0.2", "0.3", "2.2250738585072014e-308", "2.2250738585072011e-308", "4.9e-324", "5e-324", "2e-324",
        "1e-330", "123456789e-330", "1.7976931348623157e308", "1e308", "0.1e309",
        "10000000000000000000000e-10", "-9.58974838256836", "-13.532299041748047", "-10.000000000000002",
        "0.30000000000000004", "3.141592653589793238462643383279", "1.00000000000000011102230246251565404236316680908203125",
        "1.000000000000000111022302462515654042363166809082031250001", "0.000000000000000000000000000000000000001234",
        "1234567890123456789.5", "12345678901234567890.5", "123456789012345678901.5", "-1e-7", "1e21", "1e22", "1e23"};
    std::mt19937_64 rng(18);
    for (int i = 0; i < 3000; ++i) {
        std::string s = (rng() & 1) ? "-" : "";
        const int digits = 1 + static_cast<int>(rng() % 24);
        const int point = static_cast<int>(rng() % static_cast<std::uint64_t>(digits + 1));
        s += static_cast<char>('1' + rng() % 9);
        for (int d = 1; d < digits; ++d) {
            if (d == point) s += '.';
            s += static_cast<char>('0' + rng() % 10);
        }
        if (rng() % 3) s += "e" + std::to_string(static_cast<int>(rng() % 600) - 320);
        literals.push_back(s);
    }
    const std::string path = test_support::scratch_path("hf_json_literals.json");
    test_support::write(path, vocab_file(literals));
    const comparison c = compare(path, "literals.json");
    CHECK(c.scores == literals.size());
    CHECK(c.differ_from_hf == 0);
    // serde_json's reading is not correctly rounding: the literals must show it.
    CHECK(c.hf_not_nearest > 0);
    WARN(c.scores << " literals: " << c.differ_from_hf << " differ from HF's, " << c.hf_not_nearest
                  << " of HF's not the nearest double");
}

TEST_CASE("hf_json: numbers HF refuses are refused", "[hf][json]") {
    for (const char* literal : {"1e309", "-1e309", "2e308", "1.8e308", "1e99999999999"}) {
        INFO(literal);
        CHECK(!hf_json::serde_number(literal));
        CHECK_THROWS_AS(hf_json::parse(vocab_file({literal}), "t.json"), bytepiece::model_error);
        if (hf_oracle::available()) CHECK(!resave_with_hf(
            [&] {
                const std::string p = test_support::scratch_path("hf_json_refused.json");
                test_support::write(p, vocab_file({literal}));
                return p;
            }(),
            test_support::scratch_path("hf_json_refused.out.json")));
    }
    // Huge negative exponents are zero, not errors.
    CHECK(hf_json::serde_number("1e-99999999999") == 0.0);
    for (const char* bad : {"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "1.5x", "--1", "0x10", "NaN", "Infinity"}) {
        INFO(bad);
        CHECK(!hf_json::serde_number(bad));
    }
}

TEST_CASE("hf_json: parse errors name the file, line and column", "[hf][json]") {
    const auto message = [](const std::string& text) -> std::string {
        try {
            hf_json::parse(text, "tok.json");
        } catch (const bytepiece::model_error& e) {
            CHECK(e.code() == bytepiece::errc::model_hf_malformed);
            return e.what();
        }
        FAIL("no error for " << text);
        return {};
    };
    CHECK(message("").find("tok.json") != std::string::npos);
    CHECK(message("{\"a\":1,}").find("tok.json: line 1, column") != std::string::npos);
    CHECK(message("{\n\"a\":1,\n\"b\":[1,2,]}").find("tok.json: line 3, column") != std::string::npos);
    CHECK(message("{\"a\":1,\"a\":2}").find("\"a\" appears twice") != std::string::npos);
    CHECK(message("{\"a\":{\"b\":1,\"b\":1}}").find("appears twice") != std::string::npos);
    CHECK(message("{\"a\":1e400}").find("overflow") != std::string::npos);
    CHECK(message("{\"a\":\"\\ud800\"}").find("tok.json") != std::string::npos);
    CHECK(message("[1,2").find("tok.json") != std::string::npos);
    CHECK(message("{\"a\":1} x").find("tok.json") != std::string::npos);
    // The same key in two objects, and in an object inside an array, is fine.
    CHECK_NOTHROW(hf_json::parse("{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}", "tok.json"));

    // A cursor's errors name the key path.
    const std::string source = "tok.json";
    const nlohmann::json doc = hf_json::parse(R"({"model":{"vocab":[["a",0],["b","x"]]}})", source);
    const hf_json::cursor root(doc, source);
    try {
        (void)root.at("model").at("vocab")[1][1].number();
        FAIL("no error");
    } catch (const bytepiece::model_error& e) {
        CHECK(std::string(e.what()).find("tok.json: model.vocab[1][1]: should be a number, not a string") != std::string::npos);
    }
}
