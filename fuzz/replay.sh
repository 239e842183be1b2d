#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each one after the other:
# first its committed seeds (fuzz/corpus/<target>/) and regressions (fuzz/regressions/<target>/),
# then fuzzing for SECONDS. New inputs are collected in the build tree, crashes are written to
# build/fuzz/artifacts/ (copy a crash into fuzz/regressions/<target>/ and add a test for it).
#   fuzz/replay.sh [SECONDS [TARGET...]]     SECONDS defaults to 20, TARGETs to all
#   CXX=clang++-14 fuzz/replay.sh 300 encode
# Without clang, `ctest -L fuzz` in an ordinary test build still replays the seeds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-20}
shift || true
targets=("$@")
cxx=${CXX:-clang++}
build=$root/build/fuzz
# Line tables only: enough for the stack traces of a crash, a fifth less compile time than -g.
cmake -S "$root/fuzz" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 $([[ $("$cxx" --version) == *clang* ]] && echo -gline-tables-only || echo -g1) -DNDEBUG" \
  -DBYTEPIECE_BUILD_FUZZERS=ON -DBYTEPIECE_BUILD_TESTS=OFF -DBYTEPIECE_FUZZ_SECONDS="$seconds" >/dev/null
if [ ${#targets[@]} -eq 0 ]; then
  cmake --build "$build"
  # Each fuzzer uses one core; run as many at once as there are cores.
  ctest --test-dir "$build" -L fuzz --output-on-failure -j"$(nproc)"
else
  regex=$(printf '^fuzz_%s$|' "${targets[@]}")
  cmake --build "$build" --target $(printf 'fuzz_%s ' "${targets[@]}")
  ctest --test-dir "$build" -R "${regex%|}" --output-on-failure -j1
fi
