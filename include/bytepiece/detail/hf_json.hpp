// SPDX-License-Identifier: Apache-2.0
//
// Reading a Hugging Face `tokenizer.json`: the JSON document with its numbers read as HF reads
// them, and a cursor over it whose errors name the file and the key path of what is wrong.
//
// HF tokenizers parses the file with serde_json's default number parser, which is not correctly
// rounding: a decimal with a fraction or exponent becomes its first 19-20 significant digits as
// an integer, converted to double, then multiplied or divided once by a correctly rounded power
// of ten (two roundings). About a quarter of the shortest-decimal scores in real files come out
// one ulp away from the nearest double, and ties between segmentations are decided by the last
// bits, so exact ids need the same two roundings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bytepiece/errors.hpp"

BYTEPIECE_NAMESPACE_BEGIN
namespace detail::hf_json {

/// The double serde_json (without its float_roundtrip feature) reads from the JSON number
/// `literal`, or nothing if it refuses it (out of range, or not a number).
///
/// Example: `serde_number("-9.58974838256836")` is the double HF gives that score.
inline std::optional<double> serde_number(std::string_view literal) noexcept {
    static constexpr double pow10[309] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29,
    1e30, 1e31, 1e32, 1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39,
    1e40, 1e41, 1e42, 1e43, 1e44, 1e45, 1e46, 1e47, 1e48, 1e49,
    1e50, 1e51, 1e52, 1e53, 1e54, 1e55, 1e56, 1e57, 1e58, 1e59,
    1e60, 1e61, 1e62, 1e63, 1e64, 1e65, 1e66, 1e67, 1e68, 1e69,
    1e70, 1e71, 1e72, 1e73, 1e74, 1e75, 1e76, 1e77, 1e78, 1e79,
    1e80, 1e81, 1e82, 1e83, 1e84, 1e85, 1e86, 1e87, 1e88, 1e89,
    1e90, 1e91, 1e92, 1e93, 1e94, 1e95, 1e96, 1e97, 1e98, 1e99,
    1e100, 1e101, 1e102, 1e103, 1e104, 1e105, 1e106, 1e107, 1e108, 1e109,
    1e110, 1e111, 1e112, 1e113, 1e114, 1e115, 1e116, 1e117, 1e118, 1e119,
    1e120, 1e121, 1e122, 1e123, 1e124, 1e125, 1e126, 1e127, 1e128, 1e129,
    1e130, 1e131, 1e132, 1e133, 1e134, 1e135, 1e136, 1e137, 1e138, 1e139,
    1e140, 1e141, 1e142, 1e143, 1e144, 1e145, 1e146, 1e147, 1e148, 1e149,
    1e150, 1e151, 1e152, 1e153, 1e154, 1e155, 1e156, 1e157, 1e158, 1e159,
    1e160, 1e161, 1e162, 1e163, 1e164, 1e165, 1e166, 1e167, 1e168, 1e169,
    1e170, 1e171, 1e172, 1e173, 1e174, 1e175, 1e176, 1e177, 1e178, 1e179,
    1e180, 1e181, 1e182, 1e183, 1e184, 1e185, 1e186, 1e187, 1e188, 1e189,
    1e190, 1e191, 1e192, 1e193, 1e194, 1e195, 1e196, 1e197, 1e198, 1e199,
    1e200, 1e201, 1e202, 1e203, 1e204, 1e205, 1e206, 1e207, 1e208, 1e209,
    1e210, 1e211, 1e212, 1e213, 1e214, 1e215, 1e216, 1e217, 1e218, 1e219,
    1e220, 1e221, 1e222, 1e223, 1e224, 1e225, 1e226, 1e227, 1e228, 1e229,
    1e230, 1e231, 1e232, 1e233, 1e234, 1e235, 1e236, 1e237, 1e238, 1e239,
    1e240, 1e241, 1e242, 1e243, 1e244, 1e245, 1e246, 1e247, 1e248, 1e249,
    1e250, 1e251, 1e252, 1e253, 1e254, 1e255, 1e256, 1e257, 1e258, 1e259,
    1e260, 1e261, 1e262, 1e263, 1e264, 1e265, 1e266, 1e267, 1e268, 1e269,
    1e270, 1e271, 1e272, 1e273, 1e274, 1e275, 1e276, 1e277, 1e278, 1e279,
    1e280, 1e281, 1e282, 1e283, 1e284, 1e285, 1e286, 1e287, 1e288, 1e289,
    1e290, 1e291, 1e292, 1e293, 1e294, 1e295, 1e296, 1e297, 1e298, 1e299,
    1e300, 1e301, 1e302, 1e303, 1e304, 1e305, 1e306, 1e307, 1e308,
    };
    std::size_t p = 0;
    const std::size_t n = literal.size();
    const auto digit = [&](std::size_t i) { return i < n && literal[i] >= '0' && literal[i] <= '9'; };
    // significand * 10 + d would exceed u64.
    const auto overflows = [](std::uint64_t s, unsigned d) {
        constexpr std::uint64_t max = ~std::uint64_t{0};
        return s >= max / 10 && (s > max / 10 || d > max % 10);
    };
    const bool positive = !(p < n && literal[p] == '-');
    if (!positive) ++p;
    if (!digit(p)) return std::nullopt;
    std::uint64_t significand = 0;
    std::int64_t exponent = 0;
    bool is_float = false;
    if (literal[p] == '0') {
        ++p;
        if (digit(p)) return std::nullopt;  // one leading zero only
    } else {
        while (digit(p)) {
            const auto d = static_cast<unsigned>(literal[p] - '0');
            if (overflows(significand, d)) {
                // An integer too long for u64: the digits past it only scale it.
                is_float = true;
                for (; digit(p); ++p) ++exponent;
                break;
            }
            significand = significand * 10 + d;
            ++p;
        }
    }
    if (p < n && literal[p] == '.') {
        is_float = true;
        ++p;
        if (!digit(p)) return std::nullopt;
        bool dropping = false;  // digits past a full u64 are dropped
        for (; digit(p); ++p) {
            const auto d = static_cast<unsigned>(literal[p] - '0');
            if (dropping || overflows(significand, d)) {
                dropping = true;
                continue;
            }
            significand = significand * 10 + d;
            --exponent;
        }
    }
    if (p < n && (literal[p] == 'e' || literal[p] == 'E')) {
        is_float = true;
        ++p;
        bool positive_exponent = true;
        if (p < n && (literal[p] == '+' || literal[p] == '-')) positive_exponent = literal[p++] == '+';
        if (!digit(p)) return std::nullopt;
        std::int64_t e = 0;
        for (; digit(p); ++p) {
            const int d = literal[p] - '0';
            if (e > (std::int64_t{0x7FFFFFFF} - d) / 10) {
                // An exponent beyond i32: zero, or out of range if it would be infinite.
                if (significand != 0 && positive_exponent) return std::nullopt;
                return positive ? 0.0 : -0.0;
            }
            e = e * 10 + d;
        }
        exponent += positive_exponent ? e : -e;
    }
    if (p != n) return std::nullopt;
    if (!is_float) {
        // Integers are exact in u64 or i64 and converted once.
        const double v = static_cast<double>(significand);
        return positive ? v : -v;
    }
    double f = static_cast<double>(significand);
    for (;;) {
        const std::uint64_t magnitude = static_cast<std::uint64_t>(exponent < 0 ? -exponent : exponent);
        if (magnitude < 309) {
            if (exponent >= 0) {
                f *= pow10[magnitude];
                if (f > 1.7976931348623157e308) return std::nullopt;
            } else {
                f /= pow10[magnitude];
            }
            break;
        }
        if (f == 0) break;
        if (exponent >= 0) return std::nullopt;
        f /= 1e308;
        exponent += 308;
    }
    return positive ? f : -f;
}

