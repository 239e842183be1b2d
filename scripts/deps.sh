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
# compare with, and the peer of the benchmark rows; HF tokenizers (the npm package, run by
# node) is the same for tokenizer.json files.
# The Python package (python/) builds with Debian's pybind11 for Debian's python3, and its tests
# run with pytest and NumPy; bytepiece_cpp.dask runs on Dask (python3-distributed), whose tests start a
# LocalCluster.
packages=(g++ cmake ninja-build pkg-config bzip2 nlohmann-json3-dev libxxhash-dev catch2 libbenchmark-dev unicode-data
          clang libclang-rt-dev libsentencepiece-dev sentencepiece
          python3-dev python3-pybind11 python3-pytest python3-numpy python3-distributed)
if [[ $what == run ]]; then
  packages+=(fortunes fortunes-zh time)
fi
# Debian's Python SentencePiece binding: the peer of scripts/bench_python.py (the Python benchmark).
if [[ $what == run ]]; then
  packages+=(python3-sentencepiece)
fi
# Node.js from Debian unless a node is already on PATH (some machines bring a newer one).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
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

# The HF tokenizers oracle: the exact version package-lock.json pins, into tests/oracle/node_modules.
oracle="$(cd "$(dirname "$0")/.." && pwd)/tests/oracle"
if [[ ! -f $oracle/node_modules/tokenizers/package.json ]] ||
   ! grep -q '"version": "0.23.2"' "$oracle/node_modules/tokenizers/package.json"; then
  echo "deps: installing the npm package tokenizers 0.23.2 into tests/oracle"
  (cd "$oracle" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
echo "deps: HF tokenizers oracle present (tests/oracle)"
