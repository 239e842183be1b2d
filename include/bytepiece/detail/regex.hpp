// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytepiece/detail/unicode_categories.hpp"
#include "bytepiece/detail/utf8.hpp"
#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// Thrown by `regex` for a pattern outside the supported Oniguruma subset (or not a valid
/// pattern at all); callers turn it into a model_hf_unsupported error naming the JSON key.
/// Example: `try { regex r("(?<=a)b"); } catch (const regex_unsupported& e) { ... }`
class regex_unsupported : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A small backtracking engine for the Oniguruma syntax found in tokenizer.json files
/// (Ruby-style `^`/`$` line anchors, Unicode classes on UTF-8, greedy and lazy quantifiers,
/// lookahead). Matches are what Oniguruma's leftmost search returns: the first start position
/// with a match, then the first match in priority order (alternatives left to right, greedy
/// quantifiers longest first). A byte that is not part of well-formed UTF-8 is one unit that
/// belongs to no Unicode category. Thread-safe: per-thread scratch space.
class regex {
public:
    /// Compiles an Oniguruma-syntax pattern; throws regex_unsupported.
    /// Example: `regex r(" {2,}");`
    explicit regex(std::string_view pattern) : pattern_(pattern) {
        parser p{*this, pattern, 0};
        const std::uint32_t root = p.parse_alternation();
        if (p.pos != pattern.size()) fail("unmatched ')'");
        choose_fast_path(root);
        compile_program(root);
        nodes_.clear();
        nodes_.shrink_to_fit();
    }

    /// The leftmost match at or after byte offset `from`, as [begin, end); nothing if none.
    /// Example: `regex(" {2,}").find("a   b", 0)` gives {1, 4}.
    std::optional<std::pair<std::size_t, std::size_t>> find(std::string_view text, std::size_t from) const {
        if (from > text.size()) return std::nullopt;
        switch (fast_) {
        case fast_kind::literal: return find_literal(text, from);
        case fast_kind::run: return find_run(text, from);
        case fast_kind::none: break;
        }
        return find_general(text, from);
    }

    /// Calls f(begin, end) for every match in `text`, as Oniguruma's find_iter in the Rust
    /// `onig` crate enumerates them: after a match the search resumes at its end, and an empty
    /// match right at the end of the previous match is skipped (the search moves one unit on).
    /// Example: `r.for_each_match(text, [&](std::size_t b, std::size_t e) { ... });`
    template <class F>
    void for_each_match(std::string_view text, F&& f) const {
        std::size_t from = 0;
        bool have_last = false;
        std::size_t last_end = 0;
        while (from <= text.size()) {
            const auto m = find(text, from);
            if (!m) return;
            if (m->first == m->second && have_last && m->second == last_end) {
                if (from >= text.size()) return;
                from += unit_length(text, from);
                continue;
            }
            f(m->first, m->second);
            have_last = true;
            last_end = m->second;
            from = m->second;
        }
    }

    /// The pattern this regex was compiled from.
    /// Example: `r.pattern()`
    const std::string& pattern() const noexcept { return pattern_; }

private:
    // ---- character classes ------------------------------------------------------------------
    // prop_word_outside: \w or \p{Word} outside brackets, where Oniguruma's Latin-1 table also
    // counts the superscript digits and vulgar fractions (inside [...] it does not; measured).
    enum prop_kind : std::uint8_t { prop_categories, prop_white_space, prop_word, prop_word_outside, prop_alphabetic,
                                    prop_any };
    struct prop {
        prop_kind kind;
        bool negated;
        std::uint32_t categories;  // prop_categories: bit i = category i
    };
    struct char_class {
        std::uint64_t ascii[2] = {0, 0};  // membership of 0..127, final (negation applied)
        bool negated = false;
        bool non_ascii_possible = true;
        std::vector<std::pair<char32_t, char32_t>> ranges;
        std::vector<prop> props;

        bool slow_contains(char32_t cp) const noexcept {
            bool in = false;
            for (const auto& r : ranges)
                if (cp >= r.first && cp <= r.second) {
                    in = true;
                    break;
                }
            if (!in) {
                const std::uint8_t e = unicode_categories::entry(cp);
                for (const auto& p : props) {
                    bool v = false;
                    switch (p.kind) {
                    case prop_categories: v = ((p.categories >> (e & unicode_categories::category_mask)) & 1u) != 0; break;
                    case prop_white_space: v = (e & unicode_categories::white_space_bit) != 0; break;
                    case prop_alphabetic: v = (e & unicode_categories::alphabetic_bit) != 0; break;
                    case prop_word: v = is_word(e); break;
                    case prop_word_outside: v = is_word(e) || is_latin1_word_extra(cp); break;
                    case prop_any: v = true; break;
                    }
                    if (v != p.negated) {
                        in = true;
                        break;
                    }
                }
            }
            return in != negated;
        }
        void finish() {
            for (char32_t c = 0; c < 128; ++c)
                if (slow_contains(c)) ascii[c >> 6] |= std::uint64_t{1} << (c & 63);
        }
        bool contains_ascii(unsigned char b) const noexcept { return ((ascii[b >> 6] >> (b & 63)) & 1u) != 0; }
    };

    // Oniguruma's Word property: Alphabetic, marks, Nd and Pc (no Join_Control; measured against
    // HF code point by code point).
    static bool is_word(std::uint8_t e) noexcept {
        using namespace unicode_categories;
        if (e & alphabetic_bit) return true;
        const unsigned c = e & category_mask;
        return c == Mn || c == Mc || c == Me || c == Nd || c == Pc;
    }
    static bool is_latin1_word_extra(char32_t cp) noexcept {
        return cp == 0xB2 || cp == 0xB3 || cp == 0xB9 || (cp >= 0xBC && cp <= 0xBE);
    }

