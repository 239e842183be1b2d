// SPDX-License-Identifier: Apache-2.0
// bytepiece::hf_tokenizer (the whole tokenizer.json pipeline) against HF tokenizers 0.23.2:
// ids with and without special tokens, tokens and decoded text on every fixture and edge case;
// added-token options, post-processors and decoders on hand-written files; typed errors.
#include "hf_oracle.hpp"
#include "hf_test_texts.hpp"
#include "test_support.hpp"

#include "bytepiece/hf_tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace {

using bytepiece::hf_tokenizer;
using nlohmann::json;
using ids = std::vector<std::uint32_t>;

// Our ids of `texts`, or {} with `failed` set where the text throws.
std::vector<ids> encode_all(const hf_tokenizer& tok, const std::vector<std::string>& texts, bool special) {
    std::vector<ids> out;
    for (const auto& t : texts) out.push_back(tok.encode(t, special));
    return out;
}

// Compares ids of `texts` with HF's, with and without special tokens, one by one and through
// encode_texts; then tokens and decode (with and without skipping special tokens).
void check_against_oracle(const std::string& path, const std::vector<std::string>& texts) {
    const hf_tokenizer tok = hf_tokenizer::load(path);
    for (const bool special : {false, true}) {
        const auto expected = hf_oracle::encode(path, texts, special);
        const auto got = encode_all(tok, texts, special);
        std::vector<ids> batch(texts.size());
        std::vector<std::string_view> views(texts.begin(), texts.end());
        tok.encode_texts(
            views.data(), views.size(),
            [&](std::size_t i, const std::uint32_t* p, std::size_t n) { batch[i].assign(p, p + n); }, special);
        std::size_t same = 0;
        for (std::size_t i = 0; i < texts.size(); ++i) {
            INFO(path << " special=" << special << " text " << i << ": " << json(texts[i]).dump());
            CHECK(got[i] == expected[i]);
            CHECK(batch[i] == expected[i]);
            same += got[i] == expected[i];
        }
        CHECK(same == texts.size());
    }
    std::vector<json> requests;
    std::vector<ids> encoded;
    for (const auto& t : texts) {
        requests.push_back({{"tokens", t}});
        requests.push_back({{"tokens", t}, {"special", true}});
        encoded.push_back(tok.encode(t, true));
        requests.push_back({{"decode", encoded.back()}, {"skip", true}});
        requests.push_back({{"decode", encoded.back()}, {"skip", false}});
    }
    const auto answers = hf_test::oracle_requests(path, requests);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        INFO(path << " text " << i << ": " << json(texts[i]).dump());
        CHECK(json(tok.tokenize(texts[i])) == answers[4 * i]);
        CHECK(json(tok.tokenize(texts[i], true)) == answers[4 * i + 1]);
        CHECK(json(tok.decode(encoded[i], true)) == answers[4 * i + 2]);
        CHECK(json(tok.decode(encoded[i], false)) == answers[4 * i + 3]);
    }
}

// A tokenizer.json from a fixture's model with the other components replaced.
std::string write_variant(const std::string& name, const std::string& fixture, const json& changes) {
    json j = json::parse(test_support::read(test_support::shared_path("models/hf/" + fixture)));
    for (const auto& item : changes.items()) j[item.key()] = item.value();
    const std::string path = test_support::scratch_path("hf_tokenizer_" + name + ".json");
    test_support::write(path, j.dump());
    return path;
}

json added(const std::string& content, bool special, bool normalized, bool lstrip = false, bool rstrip = false,
           bool single_word = false, unsigned id = 0) {
    return {{"id", id},           {"content", content}, {"single_word", single_word}, {"lstrip", lstrip},
            {"rstrip", rstrip},   {"normalized", normalized}, {"special", special}};
}

