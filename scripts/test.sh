#!/usr/bin/env bash
# Builds and runs the whole test suite: a Release build with warnings as errors (with it the
# Python module, whose pytest suite is one of the CTest tests: python_pytest), the
# multi-threaded test under ThreadSanitizer, every libFuzzer target (seeds and regressions
# replayed, then a short bounded fuzzing run each), then the whole suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer built with clang (GCC builds the Release
# stage, so both compilers must compile everything warning-free). Installs missing packages first.
#   scripts/test.sh            (BYTEPIECE_SHARED_DIR=... to point at another shared folder;
#                               BYTEPIECE_FUZZ_SECONDS=N fuzzes each target N s, default 10)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/deps.sh test
jobs=$(nproc)
shared=${BYTEPIECE_SHARED_DIR:-$root/../shared}
# HF's ids of whole corpus files are computed once (by node, slowly) and shared by the stages.
common=(-G Ninja -DBYTEPIECE_SHARED_DIR="$shared" -DBYTEPIECE_HF_ORACLE_CACHE="$root/build/hf_oracle" -DBYTEPIECE_WERROR=ON -DBYTEPIECE_BUILD_BENCH=OFF -DBYTEPIECE_BUILD_EXAMPLES=ON)

echo "== Release build and tests"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release "${common[@]}" >/dev/null
cmake --build build/release -j"$jobs"
# The sharded-training identity on the whole of mixed.txt: here only (half a minute; too slow
# for the sanitizer stage, which checks the same on 300 KB of it).
BYTEPIECE_TEST_WHOLE_CORPUS=1 ctest --test-dir build/release --output-on-failure -j"$jobs"

echo "== ThreadSanitizer: one tokenizer, sampler and trainer shared by several threads"
scripts/tsan.sh

echo "== libFuzzer targets (clang, ASan+UBSan): replay seeds and regressions, fuzz ${BYTEPIECE_FUZZ_SECONDS:-10} s each"
CXX=clang++ fuzz/replay.sh "${BYTEPIECE_FUZZ_SECONDS:-10}"

# Last, so that CTest's summary closes the output.
# Built with clang, so that the suite is also compiled warning-free by a second compiler, and in
# the compiled mode (BYTEPIECE_COMPILED: the default tokenizer and model built once, not in every
# test; the Release stage covers the header-only mode), which also puts that mode under the
# sanitizers. The fuzz stage above has replayed the fuzz seeds under the same sanitizers.
echo "== AddressSanitizer + UndefinedBehaviorSanitizer build (clang, compiled mode) and tests"
# Line tables only: enough for the sanitizers' stack traces, a fifth less compile time than -g.
# No Python module here: an instrumented extension cannot be loaded into an uninstrumented python3.
CXX=clang++ cmake -S . -B build/asan-clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
  -DBYTEPIECE_SANITIZE=ON -DBYTEPIECE_COMPILED=ON -DBYTEPIECE_BUILD_PYTHON=OFF \
  -DBYTEPIECE_FUZZ_REPLAY=OFF "${common[@]}" -DBYTEPIECE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/asan-clang -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan-clang --output-on-failure -j"$jobs"
