// SPDX-License-Identifier: Apache-2.0
//
// The compiled mode (CMake option BYTEPIECE_COMPILED, which also defines the macro
// BYTEPIECE_COMPILED for every target that links bytepiece::bytepiece): the default model and
// tokenizer are instantiated here, once, and the headers declare these instantiations extern,
// so that a translation unit that loads a model and encodes compiles none of that code itself.
// Other instantiations (other Score or Id types) stay header-only as always.
#ifndef BYTEPIECE_COMPILED
#error "src/bytepiece.cpp is the compiled mode's one source file: build it with BYTEPIECE_COMPILED defined"
#endif

#include "bytepiece/bytepiece.hpp"

BYTEPIECE_NAMESPACE_BEGIN
template class basic_model<double, std::uint32_t>;
template class basic_tokenizer<double, std::uint32_t>;
BYTEPIECE_NAMESPACE_END
