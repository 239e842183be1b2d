// SPDX-License-Identifier: Apache-2.0
// detail::hf_normalizer (HF tokenizer.json normalizers). Three modes, chosen by the first byte:
//  * json: the rest is a "normalizer" value; it is refused with a model_error, or it normalizes
//    a few texts, keeping well-formed UTF-8 well-formed;
//  * forms: a fixed normalizer picked by the second byte runs on the rest; its output keeps
//    the invariants of that form (well-formed, NFC/NFD stable, no marks after StripAccents,
//    no outer whitespace after Strip, Replace leaves no match);
//  * charsmap: up to 8 rules carved off the input become a Precompiled charsmap; the output
//    must equal a reference walk of spec 3.5 written with a std::map and the grapheme cluster
//    cutter.
#include <bytepiece/detail/hf_normalizers.hpp>

#include "../tests/sp_charsmap_builder.hpp"
#include "fuzz_common.hpp"

#include <map>

namespace {

namespace d = bytepiece::detail;

d::hf_normalizer make(const std::string& json) {
    static const std::string source = "fuzz.json";
    const nlohmann::json j = d::hf_json::parse(json, source);
    return d::hf_normalizer(d::hf_json::cursor(j, source));
}

std::string take(fuzz::reader& in, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n && !in.rest().empty(); ++i) s.push_back(static_cast<char>(in.byte()));
    return s;
}

std::string run(const d::hf_normalizer& n, std::string_view text) {
    std::string out;
    n.normalize(text, out);
    return out;
}

void json_mode(std::string_view rest) {
    d::hf_normalizer n;
    try {
        n = make(std::string(rest));
    } catch (const bytepiece::model_error&) {
        return;
    }
    for (const char* t : {"", " Hello  World ", "A\xCC\x81\r\n\xEF\xBC\xA1", "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9"}) {
        const std::string out = run(n, t);
        FUZZ_CHECK_MSG(fuzz::is_valid_utf8(out), fuzz::escaped(out));
    }
}

bool has_mark(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    for (std::size_t i = 0; i < s.size();) {
        const auto dc = d::utf8::decode(p + i, p + s.size());
        if (dc.cp != d::utf8::invalid && (d::unicode_hf::props(dc.cp) & d::unicode_hf::p_mark)) return true;
        i += dc.length;
    }
    return false;
}

void forms_mode(std::uint8_t which, std::string_view text) {
    static const d::hf_normalizer nfc = make(R"({"type":"NFC"})"), nfd = make(R"({"type":"NFD"})"),
                                  nfkc = make(R"({"type":"NFKC"})"), nfkd = make(R"({"type":"NFKD"})"),
                                  lower = make(R"({"type":"Lowercase"})"), accents = make(R"({"type":"StripAccents"})"),
                                  strip = make(R"({"type":"Strip","strip_left":true,"strip_right":true})"),
                                  spaces = make(R"({"type":"Replace","pattern":{"Regex":" {2,}"},"content":" "})"),
                                  empty = make(R"({"type":"Replace","pattern":{"String":""},"content":"_"})"),
                                  nmt = make(R"({"type":"Nmt"})");
    const bool valid = fuzz::is_valid_utf8(text);
    std::string out;
    switch (which % 10) {
        case 0:
            out = run(nfc, text);
            FUZZ_CHECK(run(nfc, out) == out);
            FUZZ_CHECK(run(nfd, out) == run(nfd, text));
            break;
        case 1:
            out = run(nfd, text);
            FUZZ_CHECK(run(nfd, out) == out);
            break;
        case 2:
            out = run(nfkc, text);
            FUZZ_CHECK(run(nfkc, out) == out);
            break;
        case 3:
            out = run(nfkd, text);
            FUZZ_CHECK(run(nfkd, out) == out);
            FUZZ_CHECK(run(nfkd, run(nfc, text)) == out);
            break;
        case 4: out = run(lower, text); break;
        case 5:
            out = run(accents, text);
            FUZZ_CHECK(!has_mark(out));
            break;
        case 6:
            out = run(strip, text);
            FUZZ_CHECK(run(strip, out) == out);
            FUZZ_CHECK(text.find(out) != std::string_view::npos);
            break;
        case 7:
            out = run(spaces, text);
            FUZZ_CHECK(out.find("  ") == std::string::npos);
            break;
        case 8:
            out = run(empty, text);
            if (valid) {
                std::size_t chars = 0;
                for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
                FUZZ_CHECK(out.size() == text.size() + chars + (text.empty() ? 0 : 1));
            }
            break;
        default: out = run(nmt, text); break;
    }
    if (valid) FUZZ_CHECK_MSG(fuzz::is_valid_utf8(out), fuzz::escaped(out));
}

// Spec 3.5 in its plainest form: clusters from the cutter, keys from the map.
std::string reference(std::string_view text, const std::map<std::string, std::string>& rules) {
    auto shortest = [&](std::string_view s, std::string& r) {
        for (std::size_t len = 1; len <= s.size() && s[len - 1] != '\0'; ++len) {
            const auto it = rules.find(std::string(s.substr(0, len)));
            if (it != rules.end()) {
                r = it->second;
                return true;
            }
        }
        return false;
    };
    std::string out, r;
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t e = d::hf_norm::cluster_end(p, i, text.size());
        const std::string_view cluster = text.substr(i, e - i);
        if (cluster.size() < 6 && shortest(cluster, r)) {
            out += r;
        } else {
            for (std::size_t k = 0; k < cluster.size();) {
                const std::size_t len = d::utf8::decode(p + i + k, p + e).length;
                if (shortest(cluster.substr(k, len), r))
                    out += r;
                else
                    out += cluster.substr(k, len);
                k += len;
            }
        }
        i = e;
    }
    return out;
}

void charsmap_mode(fuzz::reader& in) {
    std::map<std::string, std::string> rules;
    const unsigned count = 1 + in.byte() % 8;
    for (unsigned k = 0; k < count; ++k) {
        std::string key = take(in, 1 + in.byte() % 6), value = take(in, in.byte() % 4);
        key = key.substr(0, key.find('\0'));
        value = value.substr(0, value.find('\0'));
        if (key.empty() || !fuzz::is_valid_utf8(value)) continue;
        rules[key] = value;
    }
    if (rules.empty()) return;
    const std::string blob = sp_test::build_charsmap(rules);
    std::string b64;
    d::base64_encode_append(blob, b64);
    const d::hf_normalizer n = make(R"({"type":"Precompiled","precompiled_charsmap":")" + b64 + "\"}");
    const std::string_view text = in.rest();
    const std::string out = run(n, text);
    FUZZ_CHECK_MSG(out == reference(text, rules), fuzz::escaped(text));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::reader in(data, size);
    const std::uint8_t mode = in.byte();
    if (mode % 3 == 0) {
        json_mode(in.rest());
    } else if (mode % 3 == 1) {
        const std::uint8_t which = in.byte();
        forms_mode(which, in.rest());
    } else {
        charsmap_mode(in);
    }
    return 0;
}
