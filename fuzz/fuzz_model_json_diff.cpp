// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes as a JSON model, read by the library's reader and by the nlohmann-based
// reader it replaced (tests/model_json_oracle.hpp): both must accept with the same pieces, or
// both refuse with the same error code, byte offset and message (up to the excerpts the new
// reader shortens, and a NUL after the model, which only the new reader refuses).
#include "fuzz_common.hpp"

#include "../tests/model_json_oracle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view json(reinterpret_cast<const char*>(data), size);
    const std::string diff = model_json_oracle::compare_readers(json);
    FUZZ_CHECK_MSG(diff.empty(), diff);
    return 0;
}
