#!/usr/bin/env bash
# Installs, with apt, whichever of the Debian packages this project needs are missing.
#   scripts/deps.sh test   what building and testing needs
#   scripts/deps.sh run    that, plus what the main job needs (fortune texts for training a model
#                          where no shared models exist, GNU time for memory figures)
set -euo pipefail
what=${1:-test}
# clang and its runtime libraries (libFuzzer, sanitizers) build the fuzz targets that the test
# suite runs for a short, bounded time.
# SentencePiece (library and spm_encode/spm_decode) is the oracle the SentencePiece tests
# compare with, and the peer of the benchmark rows.
packages=(g++ cmake ninja-build pkg-config bzip2 nlohmann-json3-dev libxxhash-dev catch2 libbenchmark-dev unicode-data
          clang libclang-rt-dev libsentencepiece-dev sentencepiece)
if [[ $what == run ]]; then
  packages+=(fortunes fortunes-zh time)
fi
missing=()
for p in "${packages[@]}"; do
  if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  sudo=()
  if [[ $(id -u) != 0 ]]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "deps: all ${#packages[@]} packages present"
