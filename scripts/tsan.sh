#!/usr/bin/env bash
# Builds tests/test_threads.cpp with ThreadSanitizer in its own build directory and runs it:
# several threads share one const tokenizer (and sampler) and must see no data race.
#   scripts/tsan.sh            (CXX=g++ or CXX=clang++ to choose; clang++ when available)
#   BYTEPIECE_SHARED_DIR=...   to also exercise a released model
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cxx=${CXX:-$(command -v clang++ || command -v g++)}
shared=${BYTEPIECE_SHARED_DIR:-$root/../shared}
build=build/tsan-$(basename "$cxx")
# Line tables only: enough for the race reports' stack traces, less compile time than -g.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 $([[ $("$cxx" --version) == *clang* ]] && echo -gline-tables-only || echo -g1) -DNDEBUG" \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  -DBYTEPIECE_SHARED_DIR="$shared" -DBYTEPIECE_BUILD_TESTS=ON -DBYTEPIECE_BUILD_BENCH=OFF \
  -DBYTEPIECE_BUILD_EXAMPLES=OFF -DBYTEPIECE_BUILD_TOOLS=OFF -DBYTEPIECE_INSTALL=OFF >/dev/null
cmake --build "$build" --target test_threads
# TSan's shadow memory needs a memory layout that kernels with high ASLR entropy may not give;
# running without address randomization avoids "unexpected memory mapping" aborts.
run=("$build/tests/test_threads")
if command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
  run=(setarch "$(uname -m)" -R "${run[@]}")
fi
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" "${run[@]}"
echo "ThreadSanitizer: test_threads is clean"
