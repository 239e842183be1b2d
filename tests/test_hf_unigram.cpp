// SPDX-License-Identifier: Apache-2.0
// The Unigram model of tokenizer.json (detail/hf_unigram.hpp) against HF tokenizers 0.23.2:
// tokenizer.json files with only a model (no normalizer, pre-tokenizer, decoder), so that each
// text reaches the model as one pre-token, compared id for id with the oracle.
#include "hf_oracle.hpp"
#include "test_support.hpp"

#include "bytepiece/detail/hf_unigram.hpp"
#include "bytepiece/detail/utf8.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using bytepiece::detail::hf_unigram;
namespace hf_json = bytepiece::detail::hf_json;
using ids = std::vector<std::uint32_t>;

// A tokenizer.json around `model` (its JSON text, kept verbatim so that scores are read from
// the same digits), written into the build tree.
std::string write_model_only(const std::string& name, const std::string& model) {
    const std::string path = test_support::scratch_path("hf_unigram_" + name + ".json");
    test_support::write(path, "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],"
                              "\"normalizer\":null,\"pre_tokenizer\":null,\"post_processor\":null,\"decoder\":null,"
                              "\"model\":" + model + "}");
    return path;
}

// The "model" object of a fixture, as its text (the files end with it).
std::string fixture_model(const std::string& file) {
    const std::string json = test_support::read(test_support::shared_path("models/hf/" + file));
    const std::size_t at = json.rfind(",\"model\":{");
    REQUIRE(at != std::string::npos);
    REQUIRE(json.back() == '}');
    return json.substr(at + 9, json.size() - 1 - (at + 9));
}

struct loaded {
    std::string source;
    nlohmann::json doc;
    std::unique_ptr<hf_unigram<std::uint32_t>> model;
};

std::unique_ptr<loaded> load(const std::string& path) {
    auto l = std::make_unique<loaded>();
    l->source = path;
    l->doc = hf_json::parse(test_support::read(path), l->source);
    l->model = std::make_unique<hf_unigram<std::uint32_t>>(hf_json::cursor(l->doc, l->source).at("model"));
    return l;
}

ids encode_one(const hf_unigram<std::uint32_t>& m, const std::string& text) {
    ids out;
    const std::uint32_t end = static_cast<std::uint32_t>(text.size());
    m.encode(text, &end, 1, [&](std::string_view, std::uint32_t id) { out.push_back(id); });
    return out;
}

// All texts as the pre-tokens of one call (windows of many): each must give what it gives alone.
std::vector<ids> encode_all(const hf_unigram<std::uint32_t>& m, const std::vector<std::string>& texts) {
    std::string joined;
    std::vector<std::uint32_t> ends;
    for (const auto& t : texts) {
        joined += t;
        ends.push_back(static_cast<std::uint32_t>(joined.size()));
    }
    ids all;
    m.encode(joined, ends.data(), ends.size(), [&](std::string_view, std::uint32_t id) { all.push_back(id); });
    std::vector<ids> each;
    std::size_t k = 0;
    for (const auto& t : texts) {
        each.push_back(encode_one(m, t));
        for (std::uint32_t id : each.back()) {
            REQUIRE(k < all.size());
            REQUIRE(all[k++] == id);
        }
    }
    REQUIRE(k == all.size());
    return each;
}

// Compares our ids of `texts` with HF's; returns the number of texts compared.
std::size_t compare_with_hf(const std::string& path, const std::vector<std::string>& texts) {
    const auto l = load(path);
    const std::vector<ids> ours = encode_all(*l->model, texts);
    const std::vector<ids> theirs = hf_oracle::encode(path, texts, false);
    REQUIRE(theirs.size() == texts.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        if (ours[i] == theirs[i]) continue;
        if (++differ <= 5) {
            INFO("text " << i << ": " << nlohmann::json(texts[i]).dump());
            CHECK(ours[i] == theirs[i]);
        }
    }
    CHECK(differ == 0);
    return texts.size();
}

