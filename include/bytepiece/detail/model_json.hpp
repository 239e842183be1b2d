// SPDX-License-Identifier: Apache-2.0
//
// Reading and writing the BytePiece JSON model format, `{"<base64 piece>": [id, "text", count], ...}`.
//
// The reader parses exactly this shape by hand instead of going through a general JSON library:
// nlohmann/json.hpp and its SAX parser were over a third of the compile time of every
// translation unit that loads a model (see scripts/compile_time.sh). It behaves like the strict
// SAX parser of nlohmann/json 3.11.2 that the library used before, so that models and error
// reports stay as they were: the same documents are accepted (any whitespace, a leading UTF-8
// byte order mark, every escape including surrogate pairs, every number form), the same ones
// are refused with the same `errc` and message, and a document that is not JSON is reported at
// the same byte, line and column, with the same words. Two differences, both deliberate: a NUL
// byte after the top-level object is refused (nlohmann stops reading at a NUL, so anything
// after one was silently ignored), and excerpts of the input in messages longer than 80 bytes
// are cut to 64 (the "last read" of a syntax error to its last 64, a number to its first 64).
// tests/test_model_json.cpp and fuzz/fuzz_model_json_diff.cpp check the equivalence against
// nlohmann itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bytepiece/detail/base64.hpp"
#include "bytepiece/errors.hpp"

// Error paths: built out of line and optimized for size, since they run once per refused
// model. Built inline, they took about 40% of the reader's compile time (GCC 12, -O2).
#ifndef BYTEPIECE_COLD
#if defined(__GNUC__)
#define BYTEPIECE_COLD __attribute__((cold, noinline))
#else
#define BYTEPIECE_COLD
#endif
#endif

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// One entry of a BytePiece JSON model, as read from the file.
struct raw_piece {
    std::string bytes;
    std::uint64_t id;
    std::uint64_t count;
};

// A strict JSON reader that accepts exactly `{ "<base64>": [id, "text", count], ... }`. It
// streams: the pieces are decoded as they are read, and a state machine rejects anything else
// at the first wrong token, so hostile nesting costs nothing. The parse loop follows the order
// in which nlohmann's parser reads tokens and reports events (a key is judged before its colon
// is read, a number is read in full before its place is judged), because that order decides
// which error a broken document gets.
class model_json_reader {
public:
    model_json_reader(std::string_view json, std::string_view source, std::vector<raw_piece>& out)
        : data_(reinterpret_cast<const unsigned char*>(json.data())), size_(json.size()), source_(source), out_(out) {}

    void parse() {
        token t = scan();
        bool in_array[2] = {};  // the open containers; the shape allows two levels
        std::size_t depth = 0;
        bool closed = false;  // a container just closed: go straight to what follows it
        for (;;) {
            if (!closed) {
                switch (t) {
                    case token::begin_object:
                        start_object();
                        if ((t = scan()) == token::end_object) {
                            end_object();
                            break;
                        }
                        if (t != token::value_string) syntax_error(t, token::value_string, "object key");
                        key();
                        if ((t = scan()) != token::name_separator)
                            syntax_error(t, token::name_separator, "object separator");
                        push(in_array, depth, false);
                        t = scan();
                        continue;
                    case token::begin_array:
                        start_array();
                        if ((t = scan()) == token::end_array) {
                            end_array();
                            break;
                        }
                        push(in_array, depth, true);
                        continue;
                    case token::value_float:
                        if (!float_finite_) fail_not_json("number overflow parsing '" + number_text() + "'");
                        number_float();
                        break;
                    case token::literal_true:
                    case token::literal_false: element("a boolean"); break;
                    case token::literal_null: element("null"); break;
                    case token::value_integer: number_integer(integer_); break;
                    case token::value_unsigned: number_unsigned(unsigned_); break;
                    case token::value_string: string_value(); break;
                    case token::parse_error: syntax_error(t, token::uninitialized, "value"); break;
                    default: syntax_error(t, token::literal_or_value, "value"); break;
                }
            }
            closed = false;
            if (depth == 0) break;
            if (in_array[depth - 1]) {
                if ((t = scan()) == token::value_separator) {
                    t = scan();
                    continue;
                }
                if (t != token::end_array) syntax_error(t, token::end_array, "array");
                end_array();
                --depth;
                closed = true;
                continue;
            }
            if ((t = scan()) == token::value_separator) {
                if ((t = scan()) != token::value_string) syntax_error(t, token::value_string, "object key");
                key();
                if ((t = scan()) != token::name_separator) syntax_error(t, token::name_separator, "object separator");
                t = scan();
                continue;
            }
            if (t != token::end_object) syntax_error(t, token::end_object, "object");
            end_object();
            --depth;
            closed = true;
        }
        if ((t = scan()) != token::end_of_input) syntax_error(t, token::end_of_input, "value");
        if (ended_at_nul_)
            fail_not_json(position_text() +
                          "syntax error while parsing value - unexpected NUL byte after the top-level value; expected "
                          "end of input");
    }

private:
    enum class token : unsigned char {
        uninitialized, literal_true, literal_false, literal_null, value_string, value_unsigned, value_integer,
        value_float, begin_array, begin_object, end_array, end_object, name_separator, value_separator,
        parse_error, end_of_input, literal_or_value
    };
    enum class state : unsigned char { start, want_key, want_array, want_id, want_text, want_count, want_end, done };