json metaspace(const char* scheme = "always") {
    return {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", scheme}, {"split", true}};
}

const std::vector<std::string> added_texts = {
    "",
    "hello world",
    "Hello hello HELLO",
    "xhello hellox hello_ _hello hello1 h\xC3\xA9llo hello\xC3\xA9 hello! (hello)",
    "a [MASK] b  [MASK]c[MASK]   [MASK]",
    "<new>   x <new>\t\ty<new>",
    "\xE3\x80\x80[MASK]\xE3\x80\x80<new>\xE3\x80\x80",
    "</s></s> </s>x",
    "[MASK]<new>[MASK]<new>",
    "[MA[MASK]SK]",
    "hell hello helloo",
    "HeLLo, World! \xC4\xB0stanbul",
    "  spaces   around  ",
};

}  // namespace

TEST_CASE("hf_tokenizer: every fixture on the edge cases, as HF tokenizers") {
    if (!hf_oracle::available()) return;
    const auto texts = hf_test::edge_texts();
    REQUIRE(texts.size() > 100);
    for (const auto& f : hf_test::fixtures()) {
        if (!test_support::require_shared("models/hf/" + f)) return;
        check_against_oracle(test_support::shared_path("models/hf/" + f), texts);
    }
}

TEST_CASE("hf_tokenizer: the README's sample line") {
    if (!test_support::require_shared("models/hf/albert-30k-clean.transformers-albert.json")) return;
    const std::string sample =
        "Hello  world! The caf\xC3\xA9's price: \xE2\x82\xAC" "1,200 (approx.) <mask> \xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C"
        "\xE4\xB8\x96\xE7\x95\x8C\xE3\x80\x82\xF0\xA0\x80\x80\xF0\xA0\x80\x81";
    const auto tok = hf_tokenizer::load(test_support::shared_path("models/hf/albert-30k-clean.transformers-albert.json"));
    // The ids the fixtures' README lists (HF tokenizers 0.23.2).
    const ids plain = {10975, 126, 187, 14, 6241, 22, 18, 2162, 45, 13, 12, 137, 15, 4621,
                       13,    5,   13,  19896, 9, 6, 13, 1, 23265, 1, 13, 1, 15, 1};
    CHECK(tok.encode(sample) == plain);
    ids special = plain;
    special.insert(special.begin(), 2);
    special.push_back(3);
    CHECK(tok.encode(sample, true) == special);
    CHECK(tok.vocab_size() == 30000);
    CHECK(tok.token_to_id("[MASK]") == 4u);
    CHECK(tok.id_to_token(2) == "[CLS]");
}

TEST_CASE("hf_tokenizer: added tokens get HF's ids, not the file's") {
    if (!test_support::require_shared("models/hf/spm-u2k-nmt_nfkc.from_spm.json")) return;
    // Measured with HF (spec 3.1): "</s>" written as 1234 gets the vocab's 2; "<new>" written
    // as 5 gets 2000, the first id past the 2,000-piece vocab; later new tokens follow.
    const std::string path = write_variant("ids", "spm-u2k-nmt_nfkc.from_spm.json",
                                           {{"added_tokens", json::array({added("</s>", true, false, false, false, false, 1234),
                                                                          added("<new>", false, false, false, false, false, 5),
                                                                          added("<newer>", true, true, false, false, false, 7),
                                                                          added("</s>", false, false, false, false, false, 9)})}});
    const auto tok = hf_tokenizer::load(path);
    CHECK(tok.token_to_id("</s>") == 2u);
    CHECK(tok.token_to_id("<new>") == 2000u);
    CHECK(tok.token_to_id("<newer>") == 2001u);
    CHECK(tok.vocab_size() == 2002);
    CHECK(tok.id_to_token(2001) == "<newer>");
    if (!hf_oracle::available()) return;
    check_against_oracle(path, {"a</s>b <new> <newer>x", "</s>", "<new><newer></s>"});
}

