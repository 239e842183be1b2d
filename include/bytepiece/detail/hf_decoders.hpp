// SPDX-License-Identifier: Apache-2.0
//
// The decoder of a Hugging Face tokenizer.json (decoders/*.rs of HF tokenizers 0.23): token
// strings back to text.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/detail/hf_json.hpp"
#include "bytepiece/detail/regex.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/errors.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// Appends `bytes` to `out` as Rust's `String::from_utf8_lossy` does: each maximal prefix of
/// an ill-formed sequence becomes one U+FFFD.
///
/// Example: `hf_append_lossy("a\xC3", out)` appends "a\uFFFD".
inline void hf_append_lossy(std::string_view bytes, std::string& out) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const auto* end = p + bytes.size();
    while (p < end) {
        const auto d = utf8::decode(p, end);
        if (d.cp != utf8::invalid) {
            out.append(reinterpret_cast<const char*>(p), d.length);
            p += d.length;
            continue;
        }
        // The bytes that could still have begun a well-formed sequence count as one error.
        const unsigned b0 = *p;
        std::size_t need = 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) need = 1;
        else if (b0 >= 0xE0 && b0 <= 0xEF) {
            need = 2;
            if (b0 == 0xE0) lo = 0xA0;
            if (b0 == 0xED) hi = 0x9F;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            need = 3;
            if (b0 == 0xF0) lo = 0x90;
            if (b0 == 0xF4) hi = 0x8F;
        }
        std::size_t k = 1;
        if (need > 0 && p + 1 < end && p[1] >= lo && p[1] <= hi) {
            k = 2;
            while (k <= need && p + k < end && (p[k] & 0xC0) == 0x80) ++k;
        }
        out += "\xEF\xBF\xBD";
        p += k;
    }
}

/// The decoder chain: Metaspace, ByteLevel, ByteFallback, Fuse, Strip, Replace and Sequence; without one, tokens are joined by single spaces as HF does.
///
/// Example: `hf_decoder d(root.at("decoder")); std::string text = d.decode(std::move(tokens));`
class hf_decoder {
public:
    hf_decoder() = default;

    /// Reads the `decoder` value (`c`, may be null).
    explicit hf_decoder(const hf_json::cursor& c) {
        if (c.is_null()) return;
        present_ = true;
        read(c);
    }

    /// The text of `tokens` (token strings, valid UTF-8). Throws `decode_error` where HF
    /// tokenizers would fail (a Strip decoder longer than a token of its own characters).
    ///
    /// Example: `d.decode({"▁Hello", "▁world"})` is "Hello world" with a Metaspace decoder.
    std::string decode(std::vector<std::string> tokens) const {
        std::string out;
        if (!present_) {
            for (std::size_t i = 0; i < tokens.size(); ++i) {
                if (i) out += ' ';
                out += tokens[i];
            }
            return out;
        }
        std::vector<std::string> next;
        for (const step& s : steps_) {
            next.clear();
            apply(s, tokens, next);
            tokens.swap(next);
        }
        for (const auto& t : tokens) out += t;
        return out;
    }

private:
    enum class kind { metaspace, byte_level, byte_fallback, fuse, strip, replace };
    struct step {
        kind k;
        std::string text;     // Metaspace replacement, Strip content, Replace pattern
        std::string content;  // Replace content
        bool prepend = true;  // Metaspace: prepend_scheme is not "never"
        std::size_t start = 0, stop = 0;
        std::shared_ptr<const regex> pattern;  // Replace with a Regex pattern
    };

    static std::string one_char(const hf_json::cursor& c) {
        const std::string_view s = c.string();
        const auto* p = reinterpret_cast<const unsigned char*>(s.data());
        if (s.empty() || utf8::decode(p, p + s.size()).length != s.size()) c.malformed("should be one character");
        return std::string(s);
    }