// Every `stride`-th valid line of a corpus file, spaces as '▁' (what Metaspace would give).
std::vector<std::string> corpus_lines(const std::string& file, std::size_t count) {
    std::ifstream in(test_support::shared_path("corpus/" + file), std::ios::binary);
    std::vector<std::string> all;
    for (std::string line; std::getline(in, line);) all.push_back(line);
    const std::size_t stride = std::max<std::size_t>(1, all.size() / count);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < all.size(); i += stride) {
        if (!bytepiece::detail::utf8::is_valid(all[i])) continue;
        std::string t = "\xE2\x96\x81";
        for (char c : all[i]) {
            if (c == ' ')
                t += "\xE2\x96\x81";
            else
                t += c;
        }
        out.push_back(std::move(t));
    }
    return out;
}

std::vector<std::string> corpus_sample(std::size_t per_file) {
    std::vector<std::string> texts;
    for (const char* f : {"en.txt", "zh.txt", "code.txt", "mixed.txt", "small.txt"}) {
        auto lines = corpus_lines(f, per_file);
        texts.insert(texts.end(), lines.begin(), lines.end());
    }
    return texts;
}

// Texts about unknowns, the unknown token's own string, NUL and byte tokens.
std::vector<std::string> edge_texts() {
    using namespace std::string_literals;
    return {""s,
            "a"s,
            "\xE2\x96\x81"s,
            "<unk>"s,
            "\xE2\x96\x81<unk>"s,
            "a<unk>b"s,
            "<unk><unk>"s,
            "<unk>\xE2\x98\x83"s,
            "\xE2\x98\x83<unk>\xE2\x98\x83"s,
            "\xE2\x98\x83"s,
            "\xE2\x98\x83\xE2\x98\x83\xE2\x98\x83"s,
            "x\xE2\x98\x83y\xF0\x9F\x98\x80z"s,
            "\xF0\x9F\x98\x80\xF0\x9F\x98\x81"s,
            "\xF0\xA0\x80\x80\xF0\xA0\x80\x81"s,
            "\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C"s,
            "a\0b"s,
            "\0"s,
            "\0\0\xE2\x98\x83\0"s,
            "<0x41>"s,
            "<0x41><0xE2>"s,
            "[CLS]\xE2\x96\x81hello[SEP]"s,
            "<pad><s></s>[MASK]"s,
            "\xE2\x96\x81\xE2\x96\x81\xE2\x96\x81"s,
            "\t\n\r"s,
            "\xC3\xA9\xC3\xA8\xC3\xAA\xCC\x81"s,
            "\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB"s,
            "\xD8\xA7\xD9\x84\xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A\xD8\xA9"s,
            "\xF4\x8F\xBF\xBF\xEF\xBF\xBD"s};
}

std::vector<std::string> all_texts() {
    std::vector<std::string> texts = edge_texts();
    const auto corpus = corpus_sample(600);
    texts.insert(texts.end(), corpus.begin(), corpus.end());
    return texts;
}

}  // namespace

TEST_CASE("hf_unigram: ALBERT's vocab gives HF's ids", "[hf][unigram]") {
    if (!test_support::require_shared("models/hf/albert-30k-clean.from_spm.json") || !hf_oracle::available()) return;
    const std::string path = write_model_only("albert", fixture_model("albert-30k-clean.from_spm.json"));
    const std::size_t n = compare_with_hf(path, all_texts());
    WARN("albert-30k-clean.from_spm model: " << n << " texts compared with HF");
}

TEST_CASE("hf_unigram: a byte-fallback vocab gives HF's ids", "[hf][unigram]") {
    if (!test_support::require_shared("models/hf/spm-u2k-bytefallback.from_spm.json") || !hf_oracle::available()) return;
    const std::string path = write_model_only("bytefallback", fixture_model("spm-u2k-bytefallback.from_spm.json"));
    const std::size_t n = compare_with_hf(path, all_texts());
    WARN("spm-u2k-bytefallback.from_spm model: " << n << " texts compared with HF");
}

