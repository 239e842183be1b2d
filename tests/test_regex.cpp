// SPDX-License-Identifier: Apache-2.0
// detail::regex: syntax, match semantics and limits, on hand-checked cases (the comparison with
// Oniguruma itself is test_hf_pre_tokenizers_regex.cpp).
#include "test_support.hpp"

#include <bytepiece/detail/regex.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using bytepiece::detail::regex;
using bytepiece::detail::regex_unsupported;
using span = std::pair<std::size_t, std::size_t>;

namespace {

std::optional<span> find(const char* pattern, std::string_view text, std::size_t from = 0) {
    return regex(pattern).find(text, from);
}

std::vector<span> all(const char* pattern, std::string_view text) {
    std::vector<span> r;
    regex(pattern).for_each_match(text, [&](std::size_t b, std::size_t e) { r.emplace_back(b, e); });
    return r;
}

}  // namespace

TEST_CASE("regex: literals and the single-class fast paths", "[regex]") {
    CHECK(find(" {2,}", "a b   c") == span(3, 6));
    CHECK(find(" {2,}", "a b c") == std::nullopt);
    CHECK(find(" {2,3}", "a     b") == span(1, 4));
    CHECK(all(" {2,3}", "a     b") == std::vector<span>{{1, 4}, {4, 6}});
    CHECK(find("\\s+", "ab\t \ncd") == span(2, 5));
    CHECK(find("\\s+", "ab\xC2\xA0\xE3\x80\x80" "c") == span(2, 7));  // NBSP and ideographic space
    CHECK(find("abc", "xxabcabc", 3) == span(5, 8));
    CHECK(find("\\.\\*", "a.*b") == span(1, 3));
    CHECK(find("caf\xC3\xA9", "un caf\xC3\xA9") == span(3, 8));
    CHECK(all("", "ab") == std::vector<span>{{0, 0}, {1, 1}, {2, 2}});
    CHECK(find("\\p{L}{2}", "a1bc") == span(2, 4));
}

TEST_CASE("regex: leftmost match, alternatives in order, greedy and lazy", "[regex]") {
    CHECK(find("a|ab", "ab") == span(0, 1));
    CHECK(find("ab|a", "ab") == span(0, 2));
    CHECK(find("(a|ab)(c|bcd)(d*)", "abcd") == span(0, 4));
    CHECK(find("a*ab", "aaab") == span(0, 4));
    CHECK(find("a+?", "aaa") == span(0, 1));
    CHECK(find("a*?b", "aaab") == span(0, 4));
    CHECK(find("a??b", "ab") == span(0, 2));
    CHECK(find("x(?:ab)*", "xababa") == span(0, 5));
    CHECK(find("a{2,3}", "aaaa") == span(0, 3));
    CHECK(find("a{2,3}?", "aaaa") == span(0, 2));
    CHECK(find("a{,2}", "aaa") == span(0, 2));  // Ruby syntax: {,n} is {0,n}
    CHECK(find("a{2}", "a aa") == span(2, 4));
    CHECK(find("a{", "xa{") == span(1, 3));      // not an interval: literal brace
    CHECK_THROWS_AS(regex("{1}x"), regex_unsupported);  // an interval with nothing to repeat
}

TEST_CASE("regex: empty matches follow onig's find_iter", "[regex]") {
    // An empty match right after the previous match is skipped and the search moves one unit on.
    CHECK(all("a*", "baaac") == std::vector<span>{{0, 0}, {1, 4}, {5, 5}});
    CHECK(all("x?", "\xC3\xA9x") == std::vector<span>{{0, 0}, {2, 3}});
}

TEST_CASE("regex: anchors are Ruby's line anchors", "[regex]") {
    CHECK(all("^a", "a\na") == std::vector<span>{{0, 1}, {2, 3}});
    CHECK(all("a$", "a\na") == std::vector<span>{{0, 1}, {2, 3}});
    CHECK(all("\\Aa", "a\na") == std::vector<span>{{0, 1}});
    CHECK(all("a\\z", "a\na") == std::vector<span>{{2, 3}});
    CHECK(all("a\\Z", "a\na\n") == std::vector<span>{{2, 3}});
}

TEST_CASE("regex: lookahead", "[regex]") {
    CHECK(find("\\s+(?!\\S)", "a   b") == span(1, 3));
    CHECK(find("\\s+(?!\\S)", "a   ") == span(1, 4));
    CHECK(find("a(?=b)", "acab") == span(2, 3));
    CHECK(find("a(?!b)", "abac") == span(2, 3));
    CHECK(find("(?=(?!x)).", "xy") == span(1, 2));
}

