#!/usr/bin/env bash
# Prepares a large real corpus for the training figures (sharded, Dask and bounded-memory
# training): the C sources, headers and documentation of the Linux kernel, from Debian's
# linux-source package (installed if missing; about 140 MB to download), as text files of about
# 128 MB each, cut at line ends. Nothing is committed; the files go where you say.
#   scripts/large_corpus.sh OUT_DIR [MEGABYTES]     (default 1024: about 1 GB of text)
set -euo pipefail
out=${1:?usage: scripts/large_corpus.sh OUT_DIR [MEGABYTES]}
megabytes=${2:-1024}
if [[ ! $megabytes =~ ^[0-9]+$ ]] || ((megabytes == 0)); then
  echo "large_corpus: MEGABYTES must be a positive whole number, got '$megabytes'" >&2
  exit 2
fi
if ! compgen -G "/usr/src/linux-source-*.tar.xz" >/dev/null; then
  sudo=()
  if [[ $(id -u) != 0 ]]; then sudo=(sudo); fi
  echo "large_corpus: installing linux-source"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends linux-source >/dev/null
fi
tarball=$(ls /usr/src/linux-source-*.tar.xz | sort -V | tail -n 1)
mkdir -p "$out"
if compgen -G "$out/linux.*.txt" >/dev/null; then
  echo "large_corpus: $out already holds linux.*.txt files; remove them first" >&2
  exit 1
fi
echo "large_corpus: $megabytes MB of text from $(basename "$tarball") into $out/linux.NN.txt"
# Sources, headers and documentation, one file after another; then at most MEGABYTES, cut into
# files of 128 MB at line ends (split -C), so that training sees several files as it would a
# real corpus.
tar -xJf "$tarball" -O --wildcards '*.c' '*.h' '*.rst' '*.txt' 2>/dev/null |
  head -c $((megabytes * 1000 * 1000)) |
  split -C 128000000 -d --additional-suffix=.txt - "$out/linux."
ls -l "$out"/linux.*.txt | awk '{s += $5} END {printf "large_corpus: %d files, %.1f MB\n", NR, s / 1e6}'