/// Parses a whole tokenizer.json. Numbers with a fraction or exponent are read by
/// `serde_number`; integers stay integers. An object with a key twice is refused, as HF's
/// deserializer refuses a field twice. Throws `model_error` (`model_hf_malformed`) naming
/// `source`, the line and the column.
///
/// Example: `nlohmann::json j = detail::hf_json::parse(bytes, "tokenizer.json");`
nlohmann::json parse(std::string_view bytes, const std::string& source);

/// A value of a parsed tokenizer.json and its key path (`model.vocab[17][1]`), for reading
/// with errors that name the file and the path. Holds references: the document and the
/// source name must outlive it.
///
/// Example: `hf_json::cursor root(j, "tokenizer.json"); double s = root.at("model").at("vocab")[0][1].number();`
class cursor {
public:
    cursor(const nlohmann::json& value, const std::string& source, std::string path = {})
        : value_(&value), source_(&source), path_(std::move(path)) {}
    cursor(const nlohmann::json&, std::string&&, std::string = {}) = delete;  // the source must outlive the cursor

    const nlohmann::json& json() const noexcept { return *value_; }
    const std::string& source() const noexcept { return *source_; }
    /// The key path, empty at the top.
    const std::string& path() const noexcept { return path_; }
    bool is_null() const noexcept { return value_->is_null(); }
    bool is_object() const noexcept { return value_->is_object(); }
    bool is_array() const noexcept { return value_->is_array(); }
    bool is_string() const noexcept { return value_->is_string(); }