    // ---- syntax tree (only while compiling) ---------------------------------------------------
    enum node_kind : std::uint8_t { n_empty, n_literal, n_class, n_any, n_concat, n_alt, n_repeat, n_bol, n_eol,
                                    n_bos, n_eos, n_eos_nl, n_look };
    struct node {
        node_kind kind = n_empty;
        bool flag = false;         // repeat: greedy; look: negated
        std::uint32_t value = 0;   // literal: code point; class: index
        std::uint32_t min = 0, max = 0;  // repeat; max == unbounded
        std::vector<std::uint32_t> kids;
    };
    static constexpr std::uint32_t unbounded = 0xFFFFFFFFu;
    static constexpr std::uint32_t max_repeat = 100000;
    static constexpr std::size_t max_program = 200000;

    [[noreturn]] void fail(const std::string& what) const {
        throw regex_unsupported("regex \"" + pattern_ + "\": " + what);
    }

    std::uint32_t add_node(node n) {
        nodes_.push_back(std::move(n));
        return static_cast<std::uint32_t>(nodes_.size() - 1);
    }

    struct parser {
        regex& re;
        std::string_view s;
        std::size_t pos;

        bool at_end() const { return pos >= s.size(); }
        char peek() const { return s[pos]; }

        char32_t next_cp() {
            const auto d = utf8::decode(reinterpret_cast<const unsigned char*>(s.data()) + pos,
                                        reinterpret_cast<const unsigned char*>(s.data()) + s.size());
            if (d.cp == utf8::invalid) re.fail("the pattern is not valid UTF-8");
            pos += d.length;
            return d.cp;
        }

        std::uint32_t parse_alternation() {
            std::vector<std::uint32_t> alts{parse_concat()};
            while (!at_end() && peek() == '|') {
                ++pos;
                alts.push_back(parse_concat());
            }
            if (alts.size() == 1) return alts[0];
            node n;
            n.kind = n_alt;
            n.kids = std::move(alts);
            return re.add_node(std::move(n));
        }

        std::uint32_t parse_concat() {
            std::vector<std::uint32_t> items;
            while (!at_end() && peek() != '|' && peek() != ')') {
                std::uint32_t atom = parse_atom();
                atom = parse_quantifiers(atom);
                items.push_back(atom);
            }
            if (items.size() == 1) return items[0];
            node n;
            n.kind = items.empty() ? n_empty : n_concat;
            n.kids = std::move(items);
            return re.add_node(std::move(n));
        }

        bool read_number(std::uint32_t& v) {
            const std::size_t start = pos;
            v = 0;
            while (!at_end() && peek() >= '0' && peek() <= '9') {
                if (v > max_repeat) re.fail("a repeat count above 100000");
                v = v * 10 + static_cast<std::uint32_t>(peek() - '0');
                ++pos;
            }
            if (v > max_repeat) re.fail("a repeat count above 100000");
            return pos > start;
        }

        // `{` starts an interval only when the whole {m}, {m,}, {,n} or {m,n} follows;
        // otherwise it is a literal brace, as in Oniguruma's Ruby syntax.
        bool try_interval(std::uint32_t& lo, std::uint32_t& hi) {
            const std::size_t save = pos;
            ++pos;
            std::uint32_t a = 0, b = 0;
            const bool has_a = read_number(a);
            if (!at_end() && peek() == '}') {
                if (!has_a) {
                    pos = save;
                    return false;
                }
                ++pos;
                lo = hi = a;
                return true;
            }
            if (at_end() || peek() != ',') {
                pos = save;
                return false;
            }
            ++pos;
            const bool has_b = read_number(b);
            if (at_end() || peek() != '}' || (!has_a && !has_b)) {
                pos = save;
                return false;
            }
            ++pos;
            lo = has_a ? a : 0;
            hi = has_b ? b : unbounded;
            if (hi < lo) re.fail("an interval {m,n} with n < m");
            return true;
        }

        std::uint32_t parse_quantifiers(std::uint32_t atom) {
            bool quantified = false;
            while (!at_end()) {
                std::uint32_t lo = 0, hi = 0;
                const char c = peek();
                if (c == '*') {
                    lo = 0, hi = unbounded, ++pos;
                } else if (c == '+') {
                    lo = 1, hi = unbounded, ++pos;
                } else if (c == '?') {
                    lo = 0, hi = 1, ++pos;
                } else if (c == '{') {
                    if (!try_interval(lo, hi)) break;
                } else {
                    break;
                }
                if (quantified) re.fail("a quantifier applied to a quantifier (possessive or nested repeat)");
                quantified = true;
                bool greedy = true;
                if (!at_end() && peek() == '?') {
                    greedy = false;
                    ++pos;
                } else if (!at_end() && peek() == '+') {
                    re.fail("possessive quantifiers");
                }
                const node_kind k = re.nodes_[atom].kind;
                if (k == n_bol || k == n_eol || k == n_bos || k == n_eos || k == n_eos_nl || k == n_look)
                    re.fail("a quantifier on an anchor or lookahead");
                node n;
                n.kind = n_repeat;
                n.flag = greedy;
                n.min = lo;
                n.max = hi;
                n.kids = {atom};
                atom = re.add_node(std::move(n));
            }
            return atom;
        }

        std::uint32_t leaf(node_kind k, std::uint32_t value = 0) {
            node n;
            n.kind = k;
            n.value = value;
            return re.add_node(std::move(n));
        }

        std::uint32_t parse_atom() {
            const char c = peek();
            switch (c) {
            case '(': return parse_group();
            case '[': return leaf(n_class, parse_class());
            case '.': ++pos; return leaf(n_any);
            case '^': ++pos; return leaf(n_bol);
            case '$': ++pos; return leaf(n_eol);
            case '*': case '+': case '?': re.fail("a quantifier with nothing to repeat");
            case '\\': return parse_escape_atom();
            case '{': {
                std::uint32_t lo = 0, hi = 0;
                const std::size_t save = pos;
                if (try_interval(lo, hi)) {
                    pos = save;
                    re.fail("a quantifier with nothing to repeat");
                }
                ++pos;
                return leaf(n_literal, '{');
            }
            default: return leaf(n_literal, next_cp());
            }
        }

