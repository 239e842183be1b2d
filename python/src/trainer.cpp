// SPDX-License-Identifier: Apache-2.0
// bytepiece_cpp.Trainer (bound by helper P2; this skeleton only reserves the place).
#include "bindings.hpp"

namespace bytepiece_py {

void bind_trainer(py::module_&) {}

}  // namespace bytepiece_py
