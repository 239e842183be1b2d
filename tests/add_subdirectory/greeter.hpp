// SPDX-License-Identifier: Apache-2.0
// The consumer's own library: bytepiece types in its interface, so that linking it needs
// bytepiece's usage requirements too.
#pragma once

#include <bytepiece/tokenizer.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace greeter {

/// The ids of a greeting for `name` under `tok`.
std::vector<std::uint32_t> greet(const bytepiece::tokenizer& tok, const std::string& name);

}  // namespace greeter
