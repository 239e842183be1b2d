#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Training benchmark: time and peak memory of `bytepiece train` beside SentencePiece's
# `spm_train` (unigram) on the same 20 MB of mixed text, and the compression (bytes per token) of
# both models on en.txt and zh.txt. Prints a Markdown table.
#
# usage: bench/train_bench.sh [BYTEPIECE_TOOL] [SHARED_DIR]
#   BYTEPIECE_TOOL  the built `bytepiece` program (default: build/tools/bytepiece in the repo)
#   SHARED_DIR      folder with corpus/ (default: ../shared next to the repo)
#
# Needs GNU time at /usr/bin/time (Debian package `time`) and perl (always on Debian). The
# SentencePiece row appears only when spm_train and spm_encode are installed (Debian package
# `sentencepiece`).
#
# The training text is the longest prefix of corpus/mixed.txt that ends in "\n" and has at most
# 20,000,000 bytes (19,999,616 bytes). bytepiece: order 6, vocabulary 40000, min_count 32, 2
# threads. spm_train: unigram, vocabulary 40000, 2 threads, and options that make it learn from
# all of the text and encode every byte, like BytePiece:
#   --input_sentence_size=0 --shuffle_input_sentence=false   every line, in order (0 = no sampling)
#   --max_sentence_length=1000000    no line is skipped for its length (the default is 4192 bytes)
#   --character_coverage=1.0 --byte_fallback=true   all characters; rare ones fall back to bytes
#   --normalization_rule_name=identity --remove_extra_whitespaces=false   no normalization, so
#                                     both tools see the same bytes
#   --train_extremely_large_corpus is not needed: it is for corpora beyond 2^31 characters.
# spm_encode works line by line and emits no token for "\n"; bytepiece counts its newline tokens.
# Bytes per token = input bytes / tokens, over the whole file.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
tool="${1:-$repo/build/tools/bytepiece}"
shared="${2:-$repo/../shared}"

die() { echo "train_bench.sh: $*" >&2; exit 2; }
[ -x "$tool" ] || die "no bytepiece tool at $tool (build it, or pass its path as the first argument)"
[ -f "$shared/corpus/mixed.txt" ] || die "no corpus at $shared/corpus/mixed.txt (pass the shared folder as the second argument)"
[ -x /usr/bin/time ] || die "GNU time is missing at /usr/bin/time (apt-get install time)"
command -v perl >/dev/null || die "perl is missing"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The training text: longest "\n"-terminated prefix of at most 20,000,000 bytes.
perl -e 'open(my $f, "<:raw", $ARGV[0]) or die; read($f, my $b, 20000000); print substr($b, 0, rindex($b, "\n") + 1)' \
    "$shared/corpus/mixed.txt" > "$work/train.txt"
train_bytes=$(stat -c %s "$work/train.txt")

# Runs a command under GNU time; sets wall (seconds) and rss (MB).
measure() {
    /usr/bin/time -v -o "$work/time.txt" "$@" > "$work/cmd.log" 2>&1 || { cat "$work/cmd.log" >&2; die "failed: $*"; }
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.2f", s }' "$work/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$work/time.txt")
}

bytes_per_token() {  # FILE TOKENS
    awk -v b="$(stat -c %s "$1")" -v t="$2" 'BEGIN { printf "%.3f", b / t }'
}

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
echo "Training on $train_bytes bytes of mixed.txt; $(nproc) CPUs ($cpu)."
echo

# bytepiece
measure "$tool" train -i "$work/train.txt" -o "$work/bp.model" --vocab-size 40000 --order 6 --min-count 32 --threads 2 --no-progress
bp_wall=$wall bp_rss=$rss
bp_ids=$(( $(grep -c '^    "[^"]*": \[$' "$work/bp.model") + 3 ))
bp_en=$(bytes_per_token "$shared/corpus/en.txt" "$("$tool" encode -m "$work/bp.model" "$shared/corpus/en.txt" | wc -w)")
bp_zh=$(bytes_per_token "$shared/corpus/zh.txt" "$("$tool" encode -m "$work/bp.model" "$shared/corpus/zh.txt" | wc -w)")

echo "| trainer | wall time | peak RSS | ids | bytes/token en.txt | bytes/token zh.txt |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
echo "| bytepiece-cpp train (2 threads) | ${bp_wall} s | ${bp_rss} MB | $bp_ids | $bp_en | $bp_zh |"
echo "| reference BytePiece 0.6.3 (Python, measured before) | 137 s | 1300 MB | 12303 | | |"

if command -v spm_train >/dev/null && command -v spm_encode >/dev/null; then
    measure spm_train --input="$work/train.txt" --model_prefix="$work/spm" --model_type=unigram --vocab_size=40000 \
        --num_threads=2 --input_sentence_size=0 --shuffle_input_sentence=false --max_sentence_length=1000000 \
        --character_coverage=1.0 --byte_fallback=true --normalization_rule_name=identity --remove_extra_whitespaces=false
    spm_wall=$wall spm_rss=$rss
    spm_ids=$(wc -l < "$work/spm.vocab")
    spm_en=$(bytes_per_token "$shared/corpus/en.txt" "$(spm_encode --model="$work/spm.model" --output_format=id < "$shared/corpus/en.txt" | wc -w)")
    spm_zh=$(bytes_per_token "$shared/corpus/zh.txt" "$(spm_encode --model="$work/spm.model" --output_format=id < "$shared/corpus/zh.txt" | wc -w)")
    echo "| spm_train --model_type=unigram (2 threads) | ${spm_wall} s | ${spm_rss} MB | $spm_ids | $spm_en | $spm_zh |"
else
    echo
    echo "(spm_train/spm_encode not installed: apt-get install sentencepiece for the comparison row)"
fi
