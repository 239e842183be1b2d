// SPDX-License-Identifier: Apache-2.0
// What the public headers pull into every translation unit that includes them. nlohmann/json
// once came with the model reader and was most of a tokenizer TU's compile time (see
// scripts/compile_time.sh); the model format is read by hand now, so no header may include it.
#include <bytepiece/bytepiece.hpp>

#ifdef NLOHMANN_JSON_VERSION_MAJOR
constexpr bool includes_nlohmann = true;
#else
constexpr bool includes_nlohmann = false;
#endif

#include <catch2/catch.hpp>

TEST_CASE("no public header includes nlohmann/json") { CHECK_FALSE(includes_nlohmann); }
