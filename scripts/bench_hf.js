// SPDX-License-Identifier: Apache-2.0
// The peer of bench/bench_hf.cpp: HF tokenizers (the npm package `tokenizers` 0.23.2 in
// tests/oracle, installed by scripts/deps.sh test) encoding the lines of a corpus file.
//
//   RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false node scripts/bench_hf.js TOKENIZER.json CORPUS [--runs N]
//
// The corpus is cut at each '\n' (the newline not encoded; a last line without one counts),
// as our rows cut it, and encoded without special tokens in batches of `batch` lines
// (encodeBatch: one call into Rust per batch, so the JavaScript cost per line stays small).
// Only the encodeBatch calls are timed; reading the ids out of the encodings is not. Prints one
// JSON object: MB/s of the best run (MB = 10^6 bytes of the whole file, newlines included, as
// ours), every run's seconds, the number of ids and their FNV-1a 64-bit checksum in line order,
// comparable with the label of our rows. scripts/bench_hf.py runs this and our benchmark.
'use strict';
const fs = require('fs');
const path = require('path');

function loadTokenizers() {
  try {
    return require(path.join(__dirname, '..', 'tests', 'oracle', 'node_modules', 'tokenizers'));
  } catch (e) {
    return require('tokenizers');
  }
}

// FNV-1a-style over 32-bit values, 64-bit state, exactly as bench::checksum: in two 32-bit halves, since
// BigInt arithmetic per id would take longer than the encode.
function fnv1a(idArrays) {
  let hi = 0x14650fb0, lo = 0x739d0383;  // 1469598103934665603, bench::checksum's start
  // The prime 1099511628211 = 2^40 + 0x1b3.
  for (const ids of idArrays) {
    for (const id of ids) {
      lo = (lo ^ id) >>> 0;
      // (hi:lo) * (2^40 + 0x1b3) mod 2^64; lo * 0x1b3 < 2^41 is exact in a double.
      const p = lo * 0x1b3;
      const newLo = p >>> 0;
      const newHi = (Math.imul(hi, 0x1b3) + Math.floor(p / 0x100000000) + (lo << 8)) >>> 0;
      hi = newHi;
      lo = newLo;
    }
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

async function main() {
  const args = process.argv.slice(2);
  let runs = 3;
  const files = [];
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--runs') runs = Number(args[++i]);
    else files.push(args[i]);
  }
  if (files.length !== 2 || !(runs >= 1)) {
    process.stderr.write('usage: node bench_hf.js TOKENIZER.json CORPUS [--runs N]\n');
    process.exit(2);
  }
  const [file, corpus] = files;
  const { Tokenizer } = loadTokenizers();
  const tokenizer = Tokenizer.fromFile(file);
  const bytes = fs.statSync(corpus).size;
  let content = fs.readFileSync(corpus, 'utf8');
  if (content.endsWith('\n')) content = content.slice(0, -1);
  const lines = content.length ? content.split('\n') : [];
  const batch = 4096;
  const batches = [];
  for (let i = 0; i < lines.length; i += batch) batches.push(lines.slice(i, i + batch));

  const seconds = [];
  let checksum = '', count = 0;
  for (let r = 0; r < runs; ++r) {
    let elapsed = 0n;
    const ids = [];
    for (const b of batches) {
      const start = process.hrtime.bigint();
      const encodings = await tokenizer.encodeBatch(b, { addSpecialTokens: false });
      elapsed += process.hrtime.bigint() - start;
      if (r === runs - 1) for (const e of encodings) ids.push(e.getIds());
    }
    seconds.push(Number(elapsed) / 1e9);
    if (r === runs - 1) {
      checksum = fnv1a(ids);
      count = ids.reduce((n, a) => n + a.length, 0);
    }
  }
  const best = Math.min(...seconds);
  process.stdout.write(JSON.stringify({
    file: path.basename(file), corpus: path.basename(corpus), bytes, lines: lines.length, ids: count,
    ids_fnv: checksum, seconds, mb_per_s: bytes / best / 1e6,
    rayon_threads: process.env.RAYON_NUM_THREADS || null,
    parallelism: process.env.TOKENIZERS_PARALLELISM || null,
  }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench_hf.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
