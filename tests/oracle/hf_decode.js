// HF tokenizers 0.23.2 as an oracle for tokens and decoding (see hf_ids.js for the setup).
//
//   node hf_decode.js TOKENIZER.json REQUESTS
//
// REQUESTS holds one JSON object per line: {"tokens": TEXT, "special": BOOL} (the tokens of
// encode(TEXT) with or without special tokens) or {"decode": [ids], "skip": BOOL} (decode(ids, skip)). Prints one
// JSON value per request and line: the array of tokens, the decoded string, or
// {"error": MESSAGE} if HF fails.
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

async function main() {
  const [file, requestsPath] = process.argv.slice(2);
  if (!file || !requestsPath) {
    process.stderr.write('usage: node hf_decode.js TOKENIZER.json REQUESTS\n');
    process.exit(2);
  }
  const tokenizer = Tokenizer.fromFile(file);
  const lines = fs.readFileSync(requestsPath, 'utf8').split('\n').filter((l) => l.length);
  let out = '';
  for (const line of lines) {
    const r = JSON.parse(line);
    let v;
    try {
      if (r.tokens !== undefined) {
        v = (await tokenizer.encode(r.tokens, null, { addSpecialTokens: !!r.special })).getTokens();
      } else {
        v = await tokenizer.decode(r.decode, !!r.skip);
      }
    } catch (e) {
      v = { error: String(e && e.message ? e.message : e) };
    }
    out += JSON.stringify(v) + '\n';
  }
  process.stdout.write(out);
}

main().catch((e) => {
  process.stderr.write(`hf_decode.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