TEST_CASE("regex: classes are Unicode-aware on UTF-8", "[regex]") {
    CHECK(find("\\p{L}+", "12caf\xC3\xA9\xE4\xB8\xAD\xE6\x96\x87 x") == span(2, 13));
    CHECK(find("\\p{N}+", "x\xD9\xA1\xD9\xA2" "3") == span(1, 6));  // Arabic-Indic digits
    CHECK(find("\\d", "\xC2\xB2" "5") == span(2, 3));                // superscript two is No, not Nd
    CHECK(find("\\p{P}", "a$,") == span(2, 3));                       // $ is Sc
    CHECK(find("[^a-c]", "abc\xC3\xA9") == span(3, 5));
    CHECK(find(".", "\n\xF0\x9F\x98\x80") == span(1, 5));
    CHECK(find("[\\]\\-a]+", "x]-a") == span(1, 4));
    CHECK(find("[]a]+", "x]a") == span(1, 3));  // a leading ] is literal
    CHECK(find("[a-]+", "x-a") == span(1, 3));
    CHECK(find("\\x41\\u00e9\\x{1F600}", "A\xC3\xA9\xF0\x9F\x98\x80") == span(0, 7));
    CHECK(find("\\p{Lu}\\p{Ll}", "aAb") == span(1, 3));
    CHECK(find("\\p{^L}+", "ab12") == span(2, 4));
    CHECK(find("\\P{L}+", "ab12") == span(2, 4));
    CHECK(find("\\p{Letter}", "1a") == span(1, 2));
    CHECK(find("\\p{lowercase_letter}", "Aa") == span(1, 2));
    // \w outside brackets counts Oniguruma's Latin-1 extras, inside brackets it does not.
    CHECK(find("\\w", "\xC2\xB2") == span(0, 2));
    CHECK(find("[\\w]", "\xC2\xB2") == std::nullopt);
}

TEST_CASE("regex: bytes that are not UTF-8 are units of no category", "[regex]") {
    CHECK(find(".", "\xFF") == span(0, 1));
    CHECK(find("[^a]+", "\xE4\xB8" "a") == span(0, 2));
    CHECK(find("\\p{L}", "\xE4\xB8" "a") == span(2, 3));
    CHECK(all("\\p{L}*", "\x80\x80") == std::vector<span>{{0, 0}, {1, 1}, {2, 2}});
}

TEST_CASE("regex: unsupported syntax is a typed error naming it", "[regex]") {
    const std::vector<std::pair<const char*, const char*>> cases = {
        {"(?<=a)b", "lookbehind"},     {"(?<!a)b", "lookbehind"},  {"(?i)a", "options"},     {"(?i:a)", "options"},
        {"a*+", "possessive"},         {"a**", "quantifier"},       {"(a)\\1", "escape"},     {"[[:alpha:]]", "POSIX"},
        {"[a&&b]", "intersection"},    {"\\p{Han}", "property"},    {"(?<n>a)", "named"},     {"(?>a)", "atomic"},
        {"a{100001}", "100000"},       {"(?:ab){20000}", "too large"}, {"\\b", "escape"},           {"(?#c)", "comments"},    {"[\\w-z]", "end point"},
    };
    for (const auto& c : cases) {
        INFO(c.first);
        try {
            regex r(c.first);
            FAIL("compiled");
        } catch (const regex_unsupported& e) {
            CHECK(std::string(e.what()).find(c.second) != std::string::npos);
            CHECK(std::string(e.what()).find(c.first) != std::string::npos);
        }
    }
}

TEST_CASE("regex: backtracking stays polynomial", "[regex]") {
    const auto start = std::chrono::steady_clock::now();
    const std::string as(3000, 'a');
    CHECK(find("(a|a)*b", as) == std::nullopt);
    CHECK(find("(a|aa)+b", as) == std::nullopt);
    CHECK(find("(a*)*b", as) == std::nullopt);
    CHECK(find("(?:a+a+)+b", std::string(40, 'a')) == std::nullopt);
    CHECK(find("(a|)*b", "aab") == span(0, 3));
    CHECK(find("[^\\n]*\\n+", std::string(100000, 'x')) == std::nullopt);
    CHECK(all("x+y", std::string(20000, 'x')).empty());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(seconds < 5.0);
}
