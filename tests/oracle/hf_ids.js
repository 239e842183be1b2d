// The HF tokenizers oracle for the tests and benchmarks: the npm package `tokenizers` (its
// native Rust binding), installed here by scripts/deps.sh from package-lock.json.
//
//   node hf_ids.js TOKENIZER.json TEXTS [--special] [--lines]
//
// TEXTS holds one JSON string per line (so newlines, NUL and any Unicode survive), or with
// --lines plain text whose lines (without their '\n') are the texts. Prints one JSON array of
// ids per text, in order. --special runs the post-processor (add_special_tokens = true).
// Texts are encoded in batches: the ids are the same as one encode call each.
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

async function main() {
  const [file, textsPath, ...flags] = process.argv.slice(2);
  if (!file || !textsPath) {
    process.stderr.write('usage: node hf_ids.js TOKENIZER.json TEXTS [--special] [--lines]\n');
    process.exit(2);
  }
  const special = flags.includes('--special');
  const tokenizer = Tokenizer.fromFile(file);
  let content = fs.readFileSync(textsPath, 'utf8');
  let texts;
  if (flags.includes('--lines')) {
    if (content.endsWith('\n')) content = content.slice(0, -1);
    texts = content.length ? content.split('\n') : [];
  } else {
    texts = content.split('\n').filter((l) => l.length).map((l) => JSON.parse(l));
  }
  const batch = 4096;
  for (let i = 0; i < texts.length; i += batch) {
    const encodings = await tokenizer.encodeBatch(texts.slice(i, i + batch), { addSpecialTokens: special });
    let out = '';
    for (const e of encodings) out += JSON.stringify(e.getIds()) + '\n';
    if (!process.stdout.write(out)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
}

main().catch((e) => {
  process.stderr.write(`hf_ids.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