    /// Whether this object has `key` (null counts as present).
    bool has(std::string_view key) const { return object().find(key) != value_->end(); }

    /// The member `key`, which must exist.
    cursor at(std::string_view key) const {
        const auto it = object().find(key);
        if (it == value_->end()) malformed("the key \"" + std::string(key) + "\" is missing");
        return cursor(*it, *source_, member_path(key));
    }

    /// The member `key`, or nothing if absent or null.
    std::optional<cursor> find(std::string_view key) const {
        const auto it = object().find(key);
        if (it == value_->end() || it->is_null()) return std::nullopt;
        return cursor(*it, *source_, member_path(key));
    }

    /// Element `i` of an array.
    cursor operator[](std::size_t i) const {
        if (i >= size()) malformed("has no element " + std::to_string(i));
        return cursor((*value_)[i], *source_, path_ + "[" + std::to_string(i) + "]");
    }

    /// The number of elements of an array.
    std::size_t size() const {
        if (!value_->is_array()) malformed("should be an array, not " + type_name());
        return value_->size();
    }

    std::string_view string() const {
        if (!value_->is_string()) malformed("should be a string, not " + type_name());
        return value_->get_ref<const std::string&>();
    }
    bool boolean() const {
        if (!value_->is_boolean()) malformed("should be true or false, not " + type_name());
        return value_->get<bool>();
    }
    /// A number as HF reads it into an f64 (integers converted once, round to nearest).
    double number() const {
        if (value_->is_number_unsigned()) return static_cast<double>(value_->get<std::uint64_t>());
        if (value_->is_number_integer()) return static_cast<double>(value_->get<std::int64_t>());
        if (value_->is_number_float()) return value_->get<double>();
        malformed("should be a number, not " + type_name());
    }
    /// A non-negative integer no greater than `max`.
    std::uint64_t unsigned_integer(std::uint64_t max = ~std::uint64_t{0}) const {
        if (!value_->is_number_integer() || (!value_->is_number_unsigned() && value_->get<std::int64_t>() < 0))
            malformed("should be a non-negative integer, not " + type_name());
        const auto v = value_->get<std::uint64_t>();
        if (v > max) malformed("is " + std::to_string(v) + ", more than " + std::to_string(max));
        return v;
    }
    /// The `type` member of a component (`{"type": "Metaspace", ...}`).
    std::string_view type() const { return at("type").string(); }

    /// Refuses members other than `known` (and `type`): an option this library does not know
    /// could change what HF does, so it is an error, never ignored.
    void check_keys(std::initializer_list<std::string_view> known) const {
        for (const auto& item : object().items()) {
            const std::string& k = item.key();
            bool ok = k == "type";
            for (std::string_view name : known) ok = ok || k == name;
            if (!ok) cursor(item.value(), *source_, member_path(k)).unsupported("is an option this library does not implement");
        }
    }

    /// Throws `model_error(model_hf_malformed)`: "source: path: what".
    [[noreturn]] void malformed(const std::string& what) const { fail(errc::model_hf_malformed, what); }
    /// Throws `model_error(model_hf_unsupported)`.
    [[noreturn]] void unsupported(const std::string& what) const { fail(errc::model_hf_unsupported, what); }
    /// Throws `model_error(model_hf_invalid)`: what HF itself refuses to load.
    [[noreturn]] void invalid(const std::string& what) const { fail(errc::model_hf_invalid, what); }
    /// Throws `model_error(code)` with the same context.
    [[noreturn]] void fail(errc code, const std::string& what) const {
        BYTEPIECE_THROW(model_error(code, *source_ + ": " + (path_.empty() ? std::string("the document") : path_) + ": " + what));
    }

