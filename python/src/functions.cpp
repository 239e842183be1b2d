// SPDX-License-Identifier: Apache-2.0
// bytepiece_cpp.normalize and convert_to_bytepiece (bound by helper P2; this skeleton only
// reserves the place).
#include "bindings.hpp"

namespace bytepiece_py {

void bind_functions(py::module_&) {}

}  // namespace bytepiece_py
