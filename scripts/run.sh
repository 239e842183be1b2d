#!/usr/bin/env bash
# The main job on a fresh Debian machine: installs what is missing, builds in Release, then
# encodes and decodes a sample text with a model (printing its tokens) and runs the
# benchmark binary. The model is ../shared/models/bytepiece.eu.plus.40k.model when present.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/deps.sh run
shared=${BYTEPIECE_SHARED_DIR:-$root/../shared}
cmake -S . -B build/main -G Ninja -DCMAKE_BUILD_TYPE=Release -DBYTEPIECE_BUILD_TESTS=OFF -DBYTEPIECE_SHARED_DIR="$shared" >/dev/null
cmake --build build/main -j"$(nproc)"
bin=build/main

model=$shared/models/bytepiece.eu.plus.40k.model
if [[ ! -f $model ]]; then
  echo "error: $model not found (this build has no embedded fallback yet)" >&2
  exit 2
fi

echo "== encode, tokenize and decode a sample text with $(basename "$model")"
"$bin"/examples/bytepiece_quickstart "$model"
sample=$(mktemp)
trap 'rm -f "$sample" "$sample.ids"' EXIT
printf 'Tokenizers turn text into ids.\n字节级的 unigram 分词器。\n' >"$sample"
"$bin"/tools/bytepiece tokenize -m "$model" "$sample"
"$bin"/tools/bytepiece encode -m "$model" "$sample" | tee "$sample.ids"
"$bin"/tools/bytepiece decode -m "$model" "$sample.ids"

echo "== benchmark (single thread; ratios against SentencePiece on the same vocabulary)"
BYTEPIECE_BENCH_MODELS=$model "$bin"/bench/bytepiece_bench --benchmark_filter="${BYTEPIECE_BENCH_FILTER:-.}"