    /// "a string", "an array", ... for messages.
    std::string type_name() const {
        switch (value_->type()) {
            case nlohmann::json::value_t::null: return "null";
            case nlohmann::json::value_t::object: return "an object";
            case nlohmann::json::value_t::array: return "an array";
            case nlohmann::json::value_t::string: return "a string";
            case nlohmann::json::value_t::boolean: return "a boolean";
            case nlohmann::json::value_t::number_integer:
            case nlohmann::json::value_t::number_unsigned: return "an integer";
            case nlohmann::json::value_t::number_float: return "a number";
            default: return "a value of another kind";
        }
    }

private:
    const nlohmann::json& object() const {
        if (!value_->is_object()) malformed("should be an object, not " + type_name());
        return *value_;
    }
    std::string member_path(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }

    const nlohmann::json* value_;
    const std::string* source_;
    std::string path_;
};

namespace parse_detail {

// Builds the document from SAX events, reading float numbers with serde_number.
class builder {
public:
    using json = nlohmann::json;
    builder() = default;

    bool null() { return put(json(nullptr)); }
    bool boolean(bool v) { return put(json(v)); }
    bool number_integer(json::number_integer_t v) { return put(json(v)); }
    bool number_unsigned(json::number_unsigned_t v) { return put(json(v)); }
    bool number_float(json::number_float_t, const json::string_t& literal) {
        const std::optional<double> v = serde_number(literal);
        if (!v) {
            error_ = "the number " + literal.substr(0, 64) + " is out of range";
            return false;
        }
        return put(json(*v));
    }
    bool string(json::string_t& v) { return put(json(std::move(v))); }
    bool binary(json::binary_t&) { return false; }
    bool start_object(std::size_t) {
        if (!put(json::object())) return false;
        stack_.push_back(last_);
        return true;
    }
    bool key(json::string_t& k) {
        json& object = *stack_.back();
        if (object.contains(k)) {
            error_ = "the key \"" + k.substr(0, 64) + "\" appears twice in one object";
            return false;
        }
        key_ = std::move(k);
        return true;
    }
    bool end_object() {
        stack_.pop_back();
        return true;
    }
    bool start_array(std::size_t) {
        if (!put(json::array())) return false;
        stack_.push_back(last_);
        return true;
    }
    bool end_array() {
        stack_.pop_back();
        return true;
    }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
        // nlohmann's messages read "[json.exception.parse_error.101] parse error at line 1,
        // column 2: ..." or "[json.exception.out_of_range.406] number overflow ..."; the line
        // and column are given in our words.
        std::string what = e.what();
        const std::size_t column = what.find("column");
        const std::size_t from = column != std::string::npos ? what.find(": ", column) : what.find("] ");
        error_ = from == std::string::npos ? what : what.substr(from + 2);
        position_ = position;
        return false;
    }

    json result;
    std::string error_;
    std::size_t position_ = std::string::npos;

private:
    bool put(json&& v) {
        if (stack_.empty()) {
            result = std::move(v);
            last_ = &result;
            return true;
        }
        json& parent = *stack_.back();
        if (parent.is_array()) {
            parent.push_back(std::move(v));
            last_ = &parent.back();
        } else {
            last_ = &(parent[key_] = std::move(v));
        }
        return true;
    }

    std::vector<json*> stack_;
    json* last_ = nullptr;
    std::string key_;
};

}  // namespace parse_detail

inline nlohmann::json parse(std::string_view bytes, const std::string& source) {
    parse_detail::builder b;
    const bool ok = nlohmann::json::sax_parse(bytes.begin(), bytes.end(), &b);
    if (!ok) {
        std::string where;
        if (b.position_ != std::string::npos) {
            // Line and column of the byte at fault (nlohmann counts the position from 1).
            const std::size_t at = b.position_ > 0 ? std::min(b.position_ - 1, bytes.size()) : 0;
            std::size_t line = 1, column = 1;
            for (std::size_t i = 0; i < at; ++i) {
                if (bytes[i] == '\n') {
                    ++line;
                    column = 1;
                } else {
                    ++column;
                }
            }
            where = "line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
        }
        BYTEPIECE_THROW(model_error(errc::model_hf_malformed, source + ": " + where + "not a valid tokenizer.json: " +
                                                                  (b.error_.empty() ? "not JSON" : b.error_)));
    }
    return std::move(b.result);
}

}  // namespace detail::hf_json
BYTEPIECE_NAMESPACE_END