TEST_CASE("hf_tokenizer: added-token options (single_word, lstrip, rstrip, normalized, special)") {
    if (!test_support::require_shared("models/hf/spm-u2k-identity.from_spm.json")) return;
    if (!hf_oracle::available()) return;
    const json lowercase = {{"type", "Lowercase"}};
    const std::vector<json> token_sets = {
        json::array({added("[MASK]", true, false, true, false), added("<new>", false, false, false, true),
                     added("hello", false, true, false, false, true), added("</s>", true, false)}),
        json::array({added("[MASK]", true, true, true, true), added("<new>", true, false, true, true, true),
                     added("HELLO", false, true), added("hell", false, false), added("llo", true, false, false, false, true)}),
        json::array({added("[MA", false, false), added("[MASK]", true, false), added("SK]", false, true, true, true),
                     added("\xE3\x80\x80", false, false, true, true)}),
    };
    int n = 0;
    for (const auto& tokens : token_sets) {
        for (const json& normalizer : {json(nullptr), lowercase}) {
            for (const char* scheme : {"always", "first", "never"}) {
                const std::string path = write_variant(
                    "options" + std::to_string(n++), "spm-u2k-identity.from_spm.json",
                    {{"added_tokens", tokens}, {"normalizer", normalizer}, {"pre_tokenizer", metaspace(scheme)}});
                check_against_oracle(path, added_texts);
            }
        }
    }
}

