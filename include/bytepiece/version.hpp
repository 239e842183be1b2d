// bytepiece-cpp: byte-level unigram tokenization (BytePiece-compatible).
// SPDX-License-Identifier: Apache-2.0
#pragma once

#define BYTEPIECE_VERSION_MAJOR 0
#define BYTEPIECE_VERSION_MINOR 1
#define BYTEPIECE_VERSION_PATCH 0
#define BYTEPIECE_VERSION_STRING "0.1.0"

// Everything lives in a versioned inline namespace so that two different versions linked
// into one program fail loudly at link time instead of silently violating the ODR.
#define BYTEPIECE_NAMESPACE_BEGIN \
    namespace bytepiece {         \
    inline namespace v0_1 {
#define BYTEPIECE_NAMESPACE_END \
    }                           \
    }
