// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstring>
#include <string_view>

#include "bytepiece/version.hpp"

BYTEPIECE_NAMESPACE_BEGIN

/// Calls `f(chunk)` for each chunk of `text`, in order, where a chunk is a maximal run of bytes
/// other than `\n` together with all the `\n` that follow it; a final run without `\n` is a
/// chunk of its own and a text that starts with `\n` yields a chunk of just those newlines.
/// This is exactly how the reference cuts text before segmenting (its `.*\n+|.+`), and chunks
/// are what the tokenizer segments independently. The chunks concatenate to `text`; none is
/// empty.
///
/// Example: `for_each_chunk("ab\n\ncd", f)` calls `f("ab\n\n")` then `f("cd")`.
template <class F>
void for_each_chunk(std::string_view text, F&& f) {
    const char* p = text.data();
    const char* const end = p + text.size();
    while (p < end) {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
        if (!nl) {
            f(std::string_view(p, static_cast<std::size_t>(end - p)));
            return;
        }
        const char* q = nl;
        while (q < end && *q == '\n') ++q;
        f(std::string_view(p, static_cast<std::size_t>(q - p)));
        p = q;
    }
}

BYTEPIECE_NAMESPACE_END