    void read(const hf_json::cursor& c) {
        const std::string_view type = c.type();
        step s{};
        if (type == "Sequence") {
            c.check_keys({"decoders"});
            const hf_json::cursor list = c.at("decoders");
            for (std::size_t i = 0; i < list.size(); ++i) read(list[i]);
            return;
        } else if (type == "Metaspace") {
            c.check_keys({"replacement", "prepend_scheme", "split", "add_prefix_space", "str_rep"});
            s.k = kind::metaspace;
            s.text = one_char(c.at("replacement"));
            std::string_view scheme = "always";
            if (c.has("prepend_scheme")) {
                scheme = c.at("prepend_scheme").string();
                if (scheme != "always" && scheme != "first" && scheme != "never")
                    c.at("prepend_scheme").malformed("should be \"always\", \"first\" or \"never\"");
            }
            if (c.find("split")) (void)c.at("split").boolean();
            if (c.find("str_rep")) (void)c.at("str_rep").string();
            if (c.find("add_prefix_space") && !c.at("add_prefix_space").boolean()) {
                if (scheme != "never")
                    c.at("add_prefix_space").invalid("is false but prepend_scheme is not \"never\" (HF refuses this)");
            }
            s.prepend = scheme != "never";
        } else if (type == "ByteLevel") {
            c.check_keys({"add_prefix_space", "trim_offsets", "use_regex"});
            for (const char* k : {"add_prefix_space", "trim_offsets", "use_regex"})
                if (c.find(k)) (void)c.at(k).boolean();
            s.k = kind::byte_level;
        } else if (type == "ByteFallback") {
            c.check_keys({});
            s.k = kind::byte_fallback;
        } else if (type == "Fuse") {
            c.check_keys({});
            s.k = kind::fuse;
        } else if (type == "Strip") {
            c.check_keys({"content", "start", "stop"});
            s.k = kind::strip;
            s.text = one_char(c.at("content"));
            s.start = static_cast<std::size_t>(c.at("start").unsigned_integer(std::uint64_t{1} << 32));
            s.stop = static_cast<std::size_t>(c.at("stop").unsigned_integer(std::uint64_t{1} << 32));
        } else if (type == "Replace") {
            c.check_keys({"pattern", "content"});
            s.k = kind::replace;
            const hf_json::cursor pattern = c.at("pattern");
            if (!pattern.is_object() || pattern.json().size() != 1) pattern.malformed("should be {\"String\": ...} or {\"Regex\": ...}");
            if (pattern.has("Regex")) {
                const hf_json::cursor r = pattern.at("Regex");
                try {
                    s.pattern = std::make_shared<const regex>(r.string());
                } catch (const regex_unsupported& e) {
                    r.unsupported(e.what());
                }
            } else {
                s.text = std::string(pattern.at("String").string());
                if (s.text.empty()) pattern.at("String").unsupported("is empty");
            }
            s.content = std::string(c.at("content").string());
        } else {
            c.at("type").unsupported("is \"" + std::string(type) +
                                     "\": the decoders supported are Metaspace, ByteLevel, ByteFallback, Fuse, "
                                     "Strip, Replace and Sequence");
        }
        steps_.push_back(std::move(s));
    }

    // The GPT-2 byte of code point cp (< 512) of the byte-level alphabet, or -1.
    static int byte_of(char32_t cp) noexcept {
        static const std::array<std::int16_t, 512> table = [] {
            std::array<std::int16_t, 512> t{};
            t.fill(-1);
            int n = 0;
            for (int b = 0; b < 256; ++b) {
                const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
                if (printable)
                    t[static_cast<std::size_t>(b)] = static_cast<std::int16_t>(b);
                else
                    t[static_cast<std::size_t>(256 + n++)] = static_cast<std::int16_t>(b);
            }
            return t;
        }();
        return cp < 512 ? table[cp] : -1;
    }