TEST_CASE("hf_unigram: a small vocab with unknowns everywhere gives HF's ids", "[hf][unigram]") {
    if (!test_support::require_shared("models/hf/spm-u2k-identity.from_spm.json") || !hf_oracle::available()) return;
    const std::string path = write_model_only("identity", fixture_model("spm-u2k-identity.from_spm.json"));
    compare_with_hf(path, all_texts());
}

namespace {

// GPT-2's byte alphabet: the text a ByteLevel pre-tokenizer hands the model.
std::string byte_level(const std::string& s) {
    std::string out;
    for (const char ch : s) {
        const auto b = static_cast<unsigned char>(ch);
        char32_t cp = b;
        if (!((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE)) {
            // The other bytes in order, from U+0100.
            unsigned k = 0;
            for (unsigned x = 0; x < b; ++x)
                if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE)) ++k;
            cp = 0x100 + k;
        }
        bytepiece::detail::utf8::append(cp, out);
    }
    return out;
}

}  // namespace

TEST_CASE("hf_unigram: a byte-level vocab without unk_id gives HF's ids", "[hf][unigram]") {
    if (!test_support::require_shared("models/hf/bytepiece.eu.plus.40k.bytelevel.json") || !hf_oracle::available()) return;
    const std::string path = write_model_only("bytelevel", fixture_model("bytepiece.eu.plus.40k.bytelevel.json"));
    std::vector<std::string> texts;
    for (const auto& t : corpus_sample(300)) texts.push_back(byte_level(t));
    for (const auto& t : edge_texts()) texts.push_back(byte_level(t));
    compare_with_hf(path, texts);
    // A character outside the byte alphabet: HF fails, and so does this.
    const auto l = load(path);
    REQUIRE_THROWS_AS(encode_one(*l->model, "a b"), bytepiece::argument_error);
    CHECK_THROWS(hf_oracle::encode(path, {"a b"}, false));
}

namespace {

std::string vocab_model(const std::string& vocab, const std::string& unk_id, bool byte_fallback = false) {
    return std::string("{\"type\":\"Unigram\",\"unk_id\":") + unk_id + ",\"vocab\":" + vocab +
           ",\"byte_fallback\":" + (byte_fallback ? "true" : "false") + "}";
}

}  // namespace

