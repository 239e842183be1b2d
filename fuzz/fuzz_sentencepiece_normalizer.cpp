// SPDX-License-Identifier: Apache-2.0
// SentencePiece's normalizer built from a model the input describes, then run on the rest of
// the input. Two modes, chosen by the first byte:
//  * rules: up to 8 charsmap rules and 4 user-defined symbols carved off the input, built into
//    a darts-clone blob; the normalizer must equal the spec's step-by-step reference (written
//    in tests/sp_charsmap_builder.hpp) and its output be well-formed UTF-8; replacements or
//    symbols that are not well-formed UTF-8 must be refused with a model_error;
//  * raw: the charsmap blob is taken from the input as it is (a hostile blob); it is refused
//    with a model_error or normalizes any text to well-formed UTF-8 without reading outside it,
//    and agrees with the reference driven by an exact-match lookup in the blob.
#include <bytepiece/sentencepiece_normalizer.hpp>

#include "../tests/sp_charsmap_builder.hpp"
#include "fuzz_common.hpp"

namespace {

bool well_formed(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* e = p + s.size();
    while (p < e) {
        const auto d = bytepiece::detail::utf8::decode(p, e);
        if (d.cp == bytepiece::detail::utf8::invalid) return false;
        p += d.length;
    }
    return true;
}

std::string take(fuzz::reader& in, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n && !in.rest().empty(); ++i) s.push_back(static_cast<char>(in.byte()));
    return s;
}

// An exact-match lookup in a raw blob, written from spec 2.1 independently of sp_charsmap's
// prefix walk: one key at a time, every index checked.
std::function<sp_test::lookup_result(std::string_view, std::string&)> exact_lookup(const std::string& blob) {
    using sp_test::lookup_result;
    return [&blob](std::string_view key, std::string& out) {
        if (blob.size() <= 4) return lookup_result::dead;
        auto u32 = [&](std::size_t at) {
            std::uint32_t v = 0;
            for (int k = 3; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(blob[at + static_cast<std::size_t>(k)]);
            return v;
        };
        const std::size_t units = u32(0) / 4;
        auto unit = [&](std::size_t i) { return u32(4 + 4 * i); };
        auto offset = [](std::uint32_t u) { return static_cast<std::size_t>(u >> 10) << ((u & 0x200u) >> 6); };
        if (units == 0) return lookup_result::dead;
        std::size_t pos = offset(unit(0));
        bool leaf = false;
        for (unsigned char c : key) {
            pos ^= c;
            if (pos >= units || (unit(pos) & 0x800000FFu) != c) return lookup_result::dead;
            leaf = ((unit(pos) >> 8) & 1) != 0;
            pos ^= offset(unit(pos));
        }
        if (!leaf || pos >= units) return lookup_result::prefix;
        const std::size_t at = 4 + units * 4 + (unit(pos) & 0x7FFFFFFFu);
        out.assign(blob.c_str() + at);
        return lookup_result::key;
    };
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using piece_type = bytepiece::sentencepiece_model::piece_type;
    fuzz::reader in(data, size);
    const std::uint8_t mode = in.byte();
    const bool dummy = mode & 1, remove = (mode & 2) != 0, escape = (mode & 4) != 0, suffix = (mode & 8) != 0;
    const bool raw = (mode & 0x80) != 0;

    bytepiece::sentencepiece_model m;
    m.normalizer.add_dummy_prefix = dummy;
    m.normalizer.remove_extra_whitespaces = remove;
    m.normalizer.escape_whitespaces = escape;
    m.trainer.treat_whitespace_as_suffix = suffix;
    m.pieces.push_back({"<unk>", 0.0f, piece_type::unknown});
    std::map<std::string, std::string> rules;
    bool rules_well_formed = true;
    if (raw) {
        const std::size_t blob_size = (static_cast<std::size_t>(in.byte()) << 8) | in.byte();
        m.normalizer.precompiled_charsmap = take(in, blob_size);
    } else {
        for (std::size_t k = in.byte() % 9; k > 0; --k) {
            std::string key = take(in, 1 + in.byte() % 4);
            const std::string repl = take(in, in.byte() % 5);
            if (key.empty() || key.find('\0') != std::string::npos || repl.find('\0') != std::string::npos) continue;
            rules[key] = repl;
        }
        for (const auto& kv : rules) rules_well_formed = rules_well_formed && well_formed(kv.second);
        if (!rules.empty()) m.normalizer.precompiled_charsmap = sp_test::build_charsmap(rules);
    }
    std::vector<std::string> symbols;
    bool symbols_well_formed = true;
    for (std::size_t k = in.byte() % 5; k > 0; --k) {
        std::string s = take(in, 1 + in.byte() % 6);
        if (s.empty()) continue;
        symbols_well_formed = symbols_well_formed && well_formed(s);
        m.pieces.push_back({s, -1.0f, piece_type::user_defined});
        symbols.push_back(s);
    }
    std::string_view text = in.rest();

    std::optional<bytepiece::sentencepiece_normalizer> norm;
    try {
        norm.emplace(m, "fuzz");
    } catch (const bytepiece::model_error& e) {
        FUZZ_CHECK(e.code() == bytepiece::errc::model_sentencepiece_invalid);
        FUZZ_CHECK_MSG(raw || !rules_well_formed || !symbols_well_formed, e.what());
        return 0;
    }
    FUZZ_CHECK(symbols_well_formed);
    FUZZ_CHECK(raw || rules_well_formed);

    const std::string whole = norm->normalize(text);
    FUZZ_CHECK_MSG(well_formed(whole), fuzz::escaped(text));
    // The reference is quadratic in the longest key; a prefix of the text keeps it quick.
    text = text.substr(0, 1024);
    const std::string out = norm->normalize(text);
    const std::string want =
        raw ? sp_test::reference_normalize(text, exact_lookup(m.normalizer.precompiled_charsmap), symbols, dummy, remove,
                                           escape, suffix)
            : sp_test::reference_normalize(text, rules, symbols, dummy, remove, escape, suffix);
    FUZZ_CHECK_MSG(out == want, fuzz::escaped(text) + " -> " + fuzz::escaped(out) + " want " + fuzz::escaped(want));
    return 0;
}