    static void apply(const step& s, std::vector<std::string>& tokens, std::vector<std::string>& out) {
        switch (s.k) {
            case kind::metaspace:
                for (std::size_t i = 0; i < tokens.size(); ++i) {
                    const std::string& t = tokens[i];
                    std::string r;
                    for (std::size_t p = 0; p < t.size();) {
                        if (t.compare(p, s.text.size(), s.text) == 0) {
                            // In the first token every replacement goes (unless prepend_scheme is never).
                            if (!(i == 0 && s.prepend)) r += ' ';
                            p += s.text.size();
                        } else {
                            r += t[p++];
                        }
                    }
                    out.push_back(std::move(r));
                }
                return;
            case kind::byte_level: {
                std::string bytes;
                for (const auto& t : tokens) {
                    const std::size_t mark = bytes.size();
                    const auto* p = reinterpret_cast<const unsigned char*>(t.data());
                    const auto* end = p + t.size();
                    bool all = true;
                    while (p < end) {
                        const auto d = utf8::decode(p, end);
                        const int b = d.cp == utf8::invalid ? -1 : byte_of(d.cp);
                        if (b < 0) {
                            all = false;
                            break;
                        }
                        bytes += static_cast<char>(b);
                        p += d.length;
                    }
                    if (!all) {
                        bytes.resize(mark);
                        bytes += t;
                    }
                }
                std::string r;
                hf_append_lossy(bytes, r);
                out.push_back(std::move(r));
                return;
            }
            case kind::byte_fallback: {
                std::string pending;  // bytes of consecutive <0xXX> tokens
                const auto flush = [&] {
                    if (pending.empty()) return;
                    if (utf8::is_valid(pending)) {
                        out.push_back(pending);
                    } else {
                        for (std::size_t k = 0; k < pending.size(); ++k) out.emplace_back("\xEF\xBF\xBD");
                    }
                    pending.clear();
                };
                for (auto& t : tokens) {
                    int b = -1;
                    if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') b = hex_byte(t[3], t[4]);
                    if (b >= 0) {
                        pending += static_cast<char>(b);
                    } else {
                        flush();
                        out.push_back(std::move(t));
                    }
                }
                flush();
                return;
            }
            case kind::fuse: {
                std::string r;
                for (const auto& t : tokens) r += t;
                out.push_back(std::move(r));
                return;
            }
            case kind::strip:
                for (const auto& t : tokens) out.push_back(strip(s, t));
                return;
            case kind::replace:
                for (const auto& t : tokens) {
                    std::string r;
                    std::size_t p = 0;
                    if (s.pattern) {
                        s.pattern->for_each_match(t, [&](std::size_t b, std::size_t e) {
                            r.append(t, p, b - p);
                            r += s.content;
                            p = e;
                        });
                        r.append(t, p, std::string::npos);
                        out.push_back(std::move(r));
                        continue;
                    }
                    for (;;) {
                        const std::size_t m = t.find(s.text, p);
                        if (m == std::string::npos) break;
                        r.append(t, p, m - p);
                        r += s.content;
                        p = m + s.text.size();
                    }
                    r.append(t, p, std::string::npos);
                    out.push_back(std::move(r));
                }
                return;
        }
    }

    // Rust's u8::from_str_radix(.., 16) on two characters (a leading '+' is accepted).
    static int hex_byte(char a, char b) noexcept {
        const auto digit = [](char c) {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        if (a == '+') return digit(b);
        const int hi = digit(a), lo = digit(b);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    static std::string strip(const step& s, const std::string& t) {
        // Code point boundaries of t.
        std::vector<std::size_t> at;
        const auto* p = reinterpret_cast<const unsigned char*>(t.data());
        for (std::size_t i = 0; i < t.size();) {
            at.push_back(i);
            i += utf8::decode(p + i, p + t.size()).length;
        }
        const std::size_t n = at.size();
        at.push_back(t.size());
        const auto is_content = [&](std::size_t k) { return t.compare(at[k], at[k + 1] - at[k], s.text) == 0; };
        std::size_t start_cut = 0;
        for (std::size_t k = 0; k < s.start && k < n; ++k) {
            if (!is_content(k)) break;
            start_cut = k + 1;
        }
        std::size_t stop_cut = n;
        for (std::size_t k = 0; k < s.stop; ++k) {
            if (k >= n)
                BYTEPIECE_THROW(decode_error(errc::decode_bad_id, "Strip decoder: the token \"" + t +
                                                                      "\" is shorter than stop, where HF tokenizers fails"));
            if (!is_content(n - k - 1)) break;
            stop_cut = n - k - 1;
        }
        if (stop_cut < start_cut)
            BYTEPIECE_THROW(decode_error(errc::decode_bad_id, "Strip decoder: start and stop overlap in the token \"" + t +
                                                                  "\", where HF tokenizers fails"));
        return t.substr(at[start_cut], at[stop_cut] - at[start_cut]);
    }

    std::vector<step> steps_;
    bool present_ = false;
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