TEST_CASE("hf_tokenizer: post-processors") {
    if (!test_support::require_shared("models/hf/spm-u2k-bytefallback.from_spm.json")) return;
    if (!hf_oracle::available()) return;
    const json cls_a_sep = {
        {"type", "TemplateProcessing"},
        {"single", json::array({{{"SpecialToken", {{"id", "<cls>"}, {"type_id", 0}}}},
                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                                {{"SpecialToken", {{"id", "<sep>"}, {"type_id", 0}}}}})},
        {"pair", json::array({{{"Sequence", {{"id", "A"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}})},
        {"special_tokens", {{"<cls>", {{"id", "<cls>"}, {"ids", {3}}, {"tokens", {"<cls>"}}}},
                            {"<sep>", {{"id", "<sep>"}, {"ids", {7, 8}}, {"tokens", {"<sep>", "[CLS]"}}}}}}};
    json twice = cls_a_sep;
    twice["single"] = json::array({{{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                                   {{"SpecialToken", {{"id", "<sep>"}, {"type_id", 1}}}},
                                   {{"Sequence", {{"id", "A"}, {"type_id", 1}}}}});
    const json bert = {{"type", "BertProcessing"}, {"sep", {"<sep>", 7}}, {"cls", {"[CLS]", 9}}};
    const json roberta = {{"type", "RobertaProcessing"},
                          {"sep", {"</s>", 2}},
                          {"cls", {"<s>", 1}},
                          {"trim_offsets", true},
                          {"add_prefix_space", true}};
    const json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}};
    const std::vector<json> processors = {
        cls_a_sep, twice, bert, roberta, byte_level,
        {{"type", "Sequence"}, {"processors", json::array({byte_level, cls_a_sep})}},
        {{"type", "Sequence"}, {"processors", json::array({cls_a_sep, bert})}},
        {{"type", "Sequence"}, {"processors", json::array({roberta, bert})}},
    };
    int n = 0;
    for (const auto& p : processors) {
        INFO(p.dump());
        const std::string path = write_variant("post" + std::to_string(n++), "spm-u2k-bytefallback.from_spm.json",
                                               {{"post_processor", p}, {"added_tokens", json::array({added("<sep>", true, false)})}});
        check_against_oracle(path, {"", "a b", "<sep> x <sep>", "\xF0\xA0\x80\x80"});
    }
}

TEST_CASE("hf_tokenizer: decoders") {
    if (!test_support::require_shared("models/hf/spm-u2k-bytefallback.from_spm.json")) return;
    if (!hf_oracle::available()) return;
    const json replace = {{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}};
    const json replace_regex = {{"type", "Replace"}, {"pattern", {{"Regex", "[a-c]+"}}}, {"content", "<\xE2\x96\x81>"}};
    const json strip = {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}};
    const json strip2 = {{"type", "Strip"}, {"content", "e"}, {"start", 2}, {"stop", 0}};
    const json fallback = {{"type", "ByteFallback"}};
    const json fuse = {{"type", "Fuse"}};
    const json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
    const json meta_never = {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "never"}, {"split", true}};
    const std::vector<json> decoders = {
        nullptr,
        {{"type", "Sequence"}, {"decoders", json::array({replace, fallback, fuse, strip})}},
        {{"type", "Sequence"}, {"decoders", json::array({fallback, replace_regex, strip2})}},
        {{"type", "Sequence"}, {"decoders", json::array({fallback, metaspace()})}},
        meta_never, fallback, byte_level, fuse, replace,
    };
    int n = 0;
    for (const auto& d : decoders) {
        INFO(d.dump());
        const std::string path = write_variant("decoder" + std::to_string(n++), "spm-u2k-bytefallback.from_spm.json",
                                               {{"decoder", d}, {"added_tokens", json::array({added("<sep>", true, false)})}});
        check_against_oracle(path, {"", "a b", "  two  spaces ", "<sep> x <sep>", "\xF0\xA0\x80\x80 e\xCC\x81", "eee abc",
                                    "<0x41><0xE4><0xB8> <0xZZ>", "\xC4\xA0\xC4\x8A"});
    }
}

TEST_CASE("hf_tokenizer: decode of ids HF's encode never gives") {
    if (!test_support::require_shared("models/hf/bytepiece.eu.plus.40k.bytelevel.json")) return;
    if (!hf_oracle::available()) return;
    const std::string path = test_support::shared_path("models/hf/bytepiece.eu.plus.40k.bytelevel.json");
    const auto tok = hf_tokenizer::load(path);
    // Single bytes b have id 3 + b: lone continuation bytes, cut sequences, invalid leads.
    const std::vector<ids> lists = {{3 + 0x80},           {3 + 0xE4, 3 + 0xB8},  {3 + 0xF0, 3 + 0x90, 3 + 0x41},
                                    {3 + 0xC0, 3 + 0xAF}, {3 + 0xED, 3 + 0xA0, 3 + 0x80}, {3 + 0xFF, 0, 1, 2, 3 + 0xF4, 3 + 0x90}};
    std::vector<json> requests;
    for (const auto& l : lists) requests.push_back({{"decode", l}, {"skip", false}});
    const auto answers = hf_test::oracle_requests(path, requests);
    for (std::size_t i = 0; i < lists.size(); ++i) CHECK(json(tok.decode(lists[i], false)) == answers[i]);
    CHECK_THROWS_AS(tok.decode({static_cast<std::uint32_t>(tok.vocab_size())}), bytepiece::decode_error);
}

TEST_CASE("hf_tokenizer: typed errors for malformed files and unsupported components") {
    if (!test_support::require_shared("models/hf/spm-u2k-identity.from_spm.json")) return;
    const json base = json::parse(test_support::read(test_support::shared_path("models/hf/spm-u2k-identity.from_spm.json")));
    const auto code_of = [](const std::string& text) -> int {
        try {
            (void)hf_tokenizer::from_json(text, "t.json");
        } catch (const bytepiece::error& e) {
            return static_cast<int>(e.code());
        }
        return 0;
    };
    const auto with = [&](const std::string& key, const json& value) {
        json j = base;
        if (value.is_discarded())
            j.erase(key);
        else
            j[key] = value;
        return j.dump();
    };
    using bytepiece::errc;
    const int malformed = static_cast<int>(errc::model_hf_malformed);
    const int unsupported = static_cast<int>(errc::model_hf_unsupported);
    const int invalid = static_cast<int>(errc::model_hf_invalid);
    CHECK(code_of(base.dump()) == 0);
    CHECK(code_of("") == malformed);
    CHECK(code_of("{") == malformed);
    CHECK(code_of("[]") == malformed);
    CHECK(code_of("{\"model\":{\"type\":\"Unigram\",\"vocab\":[]},\"model\":1}") == malformed);
    CHECK(code_of(with("version", "2.0")) == invalid);
    CHECK(code_of(with("model", json::value_t::discarded)) == malformed);
    CHECK(code_of(with("truncation", {{"max_length", 512}})) == unsupported);
    CHECK(code_of(with("padding", {{"strategy", "BatchLongest"}})) == unsupported);
    CHECK(code_of(with("model", {{"type", "BPE"}, {"vocab", json::object()}, {"merges", json::array()}})) ==
          static_cast<int>(errc::model_not_unigram));
    // An unknown type: HF refuses it (invalid) and this library does not implement it (unsupported).
    CHECK((code_of(with("normalizer", {{"type", "NoSuchNormalizer"}})) == unsupported ||
           code_of(with("normalizer", {{"type", "NoSuchNormalizer"}})) == invalid));
    CHECK(code_of(with("pre_tokenizer", {{"type", "NoSuchPreTokenizer"}})) == unsupported);
    CHECK(code_of(with("decoder", {{"type", "CTC"}, {"pad_token", "<pad>"}, {"word_delimiter_token", "|"}, {"cleanup", true}})) ==
          unsupported);
    CHECK(code_of(with("decoder", {{"type", "Fuse"}, {"surprise", 1}})) == unsupported);
    CHECK(code_of(with("decoder", {{"type", "Strip"}, {"content", "ab"}, {"start", 1}, {"stop", 0}})) == malformed);
    CHECK(code_of(with("decoder", {{"type", "Metaspace"}, {"replacement", "_"}, {"add_prefix_space", false}})) == invalid);
    CHECK(code_of(with("post_processor", {{"type", "Nothing"}})) == unsupported);
    CHECK(code_of(with("post_processor", {{"type", "BertProcessing"}, {"sep", {"[SEP]", -1}}, {"cls", {"[CLS]", 1}}})) ==
          malformed);
    CHECK(code_of(with("post_processor",
                       {{"type", "TemplateProcessing"},
                        {"single", json::array({{{"SpecialToken", {{"id", "[X]"}, {"type_id", 0}}}}})},
                        {"pair", json::array()},
                        {"special_tokens", json::object()}})) == invalid);
    CHECK(code_of(with("added_tokens", json::array({{{"id", 0}, {"content", "x"}}}))) == malformed);
    CHECK(code_of(with("added_tokens", json::array({added("x", true, false), added("y", true, false, false, false, false, 1)}))) ==
          0);
    CHECK(code_of(with("added_tokens", {{"x", 1}})) == malformed);
    // The message names the file and the key path.
    try {
        (void)hf_tokenizer::from_json(with("decoder", {{"type", "Sequence"}, {"decoders", json::array({{{"type", "CTC"}}})}}),
                                      "tok.json");
        FAIL("no error");
    } catch (const bytepiece::model_error& e) {
        CHECK(std::string(e.what()).find("tok.json: decoder.decoders[0].type") != std::string::npos);
    }
    // Text that is not UTF-8, and a needed unknown with unk_id null.
    const auto tok = hf_tokenizer::from_json(base.dump());
    CHECK_THROWS_AS(tok.encode("a\xFF"), bytepiece::argument_error);
    json no_unk = base;
    no_unk["model"]["unk_id"] = nullptr;
    const auto strict = hf_tokenizer::from_json(no_unk.dump());
    try {
        (void)strict.encode("\xF0\xA0\x80\x80");
        FAIL("no error");
    } catch (const bytepiece::argument_error& e) {
        CHECK(e.code() == errc::encode_no_unknown);
    }
    CHECK_THROWS_AS(hf_tokenizer::load(test_support::scratch_path("no_such_tokenizer.json")), bytepiece::io_error);
}

TEST_CASE("hf_tokenizer: encode_texts callbacks may call the tokenizer again") {
    if (!test_support::require_shared("models/hf/albert-30k-clean.transformers-albert.json")) return;
    const auto tok = hf_tokenizer::load(test_support::shared_path("models/hf/albert-30k-clean.transformers-albert.json"));
    std::vector<std::string> texts;
    for (int i = 0; i < 3000; ++i) texts.push_back("line " + std::to_string(i) + " (with [MASK] and \xE2\x82\xAC" "5)");
    std::vector<std::string_view> views(texts.begin(), texts.end());
    std::size_t calls = 0;
    tok.encode_texts(
        views.data(), views.size(),
        [&](std::size_t i, const std::uint32_t* p, std::size_t n) {
            CHECK(i == calls++);
            CHECK(ids(p, p + n) == tok.encode(texts[i], true));
        },
        true);
    CHECK(calls == texts.size());
}