        std::uint32_t parse_group() {
            ++pos;  // '('
            node_kind look = n_empty;
            bool negated = false;
            if (!at_end() && peek() == '?') {
                ++pos;
                if (at_end()) re.fail("an unterminated group");
                const char k = peek();
                if (k == ':') {
                    ++pos;
                } else if (k == '=' || k == '!') {
                    ++pos;
                    look = n_look;
                    negated = k == '!';
                } else if (k == '<' && pos + 1 < s.size() && (s[pos + 1] == '=' || s[pos + 1] == '!')) {
                    re.fail("lookbehind (?<= or (?<!");
                } else if (k == '<' || k == '\'' || k == 'P') {
                    re.fail("named groups");
                } else if (k == '>') {
                    re.fail("atomic groups (?>...)");
                } else if (k == '#') {
                    re.fail("comments (?#...)");
                } else {
                    re.fail("group options such as (?i) or (?m)");
                }
            }
            const std::uint32_t inner = parse_alternation();
            if (at_end() || peek() != ')') re.fail("an unterminated group");
            ++pos;
            if (look == n_empty) return inner;
            node n;
            n.kind = n_look;
            n.flag = negated;
            n.kids = {inner};
            return re.add_node(std::move(n));
        }

        unsigned hex_value(char h) {
            if (h >= '0' && h <= '9') return static_cast<unsigned>(h - '0');
            if (h >= 'a' && h <= 'f') return static_cast<unsigned>(h - 'a' + 10);
            if (h >= 'A' && h <= 'F') return static_cast<unsigned>(h - 'A' + 10);
            return 16;
        }

        char32_t read_hex(std::size_t max_digits, bool braced) {
            char32_t v = 0;
            std::size_t n = 0;
            while (!at_end() && n < max_digits && hex_value(peek()) < 16) {
                v = v * 16 + hex_value(peek());
                ++pos;
                ++n;
            }
            if (n == 0) re.fail("a hexadecimal escape without digits");
            if (braced) {
                if (at_end() || peek() != '}') re.fail("an unterminated \\x{...}");
                ++pos;
            }
            if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) re.fail("an escape that is not a Unicode scalar value");
            return v;
        }

        // A class escape (\s, \p{..}, ...) as a prop, or nothing when the escape is a character.
        bool class_escape(char e, prop& out) {
            using namespace unicode_categories;
            switch (e) {
            case 's': out = {prop_white_space, false, 0}; return true;
            case 'S': out = {prop_white_space, true, 0}; return true;
            case 'd': out = {prop_categories, false, 1u << Nd}; return true;
            case 'D': out = {prop_categories, true, 1u << Nd}; return true;
            case 'w': out = {prop_word, false, 0}; return true;
            case 'W': out = {prop_word, true, 0}; return true;
            case 'p':
            case 'P': {
                if (at_end() || peek() != '{') re.fail("\\p without {...}");
                ++pos;
                bool neg = e == 'P';
                if (!at_end() && peek() == '^') {
                    neg = !neg;
                    ++pos;
                }
                const std::size_t start = pos;
                while (!at_end() && peek() != '}') ++pos;
                if (at_end()) re.fail("an unterminated \\p{...}");
                const std::string_view name = s.substr(start, pos - start);
                ++pos;
                out = property(name);
                out.negated = out.negated != neg;
                return true;
            }
            default: return false;
            }
        }

        prop property(std::string_view raw) {
            using namespace unicode_categories;
            // Oniguruma compares property names ignoring case, spaces, '-' and '_'.
            std::string name;
            for (const char ch : raw) {
                if (ch == ' ' || ch == '-' || ch == '_') continue;
                name += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
            }
            struct entry_t {
                const char* a;
                const char* b;
                std::uint32_t mask;
            };
            constexpr std::uint32_t L = (1u << Lu) | (1u << Ll) | (1u << Lt) | (1u << Lm) | (1u << Lo);
            constexpr std::uint32_t M = (1u << Mn) | (1u << Mc) | (1u << Me);
            constexpr std::uint32_t N = (1u << Nd) | (1u << Nl) | (1u << No);
            constexpr std::uint32_t P = (1u << Pc) | (1u << Pd) | (1u << Ps) | (1u << Pe) | (1u << Pi) | (1u << Pf) |
                                        (1u << Po);
            constexpr std::uint32_t S = (1u << Sm) | (1u << Sc) | (1u << Sk) | (1u << So);
            constexpr std::uint32_t Z = (1u << Zs) | (1u << Zl) | (1u << Zp);
            constexpr std::uint32_t C = (1u << Cc) | (1u << Cf) | (1u << Cs) | (1u << Co) | (1u << Cn);
            static const entry_t table[] = {
                {"l", "letter", L}, {"lu", "uppercaseletter", 1u << Lu}, {"ll", "lowercaseletter", 1u << Ll},
                {"lt", "titlecaseletter", 1u << Lt}, {"lm", "modifierletter", 1u << Lm},
                {"lo", "otherletter", 1u << Lo}, {"lc", "casedletter", (1u << Lu) | (1u << Ll) | (1u << Lt)},
                {"m", "mark", M}, {"mn", "nonspacingmark", 1u << Mn}, {"mc", "spacingmark", 1u << Mc},
                {"me", "enclosingmark", 1u << Me}, {"n", "number", N}, {"nd", "decimalnumber", 1u << Nd},
                {"nl", "letternumber", 1u << Nl}, {"no", "othernumber", 1u << No}, {"p", "punctuation", P},
                {"pc", "connectorpunctuation", 1u << Pc}, {"pd", "dashpunctuation", 1u << Pd},
                {"ps", "openpunctuation", 1u << Ps}, {"pe", "closepunctuation", 1u << Pe},
                {"pi", "initialpunctuation", 1u << Pi}, {"pf", "finalpunctuation", 1u << Pf},
                {"po", "otherpunctuation", 1u << Po}, {"s", "symbol", S}, {"sm", "mathsymbol", 1u << Sm},
                {"sc", "currencysymbol", 1u << Sc}, {"sk", "modifiersymbol", 1u << Sk},
                {"so", "othersymbol", 1u << So}, {"z", "separator", Z}, {"zs", "spaceseparator", 1u << Zs},
                {"zl", "lineseparator", 1u << Zl}, {"zp", "paragraphseparator", 1u << Zp}, {"c", "other", C},
                {"cc", "control", 1u << Cc}, {"cf", "format", 1u << Cf}, {"cs", "surrogate", 1u << Cs},
                {"co", "privateuse", 1u << Co}, {"cn", "unassigned", 1u << Cn},
            };
            for (const auto& t : table)
                if (name == t.a || name == t.b) return {prop_categories, false, t.mask};
            if (name == "whitespace" || name == "space") return {prop_white_space, false, 0};
            if (name == "alphabetic" || name == "alpha") return {prop_alphabetic, false, 0};
            if (name == "word") return {prop_word, false, 0};
            if (name == "any") return {prop_any, false, 0};
            re.fail("the property \\p{" + std::string(raw) + "}");
        }

