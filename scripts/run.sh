#!/usr/bin/env bash
# The main job on a fresh Debian machine: installs what is missing, builds in Release, installs
# the Python package bytepiece_cpp for Debian's /usr/bin/python3 (into
# /usr/local/lib/python3.X/dist-packages, which apt never touches), then encodes, samples and
# decodes a sample text with a model (printing its tokens) and runs the benchmark binary.
# The model is ../shared/models/bytepiece.eu.plus.40k.model when present;
# otherwise a model is trained on the spot from the English and Chinese fortune texts that
# Debian's fortunes and fortunes-zh packages ship, and the benchmark runs on those texts.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/deps.sh run
shared=${BYTEPIECE_SHARED_DIR:-$root/../shared}
cmake -S . -B build/main -G Ninja -DCMAKE_BUILD_TYPE=Release -DBYTEPIECE_BUILD_TESTS=OFF -DBYTEPIECE_SHARED_DIR="$shared" >/dev/null
cmake --build build/main -j"$(nproc)"
bin=build/main

echo "== the Python package bytepiece_cpp, for /usr/bin/python3"
sudo=()
if [[ $(id -u) != 0 ]]; then sudo=(sudo); fi
"${sudo[@]}" cmake --install build/main --component python
(cd / && /usr/bin/python3 -c "import bytepiece_cpp; print('import bytepiece_cpp:', bytepiece_cpp.__file__)")

model=$shared/models/bytepiece.eu.plus.40k.model
corpora=()
if [[ ! -f $model ]]; then
  # The fortune texts (regular files only: not the .dat indexes, not the .u8 links), gathered
  # into one English and one Chinese corpus, which are also what the benchmark then reads.
  zh=(chinese song100 tang300)
  en=()
  while IFS= read -r f; do
    [[ " ${zh[*]} " == *" $(basename "$f") "* ]] || en+=("$f")
  done < <(find /usr/share/games/fortunes -maxdepth 1 -type f ! -name '*.dat' ! -name '*.u8' | sort)
  cat "${en[@]}" >"$bin/fortunes-en.txt"
  cat "${zh[@]/#//usr/share/games/fortunes/}" >"$bin/fortunes-zh.txt"
  corpora=("$bin/fortunes-en.txt" "$bin/fortunes-zh.txt")
  model=$bin/fortunes.model
  echo "== $shared/models absent: training $(basename "$model") on the fortunes and fortunes-zh texts"
  "$bin"/tools/bytepiece train -i "${corpora[0]}" -i "${corpora[1]}" -o "$model" --vocab-size 16000 --min-count 4 \
    --threads "$(nproc)"
fi

echo "== encode, tokenize and decode a sample text with $(basename "$model")"
"$bin"/examples/bytepiece_quickstart "$model"
sample=$(mktemp)
trap 'rm -f "$sample" "$sample.ids"' EXIT
printf 'Tokenizers turn text into ids.\n字节级的 unigram 分词器。\n' >"$sample"
"$bin"/tools/bytepiece tokenize -m "$model" "$sample"
"$bin"/tools/bytepiece encode -m "$model" "$sample" | tee "$sample.ids"
"$bin"/tools/bytepiece decode -m "$model" "$sample.ids"
echo "-- three sampled segmentations (alpha 0.1, seeds 1-3)"
for seed in 1 2 3; do "$bin"/tools/bytepiece tokenize -m "$model" --alpha 0.1 --seed $seed "$sample"; done

echo "== benchmark (single thread; ratios against SentencePiece on the same vocabulary)"
if ((${#corpora[@]})); then
  export BYTEPIECE_BENCH_CORPORA=$(IFS=,; echo "${corpora[*]}")
fi
BYTEPIECE_BENCH_MODELS=$model "$bin"/bench/bytepiece_bench --benchmark_filter="${BYTEPIECE_BENCH_FILTER:-.}"
