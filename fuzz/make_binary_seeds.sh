#!/usr/bin/env bash
# Writes the binary_load seeds: every model_load seed that is a valid model, converted with
# `bytepiece convert` (so the seeds are exactly what the library writes). Deterministic; rerun
# after a change of the binary format.
#   fuzz/make_binary_seeds.sh BYTEPIECE_TOOL     e.g. build/release/tools/bytepiece
set -euo pipefail
tool=${1:?usage: fuzz/make_binary_seeds.sh PATH_TO_bytepiece}
here=$(cd "$(dirname "$0")" && pwd)
out=$here/corpus/binary_load
mkdir -p "$out"
rm -f "$out"/conv_*
for json in "$here"/corpus/model_load/*; do
  name=$(basename "$json")
  "$tool" convert "$json" "$out/conv_${name%.*}.bpm" 2>/dev/null || true
done
ls "$out"