TEST_CASE("hf_unigram: ties, duplicates, NUL and the unknown candidate as HF decides them", "[hf][unigram]") {
    if (!hf_oracle::available()) return;
    struct hand {
        const char* name;
        std::string vocab;
        std::string unk_id;
        bool byte_fallback;
        std::vector<std::string> texts;
    };
    using namespace std::string_literals;
    const std::vector<hand> cases = {
        // Every split of "abc" scores -3: the earliest start wins each tie.
        {"ties", R"([["<unk>",0],["a",-1],["b",-1],["c",-1],["ab",-2],["bc",-2],["abc",-3]])", "0", false,
         {"abc", "abcabc", "cab", "bca", "abcx", "xabc", "ab\xE2\x98\x83" "bc"}},
        // A tie between a path through an unknown and one without: "xy" (after the unknown) starts first.
        {"unknown_tie", R"([["<unk>",-20],["x",-5],["y",-1],["xy",9],["\u2603x",-30]])", "0", false,
         {"\xE2\x98\x83xy", "\xE2\x98\x83x", "\xE2\x98\x83\xE2\x98\x83xy"}},
        // The unknown candidate ties a piece ending at the same place: the piece stays.
        {"unknown_loses_tie", R"([["<unk>",-20],["a",10],["a\u2603",-20]])", "0", false,
         {"a\xE2\x98\x83", "aa\xE2\x98\x83", "\xE2\x98\x83" "a\xE2\x98\x83"}},
        {"unknown_wins", R"([["<unk>",-20],["a",10.5],["a\u2603",-20]])", "0", false, {"a\xE2\x98\x83", "\xE2\x98\x83\xE2\x98\x83"}},
        // A string listed twice: the later id and its score.
        {"duplicates", R"([["<unk>",0],["a",-1],["b",-1],["a",-5],["ab",-4],["b",-1.5]])", "0", false,
         {"ab", "a", "b", "ba", "aab"}},
        // NUL is an ordinary byte.
        {"nul", R"([["<unk>",0],["\u0000",-2],["a\u0000b",-1],["a",-1],["b",-1]])", "0", false,
         {"a\0b"s, "\0"s, "a\0\0b"s, "\0a\0b\0"s}},
        // A fused run that is itself a vocab string; and unknown runs around the literal <unk>.
        {"fused_lookup", R"([["<unk>",50],["x",31],["\u2603\u2603",30],["q",40]])", "0", false,
         {"\xE2\x98\x83\xE2\x98\x83", "\xE2\x98\x83\xE2\x98\x83\xE2\x98\x83", "<unk>", "x<unk>x", "\xE2\x98\x83<unk>"}},
        // Byte fallback: all bytes exist, or one is missing (then unk_id).
        {"fallback", R"([["<unk>",0],["<0xE2>",-1],["<0x98>",-1],["<0x83>",-1],["a",-1],["<0x61>",-1]])", "0", true,
         {"\xE2\x98\x83", "a\xE2\x98\x83" "a", "\xF0\x9F\x98\x80", "<unk>", "\xE2\x98\x83<unk>"}},
        // unk_id not 0, and a string with the unknown token's text listed twice.
        {"unk_later", R"([["a",-1],["<unk>",0],["b",-2],["<unk>",-3]])", "1", false,
         {"a<unk>b", "<unk>", "z<unk>", "zz"}},
        // Positive scores: the unknown score is still min - 10.
        {"positive", R"([["<unk>",5],["a",7],["b",6],["ab",12.5]])", "0", false, {"ab", "abz", "zab", "zz"}},
    };
    std::size_t texts = 0;
    for (const auto& c : cases) {
        INFO("case " << c.name);
        const std::string path = write_model_only(std::string("hand_") + c.name, vocab_model(c.vocab, c.unk_id, c.byte_fallback));
        texts += compare_with_hf(path, c.texts);
    }
    WARN("hand-made vocabs: " << texts << " texts compared with HF");
}

TEST_CASE("hf_unigram: unk_id null fails where HF fails", "[hf][unigram]") {
    if (!hf_oracle::available()) return;
    const std::string vocab = R"([["a",10],["b",-1],["a\u2603",-20],["\u2603\u2603",-3]])";
    const std::string path = write_model_only("no_unk", vocab_model(vocab, "null"));
    const auto l = load(path);
    // min -20, unknown -30. "a☃": the unknown ties "a☃" and is not taken. "b☃": taken. "☃☃":
    // the unknown is taken at the first ☃ (nothing else ends there), though "☃☃" wins.
    compare_with_hf(path, {"a\xE2\x98\x83", "ab", "", "aa\xE2\x98\x83"});
    for (const std::string t : {"b\xE2\x98\x83", "\xE2\x98\x83\xE2\x98\x83", "z", "a\xE2\x98\x83z"}) {
        INFO(t);
        REQUIRE_THROWS_AS(encode_one(*l->model, t), bytepiece::argument_error);
        try {
            encode_one(*l->model, t);
        } catch (const bytepiece::argument_error& e) {
            CHECK(e.code() == bytepiece::errc::encode_no_unknown);
        }
        CHECK_THROWS(hf_oracle::encode(path, {t}, false));
    }
}

