// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bytepiece/detail/base64.hpp"
#include "bytepiece/errors.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail {

/// One entry of a BytePiece JSON model, as read from the file.
struct raw_piece {
    std::string bytes;
    std::uint64_t id;
    std::uint64_t count;
};

// A SAX handler that accepts exactly `{ "<base64>": [id, "text", count], ... }` and nothing
// else. Streaming instead of building a DOM keeps loading the 160k model fast and lean, and a
// state machine rejects hostile nesting at the first wrong token instead of recursing into it.
class model_sax final : public nlohmann::json_sax<nlohmann::json> {
public:
    model_sax(std::string_view source, std::vector<raw_piece>& out) : source_(source), out_(out) {}

    bool null() override { return element("null"); }
    bool boolean(bool) override { return element("a boolean"); }
    bool number_integer(number_integer_t v) override {
        if (state_ == state::want_id || state_ == state::want_count) {
            if (v <= 0 && state_ == state::want_count)
                fail(errc::model_bad_count, "count " + std::to_string(v) + " is not positive");
            if (v < 0) fail(errc::model_bad_ids, "id " + std::to_string(v) + " is negative");
            return number_unsigned(static_cast<number_unsigned_t>(v));
        }
        return element("a number");
    }
    bool number_unsigned(number_unsigned_t v) override {
        if (state_ == state::want_id) {
            out_.back().id = v;
            state_ = state::want_text;
            return true;
        }
        if (state_ == state::want_count) {
            if (v == 0) fail(errc::model_bad_count, "count 0 is not positive");
            out_.back().count = v;
            state_ = state::want_end;
            return true;
        }
        return element("a number");
    }
    bool number_float(number_float_t, const string_t& text) override {
        if (state_ == state::want_count)
            fail(errc::model_bad_count, "count " + text + " is not a positive integer that fits in 64 bits");
        if (state_ == state::want_id) fail(errc::model_bad_ids, "id " + text + " is not an integer");
        return element("a number");
    }
    bool string(string_t&) override {
        if (state_ == state::want_text) {  // display text only: the key is authoritative
            state_ = state::want_count;
            return true;
        }
        return element("a string");
    }
    bool binary(binary_t&) override { return element("binary data"); }
    bool start_object(std::size_t) override {
        if (state_ != state::start) return element("an object");
        state_ = state::want_key;
        return true;
    }
    bool key(string_t& k) override {
        out_.push_back(raw_piece{{}, 0, 0});
        key_ = k;
        if (!base64_decode(k, out_.back().bytes))
            fail(errc::model_bad_base64, "key \"" + printable(k) + "\" is not canonical standard base64");
        if (out_.back().bytes.empty()) fail(errc::model_empty_piece, "key \"" + printable(k) + "\" is an empty piece");
        state_ = state::want_array;
        return true;
    }
    bool end_object() override {
        if (state_ != state::want_key) return element("the end of an object");
        state_ = state::done;
        return true;
    }
    bool start_array(std::size_t) override {
        if (state_ != state::want_array) return element("an array");
        state_ = state::want_id;
        return true;
    }
    bool end_array() override {
        if (state_ != state::want_end) return element("the end of an array");
        state_ = state::want_key;
        return true;
    }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
        std::string what = ex.what();
        // nlohmann prefixes its own id; keep only the human part.
        if (auto p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
        BYTEPIECE_THROW(model_error(errc::model_not_json, std::string(source_) + ": not valid JSON at byte " +
                                                              std::to_string(position) + ": " + what));
    }

private:
    enum class state { start, want_key, want_array, want_id, want_text, want_count, want_end, done };

    static std::string printable(std::string_view s) {
        std::string r;
        for (unsigned char c : s.substr(0, 64)) {
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') r += static_cast<char>(c);
            else {
                static const char hex[] = "0123456789abcdef";
                r += "\\x";
                r += hex[c >> 4];
                r += hex[c & 15];
            }
        }
        if (s.size() > 64) r += "...";
        return r;
    }

    [[noreturn]] void fail(errc code, const std::string& msg) {
        BYTEPIECE_THROW(model_error(code, std::string(source_) + ": " + msg));
    }

    bool element(const char* what) {
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
        if (state_ != state::start && state_ != state::done && !out_.empty())
            msg += "key \"" + printable(key_) + "\": ";
        msg += where + ", found " + what;
        fail(errc::model_bad_shape, msg);
    }

    std::string_view source_;
    std::vector<raw_piece>& out_;
    std::string key_;
    state state_ = state::start;
};

/// Parses a BytePiece JSON model. `source` names the file (or `<memory>`) in error messages.
inline std::vector<raw_piece> parse_model_json(std::string_view json, std::string_view source) {
    std::vector<raw_piece> pieces;
    model_sax sax(source, pieces);
    nlohmann::json::sax_parse(json.begin(), json.end(), &sax, nlohmann::json::input_format_t::json, true);
    return pieces;
}

// Appends `s` as a JSON string the way Python's json.dumps(ensure_ascii=False) writes it, so
// that saved files are byte-identical to the reference's.
inline void append_json_string(std::string_view s, std::string& out) {
    out += '"';
    for (unsigned char c : s) {
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
