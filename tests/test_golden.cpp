// SPDX-License-Identifier: Apache-2.0
// Compatibility with the reference implementation: its outputs on released models, as
// recorded in the shared golden files, must be reproduced exactly.
#include <bytepiece/bytepiece.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "test_support.hpp"

namespace {

const char* const models[] = {"bytepiece.plus.40k", "bytepiece.eu.plus.40k", "bytepiece.zh.id.eu.40k", "bytepiece.eu.plus.160k"};

const bytepiece::tokenizer& load(const std::string& name) {
    static std::map<std::string, std::unique_ptr<bytepiece::tokenizer>> cache;
    auto& slot = cache[name];
    if (!slot)
        slot = std::make_unique<bytepiece::tokenizer>(
            bytepiece::tokenizer::load(test_support::shared_path("models/" + name + ".model")));
    return *slot;
}

std::string b64(const std::string& s) {
    std::string out;
    REQUIRE(bytepiece::detail::base64_decode(s, out));
    return out;
}

}  // namespace

TEST_CASE("small.txt: every chunk's ids equal the reference's, for all four models", "[golden]") {
    if (!test_support::require_shared("corpus/small.txt")) return;
    const std::string text = test_support::read(test_support::shared_path("corpus/small.txt"));
    for (const std::string name : models) {
        if (!test_support::require_shared("golden/" + name + ".small.ids")) continue;
        const auto& tok = load(name);
        std::istringstream golden(test_support::read(test_support::shared_path("golden/" + name + ".small.ids")));
        std::size_t chunks = 0, matched = 0;
        std::vector<std::uint32_t> all;
        bytepiece::for_each_chunk(bytepiece::nfc(text), [&](std::string_view chunk) {
            std::string line;
            std::getline(golden, line);
            std::istringstream ls(line);
            std::vector<std::uint32_t> want;
            for (std::uint32_t v; ls >> v;) want.push_back(v);
            const auto got = tok.encode(chunk);
            ++chunks;
            if (got == want) ++matched;
            else UNSCOPED_INFO(name << " chunk " << chunks - 1 << " differs: " << std::string(chunk.substr(0, 80)));
            all.insert(all.end(), want.begin(), want.end());
        });
        INFO(name << ": " << matched << " of " << chunks << " chunks match");
        CHECK(chunks == 3535);
        CHECK(matched == chunks);
        CHECK((tok.encode(text) == all));  // the whole text at once gives the concatenation
    }
}

TEST_CASE("edge_cases.jsonl: ids and pieces equal the reference's for all 252 records", "[golden]") {
    if (!test_support::require_shared("golden/edge_cases.jsonl")) return;
    std::istringstream in(test_support::read(test_support::shared_path("golden/edge_cases.jsonl")));
    std::size_t records = 0, ok = 0;
    // Per model, every record's text and ids, to check encode_texts too: it scans the texts'
    // chunks together through the automaton, where one short text per call takes the walk.
    std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::vector<std::uint32_t>>>> by_model;
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        const auto rec = nlohmann::json::parse(line);
        const std::string name = rec["model"];
        if (!test_support::require_shared("models/" + name + ".model")) return;
        const auto& tok = load(name);
        const std::string text = b64(rec["text_b64"]);
        std::vector<std::uint32_t> want_ids = rec["ids"].get<std::vector<std::uint32_t>>();
        std::vector<std::string> want_pieces;
        for (const auto& p : rec["pieces_b64"]) want_pieces.push_back(b64(p.get<std::string>()));
        ++records;
        by_model[name].first.push_back(text);
        by_model[name].second.push_back(want_ids);
        const bool same = tok.encode(text) == want_ids && tok.tokenize(text) == want_pieces;
        if (same) ++ok;
        else UNSCOPED_INFO("record " << records << ": " << name << " / " << rec["case"].get<std::string>());
    }
    CHECK(records == 252);
    CHECK(ok == records);
    for (const auto& entry : by_model) {
        const std::string& name = entry.first;
        const auto& data = entry.second;  // a plain reference: lambdas cannot capture bindings in C++17
        const auto& tok = load(name);
        std::vector<std::string_view> views(data.first.begin(), data.first.end());
        std::size_t same = 0;
        tok.encode_texts(views.data(), views.size(), tok.options(), [&](std::size_t i, const std::uint32_t* ids, std::size_t n) {
            same += std::vector<std::uint32_t>(ids, ids + n) == data.second[i];
        });
        INFO(name);
        CHECK(same == views.size());
    }
}

TEST_CASE("decode(encode(x)) == NFC(x) for every line of every corpus file", "[golden][property]") {
    if (!test_support::require_shared("models/bytepiece.eu.plus.40k.model")) return;
    const auto& tok = load("bytepiece.eu.plus.40k");
    for (const char* file : {"small", "zh", "en", "code", "mixed"}) {
        const std::string rel = std::string("corpus/") + file + ".txt";
        if (!test_support::require_shared(rel)) continue;
        std::string text = test_support::read(test_support::shared_path(rel));
#if BYTEPIECE_SANITIZE
        // Sanitized builds run ~20x slower; a 2 MB prefix of each file keeps CI within budget
        // while the Release run covers every line.
        if (text.size() > (2u << 20)) text.resize(text.rfind('\n', 2u << 20) + 1);
#endif
        std::size_t lines = 0, ok = 0;
        std::vector<std::uint32_t> ids;
        for (std::size_t p = 0; p < text.size();) {
            std::size_t q = text.find('\n', p);
            q = q == std::string::npos ? text.size() : q + 1;
            const std::string_view line(text.data() + p, q - p);
            ids.clear();
            tok.encode(line, ids);
            ++lines;
            if (tok.decode(ids) == bytepiece::nfc(line)) ++ok;
            p = q;
        }
        INFO(file << ": " << ok << " of " << lines << " lines round-trip");
        CHECK(ok == lines);
    }
}
