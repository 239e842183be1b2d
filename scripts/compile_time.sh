#!/usr/bin/env bash
# Compile time and peak compiler memory of typical translation units, against a peer measured
# in the same run with the same flags: a TU that includes only nlohmann/json.hpp and parses a
# document. The issue's target is tokenizer/json <= 1.5.
#
#   scripts/compile_time.sh [-n RUNS] [-x CXX] [-f "FLAGS"] [-b BASE_INCLUDE_DIR]
#     RUNS   compilations of each TU, interleaved so that load changes hit all alike (default 5)
#     CXX    compiler (default: $CXX, else g++)
#     FLAGS  default "-O2 -std=c++17"
#     BASE_INCLUDE_DIR  another version's include/ folder (e.g. from `git archive OLD include`):
#            its tokenizer and all TUs are measured in the same run, as tokenizer@base, all@base
#
# Prints, for each TU, the median CPU time (user + system) and wall time of `CXX FLAGS -c` and
# the largest peak resident memory (GNU time's %M), then the ratios to the JSON peer. The ratio
# is taken on CPU time, which other work on a shared machine disturbs far less than wall time.
# TUs:
#   json        includes <nlohmann/json.hpp>, parses a document
#   tokenizer   includes <bytepiece/tokenizer.hpp>, loads a model file, encodes
#   binary      includes <bytepiece/tokenizer.hpp>, builds a tokenizer from a binary model image, encodes
#   all         includes <bytepiece/bytepiece.hpp>, loads a model file, encodes
#   compiled    the tokenizer TU with BYTEPIECE_COMPILED defined (the code comes from the compiled
#               library, see src/bytepiece.cpp); only when that mode exists
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=5
cxx=${CXX:-g++}
flags="-O2 -std=c++17"
base=""
while getopts "n:x:f:b:" opt; do
  case $opt in
    n) runs=$OPTARG ;;
    x) cxx=$OPTARG ;;
    f) flags=$OPTARG ;;
    b) base=$(cd "$OPTARG" && pwd) ;;
    *) echo "usage: $0 [-n RUNS] [-x CXX] [-f FLAGS] [-b BASE_INCLUDE_DIR]" >&2; exit 2 ;;
  esac
done
[[ -x /usr/bin/time ]] || { echo "$0: needs GNU time at /usr/bin/time (Debian package time)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/json.cpp" <<'EOF'
#include <nlohmann/json.hpp>
#include <cstdio>
int main(int argc, char** argv) {
    const auto doc = nlohmann::json::parse(argc > 1 ? argv[1] : "{\"a\": [1, \"x\", 2]}");
    std::printf("%zu\n", doc.size());
}
EOF
cat >"$work/tokenizer.cpp" <<'EOF'
#include <bytepiece/tokenizer.hpp>
#include <cstdio>
int main(int argc, char** argv) {
    const auto tok = bytepiece::tokenizer::load(argc > 1 ? argv[1] : "model.json");
    std::printf("%zu\n", tok.encode(argc > 2 ? argv[2] : "Hello, world!").size());
}
EOF
cat >"$work/binary.cpp" <<'EOF'
#include <bytepiece/tokenizer.hpp>
#include <cstdio>
#include <string>
int main(int argc, char** argv) {
    const std::string image = argc > 1 ? argv[1] : "";
    const auto tok = bytepiece::tokenizer::from_binary(image, "image.bpm");
    std::printf("%zu\n", tok.encode(argc > 2 ? argv[2] : "Hello, world!").size());
}
EOF
sed 's|bytepiece/tokenizer.hpp|bytepiece/bytepiece.hpp|' "$work/tokenizer.cpp" >"$work/all.cpp"
names=(json tokenizer binary all)
defs=("" "" "" "")
sources=(json tokenizer binary all)
includes=("$root/include" "$root/include" "$root/include" "$root/include")
if grep -q BYTEPIECE_COMPILED "$root/include/bytepiece/tokenizer.hpp" 2>/dev/null; then
  names+=(compiled)
  defs+=("-DBYTEPIECE_COMPILED")
  sources+=(tokenizer)
  includes+=("$root/include")
fi
if [[ -n $base ]]; then
  names+=(tokenizer@base all@base)
  defs+=("" "")
  sources+=(tokenizer all)
  includes+=("$base" "$base")
fi

echo "compiler: $($cxx --version | head -1)"
echo "flags:    $flags -c; $runs runs each, interleaved; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < runs; ++r)); do
  for i in "${!names[@]}"; do
    # shellcheck disable=SC2086  # flags are words on purpose
    /usr/bin/time -f "%e %U %S %M" -o "$work/${names[$i]}.$r.time" \
      "$cxx" $flags ${defs[$i]} -I"${includes[$i]}" -c "$work/${sources[$i]}.cpp" -o "$work/${names[$i]}.o"
  done
done

/usr/bin/python3 - "$work" "$runs" "${names[@]}" <<'EOF'
import statistics, sys
work, runs, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = {}
for n in names:
    cpu, wall, mem = [], [], []
    for r in range(runs):
        e, u, s, kb = open(f"{work}/{n}.{r}.time").read().split()[-4:]
        cpu.append(float(u) + float(s)); wall.append(float(e)); mem.append(int(kb))
    rows[n] = (statistics.median(cpu), min(cpu), statistics.median(wall), max(mem) / 1024)
print(f"{'TU':<14} {'cpu s':>7} {'min cpu':>8} {'wall s':>7} {'peak MB':>8} {'cpu/json':>9}")
base = rows["json"][0]
for n, (cpu, lo, wall, mb) in rows.items():
    print(f"{n:<14} {cpu:7.2f} {lo:8.2f} {wall:7.2f} {mb:8.0f} {cpu / base:9.2f}")
print(f"ratio tokenizer/json = {rows['tokenizer'][0] / base:.2f} (median CPU time; target <= 1.5)")
if "tokenizer@base" in rows:
    print(f"ratio tokenizer@base/json = {rows['tokenizer@base'][0] / base:.2f}")
EOF