TEST_CASE("hf_unigram: pre-tokens in windows, empty ones included", "[hf][unigram]") {
    if (!test_support::require_shared("models/hf/albert-30k-clean.from_spm.json")) return;
    const std::string path = write_model_only("albert", fixture_model("albert-30k-clean.from_spm.json"));
    const auto l = load(path);
    // Many texts (several windows), with empty pre-tokens between them.
    std::vector<std::string> texts;
    for (const auto& t : corpus_sample(400)) {
        texts.push_back(t);
        texts.emplace_back();
    }
    encode_all(*l->model, texts);
    // Ends that decrease are refused.
    const std::string text = "abc";
    const std::uint32_t bad[] = {2, 1, 3};
    CHECK_THROWS_AS(l->model->encode(text, bad, 3, [](std::string_view, std::uint32_t) {}), bytepiece::argument_error);
    CHECK(l->model->vocab_size() == 30000);
    CHECK(l->model->unk_id() == std::optional<std::uint32_t>(1));
    CHECK(l->model->token_to_id("<unk>") == std::optional<std::uint32_t>(1));
    CHECK(l->model->id_to_token(1) == "<unk>");
    CHECK_THROWS_AS(l->model->id_to_token(30000), bytepiece::decode_error);
    CHECK(!l->model->byte_fallback());
}

TEST_CASE("hf_unigram: models HF refuses or this library does not read", "[hf][unigram]") {
    const auto code_of = [](const std::string& model) {
        const std::string source = "t.json";
        const nlohmann::json doc = hf_json::parse(model, source);
        try {
            hf_unigram<std::uint32_t> m(hf_json::cursor(doc, source));
        } catch (const bytepiece::model_error& e) {
            return e.code();
        }
        return bytepiece::errc{};
    };
    using bytepiece::errc;
    CHECK(code_of(R"({"type":"BPE","vocab":{},"merges":[]})") == errc::model_not_unigram);
    CHECK(code_of(R"({"type":"WordPiece","vocab":{}})") == errc::model_not_unigram);
    CHECK(code_of(R"({"type":"WordLevel","vocab":{}})") == errc::model_not_unigram);
    CHECK(code_of(R"({"vocab":{"a":0}})") == errc::model_not_unigram);
    CHECK(code_of(R"({"type":"Unigram","unk_id":2,"vocab":[["a",0],["b",0]]})") == errc::model_hf_invalid);
    CHECK(code_of(R"({"type":"Unigram","unk_id":0,"vocab":[]})") == errc::model_hf_invalid);
    CHECK(code_of(R"({"type":"Unigram","unk_id":-1,"vocab":[["a",0]]})") == errc::model_hf_malformed);
    CHECK(code_of(R"({"type":"Unigram","unk_id":0})") == errc::model_hf_malformed);
    CHECK(code_of(R"({"type":"Unigram","vocab":[["a"]]})") == errc::model_hf_malformed);
    CHECK(code_of(R"({"type":"Unigram","vocab":[["a",0,1]]})") == errc::model_hf_malformed);
    CHECK(code_of(R"({"type":"Unigram","vocab":[[1,0]]})") == errc::model_hf_malformed);
    CHECK(code_of(R"({"type":"Unigram","vocab":[["a","0"]]})") == errc::model_hf_malformed);
    CHECK(code_of(R"({"type":"Unigram","vocab":[["a",0]],"byte_fallback":null})") == errc::model_hf_malformed);
    CHECK(code_of(R"({"type":"Unigram","vocab":[["a",1e300]]})") == errc::model_hf_unsupported);
    CHECK(code_of(R"({"type":"Nope","vocab":[]})") == errc::model_hf_malformed);
    // Accepted as HF accepts them: no type (a list vocab), unknown keys, an empty vocab.
    CHECK(code_of(R"({"vocab":[["a",0]]})") == errc{});
    CHECK(code_of(R"({"type":"Unigram","vocab":[["a",0]],"other":1})") == errc{});
    CHECK(code_of(R"({"type":"Unigram","vocab":[]})") == errc{});
    // The message names the file and the key path.
    try {
        const std::string source = "t.json";
        const nlohmann::json doc = hf_json::parse(R"({"model":{"type":"Unigram","unk_id":5,"vocab":[["a",0]]}})", source);
        hf_unigram<std::uint32_t> m(hf_json::cursor(doc, source).at("model"));
        FAIL("no error");
    } catch (const bytepiece::model_error& e) {
        CHECK(std::string(e.what()).find("t.json: model.unk_id") != std::string::npos);
    }
}
