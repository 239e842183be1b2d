// SPDX-License-Identifier: Apache-2.0
// detail::regex on arbitrary patterns and texts: a pattern compiles or throws regex_unsupported;
// a compiled pattern never crashes or hangs, and its matches are ordered, in bounds, start and
// end on unit boundaries, and are what find() returns from where the iteration stood.
#include "fuzz_common.hpp"

#include <bytepiece/detail/regex.hpp>

namespace {

// A unit boundary: not inside a well-formed UTF-8 sequence.
bool on_boundary(std::string_view text, std::size_t pos) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t i = 0;
    while (i < pos) i += bytepiece::detail::utf8::decode(p + i, p + text.size()).length;
    return i == pos;
}

}  // namespace

// Input: the pattern up to the first NUL byte, then the text.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t nul = input.find('\0');
    const std::string_view pattern = input.substr(0, nul == std::string_view::npos ? std::min<std::size_t>(size, 64) : nul);
    const std::string_view text = nul == std::string_view::npos ? input : input.substr(nul + 1);
    if (pattern.size() > 256 || text.size() > 4096) return 0;
    std::optional<bytepiece::detail::regex> re;
    try {
        re.emplace(pattern);
    } catch (const bytepiece::detail::regex_unsupported&) {
        return 0;
    }
    std::size_t prev_end = 0, count = 0;
    bool have_prev = false;
    re->for_each_match(text, [&](std::size_t b, std::size_t e) {
        FUZZ_CHECK_MSG(b <= e && e <= text.size(), fuzz::escaped(input));
        FUZZ_CHECK_MSG(!have_prev || b >= prev_end, fuzz::escaped(input));
        FUZZ_CHECK_MSG(!have_prev || b > prev_end || e > b || b == prev_end, fuzz::escaped(input));
        FUZZ_CHECK_MSG(on_boundary(text, b) && on_boundary(text, e), fuzz::escaped(input));
        const auto again = re->find(text, b);
        FUZZ_CHECK_MSG(again && again->first == b && again->second == e, fuzz::escaped(input));
        prev_end = e;
        have_prev = true;
        ++count;
    });
    FUZZ_CHECK(count <= text.size() + 1);
    // The first match from 0 is the first the iteration reported.
    const auto first = re->find(text, 0);
    FUZZ_CHECK_MSG(first.has_value() == (count > 0), fuzz::escaped(input));
    return 0;
}
