#!/usr/bin/env bash
# Writes the count_file seeds: count files of each kind (n-grams, pruned n-grams, pieces, and a
# merge) of a few lines of text, made with `bytepiece` itself, so the seeds are exactly what the
# library writes. Deterministic; rerun after a change of the count file format.
#   fuzz/make_count_seeds.sh BYTEPIECE_TOOL     e.g. build/release/tools/bytepiece
set -euo pipefail
tool=${1:?usage: fuzz/make_count_seeds.sh PATH_TO_bytepiece}
here=$(cd "$(dirname "$0")" && pwd)
out=$here/corpus/count_file
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
rm -f "$out"/gen_*
printf 'the cat sat on the mat\nthe cat ate 42 dates\n\n\xc3\xa9t\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87\n' > "$work/a.txt"
printf 'a second shard\nthe mat\n' > "$work/b.txt"
for opts in "--order 3" "--order 10 --isolate-digits --min-count 1"; do
  tag=$(echo "$opts" | tr -dc 'a-z0-9')
  "$tool" count-ngrams -q $opts -i "$work/a.txt" -o "$out/gen_${tag}_a.ngrams"
  "$tool" count-ngrams -q $opts -i "$work/b.txt" -o "$work/b.ngrams"
  "$tool" merge -q -o "$out/gen_${tag}_ab.ngrams" "$out/gen_${tag}_a.ngrams" "$work/b.ngrams"
  "$tool" prune-ngrams -q $opts -i "$out/gen_${tag}_ab.ngrams" -o "$out/gen_${tag}.pruned"
  "$tool" count-pieces -q $opts -m "$out/gen_${tag}.pruned" -i "$work/a.txt" -i "$work/b.txt" -o "$out/gen_${tag}.pieces"
done
ls "$out"
