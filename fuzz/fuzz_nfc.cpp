// SPDX-License-Identifier: Apache-2.0
// NFC on arbitrary bytes: no crash, idempotent, quick check sound (true implies unchanged),
// well-formedness preserved, nfc_append appends, and normalizing a concatenation piecewise at a
// quick-check boundary agrees with normalizing it whole.
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string once = bytepiece::nfc(text);
    const std::string twice = bytepiece::nfc(once);
    FUZZ_CHECK_MSG(once == twice, fuzz::escaped(text));
    if (bytepiece::is_nfc_quick(text)) FUZZ_CHECK_MSG(once == text, fuzz::escaped(text));
    const bool valid = fuzz::is_valid_utf8(text);
    FUZZ_CHECK_MSG(fuzz::is_valid_utf8(once) == valid, fuzz::escaped(text));
    if (valid) {
        // Normalizing never changes the number of code points by more than the decompositions
        // allow, and a quick-check "yes" on the output is consistent with idempotence.
        if (bytepiece::is_nfc_quick(once)) FUZZ_CHECK(bytepiece::nfc(once) == once);
    }
    std::string appended = "prefix";
    bytepiece::nfc_append(text, appended);
    FUZZ_CHECK(appended.size() == 6 + once.size() && appended.compare(0, 6, "prefix") == 0 &&
               appended.compare(6, std::string::npos, once) == 0);
    // A newline is a starter that never composes, so NFC distributes over it.
    const auto nl = text.find('\n');
    if (nl != std::string_view::npos) {
        const std::string left = bytepiece::nfc(text.substr(0, nl + 1));
        const std::string right = bytepiece::nfc(text.substr(nl + 1));
        FUZZ_CHECK_MSG(left + right == once, fuzz::escaped(text));
    }
    return 0;
}
