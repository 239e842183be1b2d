// SPDX-License-Identifier: Apache-2.0
// Test support for the SentencePiece front end: a small builder of `precompiled_charsmap`
// blobs in darts-clone's double-array layout (spec sentencepiece-and-hf.md section 2.1), a
// slow reference of SentencePiece's normalizer written straight from the spec, and a helper
// that assembles a sentencepiece_model by hand. Used by the tests and the normalizer fuzzer.
#pragma once

#include <bytepiece/detail/charsmap.hpp>
#include <bytepiece/detail/utf8.hpp>
#include <bytepiece/sentencepiece_model.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sp_test {

/// A charsmap blob holding `rules` (key -> replacement). Keys must be non-empty and free of
/// NUL; replacements must be free of NUL. States are placed first-fit: no attempt at
/// compactness, only at a layout the walk reads exactly like darts-clone's.
inline std::string build_charsmap(const std::map<std::string, std::string>& rules) {
    struct node {
        std::map<unsigned char, std::size_t> children;
        bool terminal = false;
        std::uint32_t value = 0;
        std::size_t state = 0;
    };
    std::vector<node> nodes(1);
    std::string repl;
    std::map<std::string, std::uint32_t> repl_at;
    for (const auto& [key, r] : rules) {
        if (key.empty() || key.find('\0') != std::string::npos || r.find('\0') != std::string::npos)
            throw std::invalid_argument("build_charsmap: empty key or NUL");
        std::size_t n = 0;
        for (unsigned char c : key) {
            auto it = nodes[n].children.find(c);
            if (it == nodes[n].children.end()) {
                nodes.emplace_back();
                it = nodes[n].children.emplace(c, nodes.size() - 1).first;
            }
            n = it->second;
        }
        auto [it, fresh] = repl_at.emplace(r, static_cast<std::uint32_t>(repl.size()));
        if (fresh) {
            repl += r;
            repl.push_back('\0');
        }
        nodes[n].terminal = true;
        nodes[n].value = it->second;
    }
    // A free unit gets bit 31, so that its label matches no byte (as darts-clone arranges).
    std::vector<std::uint32_t> units(1, 0);
    std::vector<bool> used(1, true);
    std::set<std::size_t> states;
    auto ensure = [&](std::size_t size) {
        if (units.size() < size) {
            units.resize(size, 0x80000000u);
            used.resize(size, false);
        }
    };
    // Breadth-first placement: a node's state must be new, nonzero, and leave free the slots
    // of its children (state ^ label) and of its value (state itself) when it ends a key.
    std::vector<std::size_t> order{0};
    for (std::size_t i = 0; i < order.size(); ++i)
        for (const auto& [c, child] : nodes[order[i]].children) order.push_back(child);
    for (std::size_t id : order) {
        node& nd = nodes[id];
        for (std::size_t s = 1;; ++s) {
            if (states.count(s)) continue;
            ensure((s | 255) + 1);
            bool ok = !(nd.terminal && used[s]);
            for (const auto& kv : nd.children)
                if (used[s ^ kv.first]) ok = false;
            if (!ok) continue;
            nd.state = s;
            states.insert(s);
            if (nd.terminal) {
                used[s] = true;
                units[s] = 0x80000000u | nd.value;
            }
            for (const auto& kv : nd.children) used[s ^ kv.first] = true;
            break;
        }
    }
    auto encode_offset = [](std::size_t off) -> std::uint32_t {
        if (off >= (std::size_t{1} << 21)) throw std::length_error("build_charsmap: offset too large");
        return static_cast<std::uint32_t>(off << 10);
    };
    units[0] = encode_offset(nodes[0].state);
    for (const node& nd : nodes)
        for (const auto& [c, child] : nd.children) {
            const std::size_t slot = nd.state ^ c;
            units[slot] = c | (nodes[child].terminal ? 0x100u : 0u) | encode_offset(slot ^ nodes[child].state);
        }
    std::string blob;
    auto put = [&](std::uint32_t v) {
        for (int k = 0; k < 4; ++k) blob.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
    };
    put(static_cast<std::uint32_t>(units.size() * 4));
    for (std::uint32_t u : units) put(u);
    blob += repl;
    return blob;
}