        // A single-character escape (after the backslash, `e` already consumed).
        char32_t char_escape(char e) {
            switch (e) {
            case 'n': return '\n';
            case 't': return '\t';
            case 'r': return '\r';
            case 'f': return '\f';
            case 'v': return '\v';
            case 'a': return '\a';
            case 'e': return 0x1B;
            case '0': return 0;
            case 'x':
                if (!at_end() && peek() == '{') {
                    ++pos;
                    return read_hex(8, true);
                }
                return read_hex(2, false);
            case 'u': return read_hex(4, false);
            default: break;
            }
            const auto b = static_cast<unsigned char>(e);
            if (b >= 0x80 || !((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')))
                return b;  // an escaped punctuation character stands for itself
            re.fail(std::string("the escape \\") + e);
        }

        std::uint32_t parse_escape_atom() {
            ++pos;
            if (at_end()) re.fail("a trailing backslash");
            if (static_cast<unsigned char>(peek()) >= 0x80) return leaf(n_literal, next_cp());
            const char e = s[pos++];
            switch (e) {
            case 'A': return leaf(n_bos);
            case 'z': return leaf(n_eos);
            case 'Z': return leaf(n_eos_nl);
            default: break;
            }
            prop p{};
            if (class_escape(e, p)) {
                if (p.kind == prop_word) p.kind = prop_word_outside;
                char_class cls;
                cls.props.push_back(p);
                return leaf(n_class, re.add_class(std::move(cls)));
            }
            return leaf(n_literal, char_escape(e));
        }

        std::uint32_t parse_class() {
            ++pos;  // '['
            char_class cls;
            if (!at_end() && peek() == '^') {
                cls.negated = true;
                ++pos;
            }
            bool first = true;
            for (;;) {
                if (at_end()) re.fail("an unterminated character class");
                const char c = peek();
                if (c == ']' && !first) {
                    ++pos;
                    break;
                }
                first = false;
                if (c == '[') re.fail("nested classes or POSIX brackets inside [...]");
                if (c == '&' && pos + 1 < s.size() && s[pos + 1] == '&') re.fail("class intersection &&");
                char32_t lo = 0;
                if (c == '\\') {
                    ++pos;
                    if (at_end()) re.fail("a trailing backslash");
                    if (static_cast<unsigned char>(peek()) >= 0x80) {
                        lo = next_cp();
                    } else {
                        const char e = s[pos++];
                        prop p{};
                        if (class_escape(e, p)) {
                            cls.props.push_back(p);
                            if (!at_end() && peek() == '-' && pos + 1 < s.size() && s[pos + 1] != ']')
                                re.fail("a range with a class escape as an end point");
                            continue;
                        }
                        lo = e == 'b' ? 0x08 : char_escape(e);
                    }
                } else {
                    lo = next_cp();
                }
                char32_t hi = lo;
                if (!at_end() && peek() == '-' && pos + 1 < s.size() && s[pos + 1] != ']') {
                    ++pos;
                    if (peek() == '[') re.fail("nested classes inside [...]");
                    if (peek() == '\\') {
                        ++pos;
                        if (at_end()) re.fail("a trailing backslash");
                        if (static_cast<unsigned char>(peek()) >= 0x80) {
                            hi = next_cp();
                        } else {
                            const char e = s[pos++];
                            prop p{};
                            if (class_escape(e, p)) re.fail("a range with a class escape as an end point");
                            hi = e == 'b' ? 0x08 : char_escape(e);
                        }
                    } else {
                        hi = next_cp();
                    }
                    if (hi < lo) re.fail("an empty range in a class");
                }
                cls.ranges.emplace_back(lo, hi);
            }
            return re.add_class(std::move(cls));
        }
    };

    std::uint32_t add_class(char_class cls) {
        cls.finish();
        cls.non_ascii_possible = cls.negated || !cls.props.empty();
        for (const auto& r : cls.ranges)
            if (r.second >= 0x80) cls.non_ascii_possible = true;
        classes_.push_back(std::move(cls));
        return static_cast<std::uint32_t>(classes_.size() - 1);
    }

    // ---- program ------------------------------------------------------------------------------
    enum op : std::uint8_t { op_literal, op_class, op_any, op_star, op_split, op_jmp, op_bol, op_eol, op_bos,
                             op_eos, op_eos_nl, op_look, op_match };
    enum unit_kind : std::uint8_t { u_literal, u_class, u_any };
    struct inst {
        op code = op_match;
        unit_kind unit = u_literal;  // op_star: what is repeated
        bool flag = false;           // op_star: greedy; op_look: negated
        std::uint32_t x = 0;         // target / class / literal offset / lookahead body
        std::uint32_t y = 0;         // alternative / literal length / continuation
        std::uint32_t first = 0;     // op_split: index into firsts_ of branch x
    };
    struct first_set {
        std::uint64_t bytes[4] = {0, 0, 0, 0};
        bool nullable = false;
        void add(unsigned b) { bytes[b >> 6] |= std::uint64_t{1} << (b & 63); }
        bool has(unsigned char b) const { return ((bytes[b >> 6] >> (b & 63)) & 1u) != 0; }
        void merge(const first_set& o) {
            for (int i = 0; i < 4; ++i) bytes[i] |= o.bytes[i];
            nullable = nullable || o.nullable;
        }
    };

    std::uint32_t emit(inst i) {
        if (program_.size() >= max_program) fail("the pattern compiles to too large a program");
        program_.push_back(i);
        return static_cast<std::uint32_t>(program_.size() - 1);
    }

    bool nullable(std::uint32_t n) const {
        const node& d = nodes_[n];
        switch (d.kind) {
        case n_literal: case n_class: case n_any: return false;
        case n_concat:
            for (const auto k : d.kids)
                if (!nullable(k)) return false;
            return true;
        case n_alt:
            for (const auto k : d.kids)
                if (nullable(k)) return true;
            return false;
        case n_repeat: return d.min == 0 || nullable(d.kids[0]);
        default: return true;
        }
    }

    bool single_unit(std::uint32_t n) const {
        const auto k = nodes_[n].kind;
        return k == n_literal || k == n_class || k == n_any;
    }

    void emit_unit_fields(std::uint32_t n, inst& i) {
        const node& d = nodes_[n];
        if (d.kind == n_literal) {
            char buf[4];
            const std::size_t len = utf8::encode(d.value, buf);
            i.unit = u_literal;
            i.x = static_cast<std::uint32_t>(literals_.size());
            i.y = static_cast<std::uint32_t>(len);
            literals_.append(buf, len);
        } else if (d.kind == n_class) {
            i.unit = u_class;
            i.x = d.value;
        } else {
            i.unit = u_any;
        }
    }

    void compile_node(std::uint32_t n) {
        const node d = nodes_[n];  // copy: nodes_ is not modified, but keep references simple
        switch (d.kind) {
        case n_empty: return;
        case n_literal: {
            char buf[4];
            const std::size_t len = utf8::encode(d.value, buf);
            // Consecutive literals share one instruction.
            if (!program_.empty() && program_.back().code == op_literal && !literal_barrier_ &&
                program_.back().x + program_.back().y == literals_.size()) {
                program_.back().y += static_cast<std::uint32_t>(len);
            } else {
                inst i;
                i.code = op_literal;
                i.x = static_cast<std::uint32_t>(literals_.size());
                i.y = static_cast<std::uint32_t>(len);
                emit(i);
            }
            literals_.append(buf, len);
            literal_barrier_ = false;
            return;
        }
        case n_class: {
            inst i;
            i.code = op_class;
            i.x = d.value;
            emit(i);
            break;
        }
        case n_any: emit(inst{op_any}); break;
        case n_bol: emit(inst{op_bol}); break;
        case n_eol: emit(inst{op_eol}); break;
        case n_bos: emit(inst{op_bos}); break;
        case n_eos: emit(inst{op_eos}); break;
        case n_eos_nl: emit(inst{op_eos_nl}); break;
        case n_concat:
            for (const auto k : d.kids) compile_node(k);
            return;
        case n_alt: {
            // split L1, next; L1: a; jmp end; next: split L2, next2; ...
            std::vector<std::uint32_t> jumps;
            for (std::size_t k = 0; k < d.kids.size(); ++k) {
                if (k + 1 < d.kids.size()) {
                    const std::uint32_t s = emit(inst{op_split});
                    program_[s].x = s + 1;
                    literal_barrier_ = true;
                    compile_node(d.kids[k]);
                    jumps.push_back(emit(inst{op_jmp}));
                    program_[s].y = static_cast<std::uint32_t>(program_.size());
                    literal_barrier_ = true;
                } else {
                    compile_node(d.kids[k]);
                }
            }
            for (const auto j : jumps) program_[j].x = static_cast<std::uint32_t>(program_.size());
            break;
        }
        case n_repeat: compile_repeat(d); break;
        case n_look: {
            const std::uint32_t l = emit(inst{op_look});
            program_[l].flag = d.flag;
            program_[l].x = l + 1;
            literal_barrier_ = true;
            compile_node(d.kids[0]);
            emit(inst{op_match});
            program_[l].y = static_cast<std::uint32_t>(program_.size());
            break;
        }
        }
        literal_barrier_ = true;
    }

    void compile_optional(std::uint32_t body, bool greedy) {
        const std::uint32_t s = emit(inst{op_split});
        literal_barrier_ = true;
        compile_node(body);
        const auto after = static_cast<std::uint32_t>(program_.size());
        program_[s].x = greedy ? s + 1 : after;
        program_[s].y = greedy ? after : s + 1;
    }

    void compile_repeat(const node& d) {
        const std::uint32_t body = d.kids[0];
        for (std::uint32_t k = 0; k < d.min; ++k) {
            literal_barrier_ = true;
            compile_node(body);
        }
        literal_barrier_ = true;
        if (d.max == unbounded) {
            if (single_unit(body)) {
                inst i;
                i.code = op_star;
                i.flag = d.flag;
                emit_unit_fields(body, i);
                emit(i);
                return;
            }
            if (nullable(body)) always_memo_ = true;  // empty iterations are cut by the memo
            // L: split body, out; body; jmp L
            const std::uint32_t s = emit(inst{op_split});
            compile_node(body);
            const std::uint32_t j = emit(inst{op_jmp});
            program_[j].x = s;
            const auto after = static_cast<std::uint32_t>(program_.size());
            program_[s].x = d.flag ? s + 1 : after;
            program_[s].y = d.flag ? after : s + 1;
            return;
        }
        // Optional copies nest, x{0,3} = (x(x(x)?)?)?, so that a failure backs off one copy.
        const std::uint32_t optional = d.max - d.min;
        std::vector<std::uint32_t> splits;
        for (std::uint32_t k = 0; k < optional; ++k) {
            splits.push_back(emit(inst{op_split}));
            literal_barrier_ = true;
            compile_node(body);
            literal_barrier_ = true;
        }
        const auto after = static_cast<std::uint32_t>(program_.size());
        for (const auto s : splits) {
            program_[s].x = d.flag ? s + 1 : after;
            program_[s].y = d.flag ? after : s + 1;
        }
    }

    void unit_first(const inst& i, first_set& f) const {
        if (i.unit == u_literal || i.code == op_literal) {
            f.add(static_cast<unsigned char>(literals_[i.x]));
        } else if (i.unit == u_class || i.code == op_class) {
            const char_class& c = classes_[i.x];
            for (unsigned b = 0; b < 128; ++b)
                if (c.contains_ascii(static_cast<unsigned char>(b))) f.add(b);
            if (c.non_ascii_possible)
                for (unsigned b = 128; b < 256; ++b) f.add(b);
        } else {
            for (unsigned b = 0; b < 256; ++b)
                if (b != '\n') f.add(b);
        }
    }

    // The bytes that can start a match from pc, and whether pc can succeed without consuming.
    void first_from(std::uint32_t pc, std::vector<char>& seen, first_set& f) const {
        while (pc < program_.size()) {
            if (seen[pc]) return;
            seen[pc] = 1;
            const inst& i = program_[pc];
            switch (i.code) {
            case op_literal: {
                inst l = i;
                l.unit = u_literal;
                unit_first(l, f);
                return;
            }
            case op_class: {
                inst c = i;
                c.unit = u_class;
                unit_first(c, f);
                return;
            }
            case op_any: {
                inst a = i;
                a.unit = u_any;
                unit_first(a, f);
                return;
            }
            case op_star: unit_first(i, f); ++pc; break;
            case op_split: first_from(i.x, seen, f); pc = i.y; break;
            case op_jmp: pc = i.x; break;
            case op_look: pc = i.y; break;
            case op_match: f.nullable = true; return;
            default: ++pc; break;  // anchors consume nothing
            }
        }
    }

    first_set first_of(std::uint32_t pc) const {
        std::vector<char> seen(program_.size(), 0);
        first_set f;
        first_from(pc, seen, f);
        return f;
    }

    void compile_program(std::uint32_t root) {
        if (fast_ != fast_kind::none) return;
        compile_node(root);
        emit(inst{op_match});
        for (std::uint32_t pc = 0; pc < program_.size(); ++pc) {
            if (program_[pc].code != op_split) continue;
            program_[pc].first = static_cast<std::uint32_t>(firsts_.size());
            firsts_.push_back(first_of(program_[pc].x));
        }
        start_ = first_of(0);
        leading_star_ = program_[0].code == op_star && program_[0].flag;
        // Regions: 0 = the main program, k = the body of the k-th lookahead (for the memo).
        region_.assign(program_.size(), 0);
        slot_.assign(program_.size(), 0);
        std::vector<std::uint32_t> count{0};
        assign_regions(0, static_cast<std::uint32_t>(program_.size()), 0, count);
        region_size_ = std::move(count);
        finish_regions();
    }

    void assign_regions(std::uint32_t begin, std::uint32_t end, std::uint32_t region, std::vector<std::uint32_t>& count) {
        for (std::uint32_t pc = begin; pc < end; ++pc) {
            region_[pc] = region;
            slot_[pc] = count[region]++;
            if (program_[pc].code == op_look) {
                const auto inner = static_cast<std::uint32_t>(count.size());
                count.push_back(0);
                assign_regions(pc + 1, program_[pc].y, inner, count);
                pc = program_[pc].y - 1;
            }
        }
    }

    // ---- fast paths ---------------------------------------------------------------------------
    enum class fast_kind : std::uint8_t { none, literal, run };

    void literal_text(std::uint32_t n, std::string& out, bool& ok) const {
        const node& d = nodes_[n];
        if (d.kind == n_literal) {
            char buf[4];
            out.append(buf, utf8::encode(d.value, buf));
        } else if (d.kind == n_concat) {
            for (const auto k : d.kids) literal_text(k, out, ok);
        } else if (d.kind != n_empty) {
            ok = false;
        }
    }

    void choose_fast_path(std::uint32_t root) {
        std::string lit;
        bool ok = true;
        literal_text(root, lit, ok);
        if (ok) {
            fast_ = fast_kind::literal;
            literals_ = std::move(lit);
            return;
        }
        const node& d = nodes_[root];
        if (d.kind == n_repeat && d.flag && single_unit(d.kids[0]) && d.min > 0) {
            fast_ = fast_kind::run;
            run_min_ = d.min;
            run_max_ = d.max;
            emit_unit_fields(d.kids[0], run_unit_);
        }
    }

    std::optional<std::pair<std::size_t, std::size_t>> find_literal(std::string_view text, std::size_t from) const {
        const std::size_t p = text.find(literals_, from);
        if (p == std::string_view::npos) return std::nullopt;
        return std::make_pair(p, p + literals_.size());
    }

    std::optional<std::pair<std::size_t, std::size_t>> find_run(std::string_view text, std::size_t from) const {
        const std::size_t n = text.size();
        std::size_t s = from;
        if (run_unit_.unit == u_literal && run_unit_.y == 1) {
            const char c = literals_[run_unit_.x];
            while (s < n) {
                const void* hit = std::memchr(text.data() + s, c, n - s);
                if (!hit) return std::nullopt;
                s = static_cast<std::size_t>(static_cast<const char*>(hit) - text.data());
                std::size_t e = s;
                std::uint32_t count = 0;
                while (e < n && text[e] == c && count < run_max_) ++e, ++count;
                if (count >= run_min_) return std::make_pair(s, e);
                while (e < n && text[e] == c) ++e;
                s = e;
            }
            return std::nullopt;
        }
        while (s < n) {
            std::uint64_t count = 0;
            const std::size_t e = scan_units(run_unit_, text, s, run_max_, count);
            if (count == 0) {
                s += unit_length(text, s);
                continue;
            }
            if (count >= run_min_) return std::make_pair(s, e);
            s = e;  // every start inside a too-short run is too short as well
        }
        return std::nullopt;
    }

    // ---- matching -----------------------------------------------------------------------------
    static std::size_t unit_length(std::string_view text, std::size_t pos) noexcept {
        const auto* p = reinterpret_cast<const unsigned char*>(text.data());
        if (p[pos] < 0x80) return 1;
        return utf8::decode(p + pos, p + text.size()).length;
    }

    bool class_match(std::uint32_t c, std::string_view text, std::size_t pos, std::size_t& len) const noexcept {
        const auto* p = reinterpret_cast<const unsigned char*>(text.data());
        const unsigned char b = p[pos];
        const char_class& cls = classes_[c];
        if (b < 0x80) {
            len = 1;
            return cls.contains_ascii(b);
        }
        const auto d = utf8::decode(p + pos, p + text.size());
        len = d.length;
        return cls.slow_contains(d.cp);
    }

    // Length of the unit matched at pos (0: no match); requires pos < text.size().
    std::size_t unit_match(const inst& i, std::string_view text, std::size_t pos) const noexcept {
        if (pos >= text.size()) return 0;
        switch (i.unit) {
        case u_literal:
            if (text.size() - pos < i.y || std::memcmp(text.data() + pos, literals_.data() + i.x, i.y) != 0) return 0;
            return i.y;
        case u_class: {
            std::size_t len = 0;
            return class_match(i.x, text, pos, len) ? len : 0;
        }
        case u_any: return text[pos] == '\n' ? 0 : unit_length(text, pos);
        }
        return 0;
    }

    // The end of the longest run of at most `limit` units matching i's unit from pos; `count`
    // receives the number of units.
    std::size_t scan_units(const inst& i, std::string_view text, std::size_t pos, std::uint64_t limit,
                           std::uint64_t& count) const noexcept {
        const auto* p = reinterpret_cast<const unsigned char*>(text.data());
        const std::size_t n = text.size();
        count = 0;
        if (i.unit == u_literal && i.y == 1) {
            const auto c = static_cast<unsigned char>(literals_[i.x]);
            while (pos < n && p[pos] == c && count < limit) ++pos, ++count;
            return pos;
        }
        if (i.unit == u_class) {
            const char_class& cls = classes_[i.x];
            while (pos < n && count < limit) {
                const unsigned char b = p[pos];
                if (b < 0x80) {
                    if (!cls.contains_ascii(b)) break;
                    ++pos;
                } else {
                    const auto d = utf8::decode(p + pos, p + n);
                    if (!cls.slow_contains(d.cp)) break;
                    pos += d.length;
                }
                ++count;
            }
            return pos;
        }
        while (count < limit) {
            const std::size_t len = unit_match(i, text, pos);
            if (len == 0) break;
            pos += len;
            ++count;
        }
        return pos;
    }

    static std::size_t prev_boundary(std::string_view text, std::size_t pos) noexcept {
        const auto* p = reinterpret_cast<const unsigned char*>(text.data());
        for (std::size_t k = 1; k <= 4 && k <= pos; ++k) {
            if ((p[pos - k] & 0xC0) != 0x80) {
                if (k > 1 && utf8::decode(p + pos - k, p + text.size()).length != k) break;
                return pos - k;
            }
        }
        return pos - 1;
    }

    enum frame_kind : std::uint32_t { f_resume, f_star_back, f_star_more };
    struct frame {
        std::uint32_t pc;
        frame_kind kind;
        std::size_t pos;
        std::size_t aux;
    };
    // The memo is position-major and grows on demand, so that its cost follows the positions a
    // search actually reaches, not the length of the text.
    struct workspace {
        std::vector<frame> stack;
        std::vector<std::uint64_t> main_bits;      // visited (pos - base, pc) of the main program
        std::size_t main_touched = 0;              // words of main_bits that may be non-zero
        std::vector<std::uint32_t> look_stamps;    // visited (pos - base, pc) of lookahead bodies
        std::uint32_t stamp = 0;
        std::size_t base = 0;
        bool memo = false;
        std::uint64_t budget = 0;
    };
    static workspace& scratch() {
        static thread_local workspace w;
        return w;
    }

    enum class outcome { no, yes, aborted };

    // True when (pc, pos) was seen before in this run (memo mode), marking it otherwise.
    bool seen(workspace& w, std::uint32_t pc, std::size_t pos, std::uint32_t stamp) const {
        const std::size_t rel = pos - w.base;
        if (region_[pc] == 0) {
            const std::size_t bit = rel * region_size_[0] + slot_[pc];
            const std::size_t wi = bit >> 6;
            if (wi >= w.main_bits.size()) w.main_bits.resize(std::max(wi + 1, 2 * w.main_bits.size()), 0);
            if (wi >= w.main_touched) w.main_touched = wi + 1;
            std::uint64_t& word = w.main_bits[wi];
            const std::uint64_t m = std::uint64_t{1} << (bit & 63);
            if (word & m) return true;
            word |= m;
            return false;
        }
        const std::size_t si = rel * look_total_ + look_offset_[region_[pc]] + slot_[pc];
        if (si >= w.look_stamps.size()) w.look_stamps.resize(std::max(si + 1, 2 * w.look_stamps.size()), 0u);
        std::uint32_t& st = w.look_stamps[si];
        if (st == stamp) return true;
        st = stamp;
        return false;
    }

    outcome run(std::uint32_t pc, std::size_t pos, std::string_view text, workspace& w, std::size_t& end) const {
        const std::size_t n = text.size();
        const std::size_t base = w.stack.size();
        std::uint32_t stamp = 0;
        if (w.memo && region_[pc] != 0) {
            if (++w.stamp == 0) {
                std::fill(w.look_stamps.begin(), w.look_stamps.end(), 0u);
                w.stamp = 1;
            }
            stamp = w.stamp;
        }
        const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
        for (;;) {
            // Follow one thread until it fails.
            bool alive = true;
            while (alive) {
                if (w.budget == 0) {
                    w.stack.resize(base);
                    return outcome::aborted;
                }
                --w.budget;
                if (w.memo && seen(w, pc, pos, stamp)) break;
                const inst& i = program_[pc];
                switch (i.code) {
                case op_literal:
                    if (n - pos >= i.y && bytes[pos] == static_cast<unsigned char>(literals_[i.x]) &&
                        std::memcmp(text.data() + pos, literals_.data() + i.x, i.y) == 0) {
                        pos += i.y;
                        ++pc;
                    } else {
                        alive = false;
                    }
                    break;
                case op_class: {
                    std::size_t len = 0;
                    if (pos < n && class_match(i.x, text, pos, len)) {
                        pos += len;
                        ++pc;
                    } else {
                        alive = false;
                    }
                    break;
                }
                case op_any:
                    if (pos < n && bytes[pos] != '\n') {
                        pos += unit_length(text, pos);
                        ++pc;
                    } else {
                        alive = false;
                    }
                    break;
                case op_star: {
                    if (!i.flag) {  // lazy: try the rest first, one more unit on backtracking
                        w.stack.push_back({pc, f_star_more, pos, 0});
                        ++pc;
                        break;
                    }
                    if (w.memo) {  // one unit at a time, so that the memo sees every position
                        const std::size_t len = unit_match(i, text, pos);
                        if (len == 0) {
                            ++pc;
                        } else {
                            w.stack.push_back({pc + 1, f_resume, pos, 0});
                            pos += len;
                        }
                        break;
                    }
                    const std::size_t start = pos;
                    std::uint64_t count = 0;
                    pos = scan_units(i, text, pos, ~std::uint64_t{0}, count);
                    w.budget -= std::min(w.budget, count);
                    if (pos != start) w.stack.push_back({pc, f_star_back, pos, start});
                    ++pc;
                    break;
                }
                case op_split:
                    if (pos < n ? firsts_[i.first].has(bytes[pos]) : firsts_[i.first].nullable) {
                        w.stack.push_back({i.y, f_resume, pos, 0});
                        pc = i.x;
                    } else if (firsts_[i.first].nullable) {
                        w.stack.push_back({i.y, f_resume, pos, 0});
                        pc = i.x;
                    } else {
                        pc = i.y;
                    }
                    break;
                case op_jmp: pc = i.x; break;
                case op_bol:
                    if (pos == 0 || bytes[pos - 1] == '\n') ++pc;
                    else alive = false;
                    break;
                case op_eol:
                    if (pos == n || bytes[pos] == '\n') ++pc;
                    else alive = false;
                    break;
                case op_bos:
                    if (pos == 0) ++pc;
                    else alive = false;
                    break;
                case op_eos:
                    if (pos == n) ++pc;
                    else alive = false;
                    break;
                case op_eos_nl:
                    if (pos == n || (pos + 1 == n && bytes[pos] == '\n')) ++pc;
                    else alive = false;
                    break;
                case op_look: {
                    std::size_t ignored = 0;
                    const outcome r = run(i.x, pos, text, w, ignored);
                    if (r == outcome::aborted) {
                        w.stack.resize(base);
                        return r;
                    }
                    if ((r == outcome::yes) != i.flag) pc = i.y;
                    else alive = false;
                    break;
                }
                case op_match:
                    end = pos;
                    w.stack.resize(base);
                    return outcome::yes;
                }
            }
            // Backtrack.
            for (;;) {
                if (w.stack.size() == base) return outcome::no;
                frame& f = w.stack.back();
                if (f.kind == f_resume) {
                    pc = f.pc;
                    pos = f.pos;
                    w.stack.pop_back();
                    break;
                }
                if (f.kind == f_star_back) {
                    const std::size_t p = prev_boundary(text, f.pos);
                    pc = f.pc + 1;
                    pos = p;
                    if (p <= f.aux) w.stack.pop_back();
                    else f.pos = p;
                    break;
                }
                // f_star_more
                const inst& i = program_[f.pc];
                const std::size_t len = unit_match(i, text, f.pos);
                const std::uint32_t star_pc = f.pc;
                const std::size_t at = f.pos;
                w.stack.pop_back();
                if (len == 0) continue;
                pc = star_pc;
                pos = at + len;
                break;
            }
        }
    }

    static void enter_memo(workspace& w, std::size_t base) {
        w.memo = true;
        w.base = base;
        std::fill(w.main_bits.begin(), w.main_bits.begin() + static_cast<std::ptrdiff_t>(w.main_touched), 0);
        w.main_touched = 0;
        w.budget = ~std::uint64_t{0};
    }

    std::optional<std::pair<std::size_t, std::size_t>> find_general(std::string_view text, std::size_t from) const {
        workspace& w = scratch();
        const std::size_t n = text.size();
        const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
        w.stack.clear();
        w.memo = false;
        // Real patterns take a few steps per byte; a search that needs many more is going
        // quadratic or worse and continues under the memo, which makes it linear.
        w.budget = 1024 + 16 * static_cast<std::uint64_t>(n - from);
        if (always_memo_) enter_memo(w, from);
        std::size_t s = from;
        for (;;) {
            if (s < n ? start_.has(bytes[s]) || start_.nullable : start_.nullable) {
                std::size_t end = 0;
                outcome r = run(0, s, text, w, end);
                if (r == outcome::aborted) {
                    enter_memo(w, s);
                    r = run(0, s, text, w, end);
                }
                if (r == outcome::yes) return std::make_pair(s, end);
                if (leading_star_) {
                    // Every start inside the run the leading x* just consumed would try a subset of
                    // the continuations that failed from s (results depend on position only).
                    std::uint64_t count = 0;
                    const std::size_t e = scan_units(program_[0], text, s, ~std::uint64_t{0}, count);
                    if (e > s) s = e;
                }
            }
            if (s >= n) return std::nullopt;
            s += unit_length(text, s);
        }
    }

    std::string pattern_;
    std::vector<node> nodes_;
    std::vector<char_class> classes_;
    std::string literals_;
    std::vector<inst> program_;
    std::vector<first_set> firsts_;
    first_set start_;
    std::vector<std::uint32_t> region_, slot_, region_size_;
    std::vector<std::size_t> look_offset_;
    std::size_t look_total_ = 0;
    bool literal_barrier_ = true;
    bool always_memo_ = false;
    bool leading_star_ = false;
    fast_kind fast_ = fast_kind::none;
    inst run_unit_{};
    std::uint32_t run_min_ = 0, run_max_ = 0;

    void finish_regions() {
        look_offset_.assign(region_size_.size(), 0);
        std::size_t total = 0;
        for (std::size_t r = 1; r < region_size_.size(); ++r) {
            look_offset_[r] = total;
            total += region_size_[r];
        }
        look_total_ = total;
    }
};

}  // namespace detail
BYTEPIECE_NAMESPACE_END