    static const char* token_name(token t) noexcept {
        switch (t) {
            case token::uninitialized: return "<uninitialized>";
            case token::literal_true: return "true literal";
            case token::literal_false: return "false literal";
            case token::literal_null: return "null literal";
            case token::value_string: return "string literal";
            case token::value_unsigned:
            case token::value_integer:
            case token::value_float: return "number literal";
            case token::begin_array: return "'['";
            case token::begin_object: return "'{'";
            case token::end_array: return "']'";
            case token::end_object: return "'}'";
            case token::name_separator: return "':'";
            case token::value_separator: return "','";
            case token::parse_error: return "<parse error>";
            case token::end_of_input: return "end of input";
            case token::literal_or_value: return "'[', '{', or a literal";
        }
        return "unknown token";
    }

    void push(bool* in_array, std::size_t& depth, bool array) {
        // start_object and start_array refuse any deeper nesting before this is reached.
        if (depth == 2) element("a container nested too deep");
        in_array[depth++] = array;
    }

    // --- Lexer -------------------------------------------------------------------------------
    // Positions count characters read the way nlohmann's lexer does: the byte that ends a
    // token or stops it with an error is counted, the byte after a number is not (it is only
    // peeked at), and the end of the input counts as one character once it has been read.

    int get() noexcept {
        if (pos_ < size_) return data_[pos_++];
        at_end_ = true;
        return -1;
    }
    int peek() const noexcept { return pos_ < size_ ? data_[pos_] : -1; }
    std::size_t position() const noexcept { return pos_ + (at_end_ ? 1 : 0); }
    static bool is_digit(int c) noexcept { return c >= '0' && c <= '9'; }

    BYTEPIECE_COLD token lex_error(std::string message) {
        lex_error_ = std::move(message);
        return token::parse_error;
    }