/// A model with the given flags, charsmap rules and pieces ({text, type}); scores are
/// irrelevant to normalization and decoding.
inline bytepiece::sentencepiece_model make_model(
    const std::map<std::string, std::string>& rules,
    const std::vector<std::pair<std::string, bytepiece::sentencepiece_model::piece_type>>& pieces,
    bool add_dummy_prefix = true, bool remove_extra_whitespaces = true, bool escape_whitespaces = true,
    bool suffix = false) {
    bytepiece::sentencepiece_model m;
    m.normalizer.precompiled_charsmap = rules.empty() ? std::string() : build_charsmap(rules);
    m.normalizer.add_dummy_prefix = add_dummy_prefix;
    m.normalizer.remove_extra_whitespaces = remove_extra_whitespaces;
    m.normalizer.escape_whitespaces = escape_whitespaces;
    m.trainer.treat_whitespace_as_suffix = suffix;
    float score = -1;
    for (const auto& [text, type] : pieces) m.pieces.push_back({text, score -= 0.5f, type});
    return m;
}

/// What a reference lookup says about a candidate key.
enum class lookup_result { dead, prefix, key };  // no key extends it / some key may / it is a key

/// SentencePiece's normalizer (spec 2.2) in its plainest form: one step at a time, each
/// candidate length asked of `lookup(candidate, replacement)` from one byte upwards until no
/// key can extend it, the last key found winning; user symbols the same way.
inline std::string reference_normalize(std::string_view text,
                                       const std::function<lookup_result(std::string_view, std::string&)>& lookup,
                                       const std::vector<std::string>& user_symbols, bool dummy, bool remove,
                                       bool escape, bool suffix) {
    std::vector<std::string> symbols;
    for (const auto& s : user_symbols) {
        const std::string cut = s.substr(0, s.find('\0'));
        if (!cut.empty()) symbols.push_back(cut);
    }
    auto step = [&](std::string_view rest) -> std::pair<std::string, std::size_t> {
        std::size_t best = 0;
        for (const auto& s : symbols)
            if (s.size() > best && rest.substr(0, s.size()) == s) best = s.size();
        if (best != 0) return {std::string(rest.substr(0, best)), best};
        std::string r, found;
        for (std::size_t len = 1; len <= rest.size(); ++len) {
            const lookup_result l = lookup(rest.substr(0, len), r);
            if (l == lookup_result::dead) break;
            if (l == lookup_result::key) {
                best = len;
                found = r;
            }
        }
        if (best != 0) return {found, best};
        const auto* p = reinterpret_cast<const unsigned char*>(rest.data());
        const auto d = bytepiece::detail::utf8::decode(p, p + rest.size());
        if (d.cp == bytepiece::detail::utf8::invalid) return {"\xEF\xBF\xBD", 1};
        return {std::string(rest.substr(0, d.length)), d.length};
    };
    const std::string sym = escape ? "\xE2\x96\x81" : " ";
    std::string out;
    if (text.empty()) return out;
    if (remove)
        while (!text.empty()) {
            auto s = step(text);
            if (s.first != " ") break;
            text.remove_prefix(s.second);
        }
    if (text.empty()) return out;
    if (dummy && !suffix) out += sym;
    bool prev = remove;
    while (!text.empty()) {
        auto s = step(text);
        std::string r = s.first;
        while (prev && !r.empty() && r[0] == ' ') r.erase(0, 1);
        if (!r.empty()) {
            for (char c : r) {
                if (escape && c == ' ') out += sym;
                else out += c;
            }
            prev = r.back() == ' ';
        }
        text.remove_prefix(s.second);
        if (!remove) prev = false;
    }
    if (remove)
        while (out.size() >= sym.size() && out.compare(out.size() - sym.size(), sym.size(), sym) == 0)
            out.resize(out.size() - sym.size());
    if (dummy && suffix) out += sym;
    return out;
}

/// The same with the rules as a map.
inline std::string reference_normalize(std::string_view text, const std::map<std::string, std::string>& rules,
                                       const std::vector<std::string>& user_symbols, bool dummy, bool remove,
                                       bool escape, bool suffix) {
    auto lookup = [&](std::string_view key, std::string& r) {
        const auto it = rules.lower_bound(std::string(key));
        if (it == rules.end() || it->first.compare(0, key.size(), key) != 0) return lookup_result::dead;
        if (it->first.size() != key.size()) return lookup_result::prefix;
        r = it->second;
        return lookup_result::key;
    };
    return reference_normalize(text, lookup, user_symbols, dummy, remove, escape, suffix);
}

}  // namespace sp_test
