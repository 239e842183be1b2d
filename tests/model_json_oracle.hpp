// SPDX-License-Identifier: Apache-2.0
//
// The oracle for the model JSON reader (detail/model_json.hpp): the reader the library had
// before it, a SAX handler on nlohmann/json's strict parser, kept here unchanged so that tests
// and fuzz/fuzz_model_json_diff.cpp compare the two on the same inputs. `compare_readers` says
// how they differ on one input, or nothing.
#pragma once

#include <bytepiece/detail/model_json.hpp>
#include <bytepiece/errors.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace model_json_oracle {

using bytepiece::errc;
using bytepiece::model_error;
using bytepiece::detail::base64_decode;
using bytepiece::detail::raw_piece;

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
        throw model_error(code, std::string(source_) + ": " + msg);
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

/// Parses with nlohmann and the old handler.
inline std::vector<raw_piece> parse(std::string_view json, std::string_view source) {
    std::vector<raw_piece> pieces;
    model_sax sax(source, pieces);
    nlohmann::json::sax_parse(json.begin(), json.end(), &sax, nlohmann::json::input_format_t::json, true);
    return pieces;
}

/// What one reader made of an input: the pieces, or the error's code and message.
struct outcome {
    bool ok = false;
    std::vector<raw_piece> pieces;
    errc code{};
    std::string what;
};

template <class Parse>
outcome run(Parse parse_with, std::string_view json) {
    outcome r;
    try {
        r.pieces = parse_with(json, "m.json");
        r.ok = true;
    } catch (const model_error& e) {
        r.code = e.code();
        r.what = e.what();
    }
    return r;
}

inline outcome run_new(std::string_view json) { return run(bytepiece::detail::parse_model_json, json); }
inline outcome run_old(std::string_view json) { return run(parse, json); }

inline bool same_pieces(const std::vector<raw_piece>& a, const std::vector<raw_piece>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].bytes != b[i].bytes || a[i].id != b[i].id || a[i].count != b[i].count) return false;
    return true;
}

// Whether `ours` equals `theirs` up to the one cut the new reader makes: some excerpt of the
// input shortened to "...", with everything before and after it unchanged.
inline bool same_up_to_excerpt(const std::string& ours, const std::string& theirs) {
    if (ours == theirs) return true;
    for (std::size_t at = ours.find("..."); at != std::string::npos; at = ours.find("...", at + 1)) {
        const std::string before = ours.substr(0, at), after = ours.substr(at + 3);
        if (theirs.size() > ours.size() && theirs.compare(0, before.size(), before) == 0 &&
            theirs.compare(theirs.size() - after.size(), after.size(), after) == 0)
            return true;
    }
    return false;
}

/// How the new reader's outcome on `json` differs from the old one's; empty when it does not.
/// One difference is by design: a NUL byte after the top-level value, which nlohmann takes for
/// the end of the input, is refused; the input cut at that NUL must then read alike.
inline std::string compare_readers(std::string_view json) {
    const outcome ours = run_new(json);
    outcome theirs = run_old(json);
    // nlohmann 3.11.3 words an empty input differently from 3.11.2, which the reader follows.
    const std::string empty = "attempting to parse an empty input; check that your input string or stream contains "
                              "the expected JSON";
    if (const auto at = theirs.what.find(empty); at != std::string::npos)
        theirs.what.replace(at, empty.size(),
                            "syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal");
    if (ours.ok && theirs.ok) return same_pieces(ours.pieces, theirs.pieces) ? "" : "both accept, pieces differ";
    if (ours.ok) return "new accepts, old refuses: " + theirs.what;
    if (theirs.ok) {
        const std::string marker = "unexpected NUL byte after the top-level value";
        const auto nul = json.find('\0');
        if (ours.code != errc::model_not_json || ours.what.find(marker) == std::string::npos || nul == json.npos)
            return "new refuses, old accepts: " + ours.what;
        const std::string cut = compare_readers(json.substr(0, nul));
        return cut.empty() ? "" : "cut at the NUL: " + cut;
    }
    if (ours.code != theirs.code || !same_up_to_excerpt(ours.what, theirs.what))
        return "different errors:\n  new: " + ours.what + "\n  old: " + theirs.what;
    return "";
}

}  // namespace model_json_oracle
