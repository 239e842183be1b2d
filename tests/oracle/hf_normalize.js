// HF tokenizers' normalizers as an oracle for tests/test_hf_normalizers*.cpp.
//
//   node hf_normalize.js NORMALIZER.json TEXTS.jsonl
//
// NORMALIZER.json holds the value of a tokenizer.json "normalizer" key; it is loaded the way
// HF loads a whole file (Tokenizer.fromString), so deserialization errors are HF's own. TEXTS
// holds one JSON string per line. Prints one JSON string per text, the normalized text, or a
// single line {"error": message} if HF refuses the normalizer (a panic aborts node instead).
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

const [normalizerPath, textsPath] = process.argv.slice(2);
if (!normalizerPath || !textsPath) {
  process.stderr.write('usage: node hf_normalize.js NORMALIZER.json TEXTS.jsonl\n');
  process.exit(2);
}
const normalizer = JSON.parse(fs.readFileSync(normalizerPath, 'utf8'));
let n;
try {
  n = Tokenizer.fromString(JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer,
    pre_tokenizer: null, post_processor: null, decoder: null,
    model: { type: 'Unigram', unk_id: null, vocab: [['a', 0]] },
  })).getNormalizer();
} catch (e) {
  process.stdout.write(JSON.stringify({ error: String(e) }) + '\n');
  process.exit(0);
}
const texts = fs.readFileSync(textsPath, 'utf8').split('\n').filter((l) => l.length).map((l) => JSON.parse(l));
const out = [];
for (const t of texts) out.push(JSON.stringify(n ? n.normalizeString(t) : t));
fs.writeFileSync(1, out.join('\n') + (out.length ? '\n' : ''));
