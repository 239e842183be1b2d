#!/usr/bin/env bash
# The stream encoder (behind `bytepiece encode` and `tokenize`) against one-shot encode, on the
# inputs of issue 16 that made streaming quadratic or slow:
#   long-piece  the 256 bytes plus one 64 KiB piece; a 300 KB line holding copies of it
#   run         the 256 bytes plus a piece of 65,536 'a'; 2 MB of 'a'
#   trained     a model this library trains with --max-piece-length 1000000 (here on 20 copies
#               of a 100 KB random line, which gives pieces of about 10,000 bytes); a 1 MB line
#               of its training text
#   ab          the shared bytepiece.eu.plus.40k model; 10 MB of "ab"
#   newlines    the same model; 20 MB of "\n"
# Each case runs bench/stream_ratio.cpp in a fresh process: CPU times of the stream (fed in
# blocks of 1 MiB, as the CLI feeds it) and of encode on the whole text, warm (best of several
# alternating runs) and cold (one run each in a fresh process), and the stream's peak memory.
# Fails if a stream/one-shot ratio exceeds 2.
#
# usage: scripts/bench_stream.sh   (BUILD_DIR, BYTEPIECE_SHARED_DIR and JOBS may be set)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build/bench-stream}
shared=${BYTEPIECE_SHARED_DIR:-$root/../shared}
# An existing Release build folder may be given as BUILD_DIR: only the two targets are built.
if [[ -f $build/CMakeCache.txt ]]; then
  cmake -S "$root" -B "$build" -DBYTEPIECE_BUILD_BENCH=ON -DBYTEPIECE_BUILD_TOOLS=ON >/dev/null
else
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBYTEPIECE_BUILD_TESTS=OFF \
    -DBYTEPIECE_BUILD_EXAMPLES=OFF -DBYTEPIECE_SHARED_DIR="$shared" >/dev/null
fi
cmake --build "$build" --target bytepiece_stream_ratio bytepiece_cli -j"${JOBS:-2}" >/dev/null
ratio=$build/bench/bytepiece_stream_ratio
cli=$build/tools/bytepiece

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# 20 copies of one random line of 100,000 bytes: the trainer finds pieces as long as it lets it.
awk 'BEGIN { srand(16); a = "abcdefghij klmnop"; s = "";
             for (i = 0; i < 100000; i++) s = s substr(a, int(rand() * 17) + 1, 1);
             for (k = 0; k < 20; k++) print s }' >"$tmp/train.txt"
"$cli" train -i "$tmp/train.txt" -o "$tmp/long.model" --vocab-size 2000 --max-piece-length 1000000 -q

eu=$shared/models/bytepiece.eu.plus.40k.model
periodic_model=()
if [[ ! -f $eu ]]; then
  echo "note: $eu is absent; ab and newlines use the trained model instead"
  periodic_model=(--model "$tmp/long.model")
fi

printf '%-10s %9s %9s %9s %6s %9s %9s %6s %6s %4s %8s %8s\n' case bytes oneshot_s stream_s ratio \
  oneshot_cold stream_cold ratio cuts same stream_MiB encode_MiB
out=$tmp/results.txt
"$ratio" long-piece --reps 20 | tee -a "$out"
"$ratio" run --reps 10 | tee -a "$out"
"$ratio" trained --model "$tmp/long.model" --text "$tmp/train.txt" --reps 40 | tee -a "$out"
"$ratio" ab "${periodic_model[@]}" --reps 5 | tee -a "$out"
"$ratio" newlines "${periodic_model[@]}" --reps 5 | tee -a "$out"
if [[ -f $eu && -f $shared/corpus/mixed.txt ]]; then
  echo "ordinary text for comparison (the first 10 MB of mixed.txt, as it is and as one line):"
  "$ratio" text --reps 5 | tee -a "$out"
  "$ratio" line --reps 5 | tee -a "$out"
fi
echo "times: thread CPU seconds; ratio: stream / one-shot (warm, then cold); cuts: forced cuts;"
echo "same: stream ids equal one-shot's; MiB: growth of peak resident memory during a cold run"
awk '$5 > 2 || $8 > 2 { bad = 1; print "FAIL: " $1 ": stream/one-shot above 2" } END { exit bad }' "$out"