    token scan() {
        if (position() == 0 && peek() == 0xEF) {
            ++pos_;
            if (get() != 0xBB || get() != 0xBF) return lex_error("invalid BOM; must be 0xEF 0xBB 0xBF if given");
        }
        int c;
        do c = get();
        while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
        after_number_ = false;
        switch (c) {
            case '[': return token::begin_array;
            case ']': return token::end_array;
            case '{': return token::begin_object;
            case '}': return token::end_object;
            case ':': return token::name_separator;
            case ',': return token::value_separator;
            case 't': return literal("rue", token::literal_true);
            case 'f': return literal("alse", token::literal_false);
            case 'n': return literal("ull", token::literal_null);
            case '"': return scan_string();
            case '-':
            case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9': {
                const token t = scan_number(c);
                after_number_ = t != token::parse_error;
                return t;
            }
            case 0:  // nlohmann reads a NUL byte as the end of the input
                ended_at_nul_ = true;
                return token::end_of_input;
            case -1: return token::end_of_input;
            default: return lex_error("invalid literal");
        }
    }

    token literal(const char* rest, token t) {
        for (; *rest; ++rest)
            if (get() != static_cast<unsigned char>(*rest)) return lex_error("invalid literal");
        return t;
    }

    // Reads a string after its opening quote. string_ is its decoded value: a view of the
    // input when it holds no escape, else of buffer_.
    token scan_string() {
        token_start_ = pos_ - 1;
        std::size_t segment = pos_;  // start of the bytes not yet copied to buffer_
        bool escaped = false;
        for (;;) {
            // Plain ASCII, the bulk of every model, in a tight loop.
            while (pos_ < size_) {
                const unsigned char b = data_[pos_];
                if (b < 0x20 || b >= 0x80 || b == '"' || b == '\\') break;
                ++pos_;
            }
            const int c = get();
            if (c == '"') {
                const auto* raw = reinterpret_cast<const char*>(data_);
                string_escaped_ = escaped;
                if (!escaped) {
                    string_ = std::string_view(raw + segment, pos_ - 1 - segment);
                } else {
                    buffer_.append(raw + segment, pos_ - 1 - segment);
                    string_ = buffer_;
                }
                return token::value_string;
            }
            if (c == '\\') {
                if (!escaped) buffer_.clear();
                escaped = true;
                buffer_.append(reinterpret_cast<const char*>(data_) + segment, pos_ - 1 - segment);
                if (!scan_escape()) return token::parse_error;
                segment = pos_;
                continue;
            }
            if (c == -1) return lex_error("invalid string: missing closing quote");
            if (c < 0x20) return lex_error(control_character_message(c));
            if (!scan_utf8_tail(c)) return lex_error("invalid string: ill-formed UTF-8 byte");
        }
    }

    // The bytes after a UTF-8 lead byte `c`, checked against the well-formed ranges of
    // Unicode's table 3-7 one at a time, so that an error is placed at the byte at fault.
    bool scan_utf8_tail(int c) {
        const auto in = [this](int lo, int hi) {
            const int b = get();
            return b >= lo && b <= hi;
        };
        if (c >= 0xC2 && c <= 0xDF) return in(0x80, 0xBF);
        if (c == 0xE0) return in(0xA0, 0xBF) && in(0x80, 0xBF);
        if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return in(0x80, 0xBF) && in(0x80, 0xBF);
        if (c == 0xED) return in(0x80, 0x9F) && in(0x80, 0xBF);
        if (c == 0xF0) return in(0x90, 0xBF) && in(0x80, 0xBF) && in(0x80, 0xBF);
        if (c >= 0xF1 && c <= 0xF3) return in(0x80, 0xBF) && in(0x80, 0xBF) && in(0x80, 0xBF);
        if (c == 0xF4) return in(0x80, 0x8F) && in(0x80, 0xBF) && in(0x80, 0xBF);
        return false;  // 80..C1 and F5..FF never start a character
    }

    BYTEPIECE_COLD static std::string control_character_message(int c) {
        static const char* const names[32] = {"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL",
                                              "BS",  "HT",  "LF",  "VT",  "FF",  "CR",  "SO",  "SI",
                                              "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB",
                                              "CAN", "EM",  "SUB", "ESC", "FS",  "GS",  "RS",  "US"};
        static const char hex[] = "0123456789ABCDEF";
        const std::string code = std::string("U+00") + hex[c >> 4] + hex[c & 15];
        std::string m = "invalid string: control character " + code + " (" + names[c] + ") must be escaped to \\u" +
                        code.substr(2);
        switch (c) {
            case '\b': m += " or \\b"; break;
            case '\t': m += " or \\t"; break;
            case '\n': m += " or \\n"; break;
            case '\f': m += " or \\f"; break;
            case '\r': m += " or \\r"; break;
            default: break;
        }
        return m;
    }

    // The four hex digits after `\u`, or -1 at the first character that is not one.
    int hex4() {
        int v = 0;
        for (int i = 0; i < 4; ++i) {
            const int c = get();
            int d;
            if (c >= '0' && c <= '9') d = c - '0';
            else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
            else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
            else return -1;
            v = v << 4 | d;
        }
        return v;
    }

    BYTEPIECE_COLD bool escape_error(const char* message) {
        lex_error_ = message;
        return false;
    }

    // One escape after its backslash, decoded into buffer_.
    bool scan_escape() {
        const int c = get();
        switch (c) {
            case '"': buffer_ += '"'; return true;
            case '\\': buffer_ += '\\'; return true;
            case '/': buffer_ += '/'; return true;
            case 'b': buffer_ += '\b'; return true;
            case 'f': buffer_ += '\f'; return true;
            case 'n': buffer_ += '\n'; return true;
            case 'r': buffer_ += '\r'; return true;
            case 't': buffer_ += '\t'; return true;
            case 'u': break;
            default: return escape_error("invalid string: forbidden character after backslash");
        }
        const char* const bad_hex = "invalid string: '\\u' must be followed by 4 hex digits";
        const char* const lone_high = "invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF";
        long cp = hex4();
        if (cp < 0) return escape_error(bad_hex);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (get() != '\\' || get() != 'u') return escape_error(lone_high);
            const int low = hex4();
            if (low < 0) return escape_error(bad_hex);
            if (low < 0xDC00 || low > 0xDFFF) return escape_error(lone_high);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return escape_error("invalid string: surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF");
        }
        const auto byte = [this](long v) { buffer_ += static_cast<char>(v); };
        if (cp < 0x80) {
            byte(cp);
        } else if (cp < 0x800) {
            byte(0xC0 | cp >> 6);
            byte(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            byte(0xE0 | cp >> 12);
            byte(0x80 | (cp >> 6 & 0x3F));
            byte(0x80 | (cp & 0x3F));
        } else {
            byte(0xF0 | cp >> 18);
            byte(0x80 | (cp >> 12 & 0x3F));
            byte(0x80 | (cp >> 6 & 0x3F));
            byte(0x80 | (cp & 0x3F));
        }
        return true;
    }

    // Reads a number whose first character `c` has been read. JSON's grammar first; then, as
    // nlohmann does, a number without fraction or exponent is an integer if it fits 64 bits
    // (unsigned, or signed when negative) and a double otherwise.
    token scan_number(int c) {
        token_start_ = number_begin_ = pos_ - 1;
        const bool negative = c == '-';
        if (negative && !is_digit(c = get())) return lex_error("invalid number; expected digit after '-'");
        if (c != '0')
            while (is_digit(peek())) ++pos_;
        bool integral = true;
        if (peek() == '.') {
            ++pos_;
            integral = false;
            if (!is_digit(get())) return lex_error("invalid number; expected digit after '.'");
            while (is_digit(peek())) ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++pos_;
            integral = false;
            c = get();
            if (c == '+' || c == '-') {
                if (!is_digit(get())) return lex_error("invalid number; expected digit after exponent sign");
            } else if (!is_digit(c)) {
                return lex_error("invalid number; expected '+', '-', or digit after exponent");
            }
            while (is_digit(peek())) ++pos_;
        }
        if (integral) {
            std::uint64_t v = 0;
            bool fits = true;
            for (std::size_t i = number_begin_ + (negative ? 1 : 0); i < pos_ && fits; ++i) {
                const auto d = static_cast<unsigned>(data_[i] - '0');
                fits = v <= (UINT64_MAX - d) / 10;
                v = v * 10 + d;
            }
            if (fits && !negative) {
                unsigned_ = v;
                return token::value_unsigned;
            }
            if (fits && v <= std::uint64_t{1} << 63) {
                integer_ = v == std::uint64_t{1} << 63 ? INT64_MIN : -static_cast<std::int64_t>(v);
                return token::value_integer;
            }
        }
        float_finite_ = finite_as_double();
        return token::value_float;
    }

    // The number just read, as written; past 80 bytes cut to its first 64, so that a hostile
    // megabyte of digits does not end up in a message.
    BYTEPIECE_COLD std::string number_text() const {
        const std::size_t n = pos_ - number_begin_;
        std::string r(reinterpret_cast<const char*>(data_) + number_begin_, n <= 80 ? n : 64);
        if (n > 80) r += "...";
        return r;
    }

    // Whether the number just read converts to a finite double. The nearest double is taken
    // (as strtod does, which nlohmann calls), so the limit is the midpoint between DBL_MAX and
    // 2^1024, 2^1024 - 2^970, at and above which it rounds to infinity. The number is compared
    // with that limit digit by digit, which needs neither strtod nor the C locale.
    BYTEPIECE_COLD bool finite_as_double() const {
        static const char limit[] =
            "1797693134862315807937289714053034150799341327100378269361737789804449682927647509466490179775872070963"
            "3028641669288791094655554785194040263065748867150582068190890200070838367627385484581771153176447573027"
            "0069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
        constexpr std::size_t limit_digits = sizeof limit - 1;
        static_assert(limit_digits == 309, "2^1024 - 2^970 has 309 digits");
        const char* p = reinterpret_cast<const char*>(data_) + number_begin_;
        const char* const end = reinterpret_cast<const char*>(data_) + pos_;
        if (*p == '-') ++p;
        std::int64_t integer_digits = 0;
        for (const char* q = p; q != end && is_digit(*q); ++q) ++integer_digits;
        // The digits from the first nonzero one, and the power of ten of that one.
        std::string digits;
        std::int64_t power = 0, index = 0;
        for (; p != end && *p != 'e' && *p != 'E'; ++p) {
            if (*p == '.') continue;
            if (digits.empty() && *p != '0') power = integer_digits - 1 - index;
            if ((!digits.empty() || *p != '0') && digits.size() < limit_digits) digits += *p;
            ++index;
        }
        if (digits.empty()) return true;  // zero
        // Saturated at 10^17 or so: far beyond any power a number in memory can offset.
        std::int64_t exponent = 0;
        if (p != end) {
            ++p;
            bool minus = false;
            if (*p == '+' || *p == '-') minus = *p++ == '-';
            for (; p != end; ++p)
                if (exponent < std::int64_t{10000000000000000}) exponent = exponent * 10 + (*p - '0');
            if (minus) exponent = -exponent;
        }
        power += exponent;
        if (power != 308) return power < 308;
        for (std::size_t i = 0; i < limit_digits; ++i) {
            const char d = i < digits.size() ? digits[i] : '0';
            if (d != limit[i]) return d < limit[i];
        }
        return false;  // exactly the midpoint: rounds to even, which is infinity
    }

    // --- Errors ------------------------------------------------------------------------------

    // "parse error at line L, column C: ", where nlohmann puts the position it reports.
    BYTEPIECE_COLD std::string position_text() const {
        const std::size_t p = position();
        const std::size_t read = p < size_ ? p : size_;
        std::size_t line = 1, line_start = 0;
        for (std::size_t i = 0; i < read; ++i)
            if (data_[i] == '\n') ++line, line_start = i + 1;
        // nlohmann reads the byte after a number and puts it back; when that byte is a line
        // feed, putting it back leaves the column at 0.
        const std::size_t column = after_number_ && pos_ < size_ && data_[pos_] == '\n' ? 0 : p - line_start;
        return "parse error at line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
    }

    // What the lexer read since the start of the last string or number (nlohmann's "last
    // read"), control characters as <U+XXXX>, cut to its last bytes.
    BYTEPIECE_COLD std::string last_read() const {
        constexpr std::size_t keep = 64;
        const std::size_t end = position() < size_ ? position() : size_;
        std::size_t begin = token_start_ < end ? token_start_ : end;
        std::string r;
        if (end - begin > keep + 16) {
            begin = end - keep;
            r = "...";
        }
        static const char hex[] = "0123456789ABCDEF";
        for (std::size_t i = begin; i < end; ++i) {
            const unsigned char b = data_[i];
            if (b <= 0x1F) {
                r += "<U+00";
                r += hex[b >> 4];
                r += hex[b & 15];
                r += '>';
            } else {
                r += static_cast<char>(b);
            }
        }
        return r;
    }

    [[noreturn]] BYTEPIECE_COLD void syntax_error(token got, token expected, const char* context) {
        std::string m = position_text() + "syntax error while parsing " + context + " - ";
        if (got == token::parse_error) m += lex_error_ + "; last read: '" + last_read() + "'";
        else m += std::string("unexpected ") + token_name(got);
        if (expected != token::uninitialized) m += std::string("; expected ") + token_name(expected);
        fail_not_json(m);
    }

    [[noreturn]] BYTEPIECE_COLD void fail_not_json(const std::string& what) {
        BYTEPIECE_THROW(model_error(errc::model_not_json, std::string(source_) + ": not valid JSON at byte " +
                                                              std::to_string(position()) + ": " + what));
    }

    [[noreturn]] BYTEPIECE_COLD void fail(errc code, const std::string& msg) {
        BYTEPIECE_THROW(model_error(code, std::string(source_) + ": " + msg));
    }

    // --- The model's shape -------------------------------------------------------------------
    // One function per JSON event, each accepting it only where the shape allows it.

    void number_integer(std::int64_t v) {
        if (state_ == state::want_id || state_ == state::want_count) {
            if (v <= 0 && state_ == state::want_count)
                fail(errc::model_bad_count, "count " + std::to_string(v) + " is not positive");
            if (v < 0) fail(errc::model_bad_ids, "id " + std::to_string(v) + " is negative");
            return number_unsigned(static_cast<std::uint64_t>(v));
        }
        element("a number");
    }
    void number_unsigned(std::uint64_t v) {
        if (state_ == state::want_id) {
            out_.back().id = v;
            state_ = state::want_text;
            return;
        }
        if (state_ == state::want_count) {
            if (v == 0) fail(errc::model_bad_count, "count 0 is not positive");
            out_.back().count = v;
            state_ = state::want_end;
            return;
        }
        element("a number");
    }
    void number_float() {
        if (state_ == state::want_count)
            fail(errc::model_bad_count, "count " + number_text() + " is not a positive integer that fits in 64 bits");
        if (state_ == state::want_id) fail(errc::model_bad_ids, "id " + number_text() + " is not an integer");
        element("a number");
    }
    void string_value() {
        if (state_ != state::want_text) element("a string");
        state_ = state::want_count;  // display text only: the key is authoritative
    }
    void start_object() {
        if (state_ != state::start) element("an object");
        state_ = state::want_key;
    }
    void key() {
        out_.push_back(raw_piece{{}, 0, 0});
        // The view must outlive the display string, which reuses buffer_.
        if (string_escaped_) {
            key_storage_ = buffer_;
            key_ = key_storage_;
        } else {
            key_ = string_;
        }
        if (!base64_decode(key_, out_.back().bytes))
            fail(errc::model_bad_base64, "key \"" + printable(key_) + "\" is not canonical standard base64");
        if (out_.back().bytes.empty()) fail(errc::model_empty_piece, "key \"" + printable(key_) + "\" is an empty piece");
        state_ = state::want_array;
    }
    void end_object() {
        if (state_ != state::want_key) element("the end of an object");
        state_ = state::done;
    }
    void start_array() {
        if (state_ != state::want_array) element("an array");
        state_ = state::want_id;
    }
    void end_array() {
        if (state_ != state::want_end) element("the end of an array");
        state_ = state::want_key;
    }

    BYTEPIECE_COLD static std::string printable(std::string_view s) {
        std::string r;
        for (const char ch : s.substr(0, 64)) {
            const auto c = static_cast<unsigned char>(ch);
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
                r += static_cast<char>(c);
            } else {
                static const char hex[] = "0123456789abcdef";
                r += "\\x";
                r += hex[c >> 4];
                r += hex[c & 15];
            }
        }
        if (s.size() > 64) r += "...";
        return r;
    }

    [[noreturn]] BYTEPIECE_COLD void element(const char* what) {
        std::string where;
        switch (state_) {
            case state::start: where = "the top level must be an object"; break;
            case state::want_key: where = "expected a key or the end of the object"; break;
            case state::want_array: where = "the value must be an array [id, text, count]"; break;
            case state::want_id: where = "element 0 must be the integer id"; break;
            case state::want_text: where = "element 1 must be the display string"; break;
            case state::want_count: where = "element 2 must be the integer count"; break;
            case state::want_end: where = "the array must have exactly 3 elements"; break;
            case state::done: where = "nothing may follow the top-level object"; break;
        }
        std::string msg;  // fail() prefixes the source
        if (state_ != state::start && state_ != state::done && !out_.empty()) msg += "key \"" + printable(key_) + "\": ";
        msg += where + ", found " + what;
        fail(errc::model_bad_shape, msg);
    }

    const unsigned char* data_;
    std::size_t size_;
    std::string_view source_;
    std::vector<raw_piece>& out_;

    std::size_t pos_ = 0;         // bytes read
    bool at_end_ = false;         // the end of the input has been read (and counts as a character)
    bool ended_at_nul_ = false;   // the last end_of_input was a NUL byte
    std::size_t token_start_ = 0; // where "last read" starts
    bool after_number_ = false;   // the last token read is a number
    std::string lex_error_;
    std::string_view string_;     // the last string token, decoded
    std::string buffer_;          // its bytes when it held escapes
    bool string_escaped_ = false; // string_ views buffer_, not the input
    std::size_t number_begin_ = 0;
    std::uint64_t unsigned_ = 0;
    std::int64_t integer_ = 0;
    bool float_finite_ = true;

    std::string_view key_;        // the current entry's key, for messages
    std::string key_storage_;     // its bytes when it held escapes
    state state_ = state::start;
};

/// Parses a BytePiece JSON model. `source` names the file (or `<memory>`) in error messages.
inline std::vector<raw_piece> parse_model_json(std::string_view json, std::string_view source) {
    std::vector<raw_piece> pieces;
    model_json_reader(json, source, pieces).parse();
    return pieces;
}

// Appends `s` as a JSON string the way Python's json.dumps(ensure_ascii=False) writes it, so
// that saved files are byte-identical to the reference's.
inline void append_json_string(std::string_view s, std::string& out) {
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    static const char hex[] = "0123456789abcdef";
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

}  // namespace detail
BYTEPIECE_NAMESPACE_END
