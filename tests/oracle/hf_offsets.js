// HF tokenizers' own offsets, as byte ranges, for comparing with encode --offsets:
//
//   node hf_offsets.js TOKENIZER.json TEXT_FILE [--special]
//
// Prints, for each line of TEXT_FILE (without its '\n'), ID@BEGIN:END for every token like
// `bytepiece encode --offsets`, with BEGIN and END counted in bytes from the start of the
// file. The npm binding gives offsets in characters (Unicode code points, not UTF-16 units),
// converted here to the bytes of the UTF-8 text.
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

async function main() {
  const [file, textPath, ...flags] = process.argv.slice(2);
  if (!file || !textPath) {
    process.stderr.write('usage: node hf_offsets.js TOKENIZER.json TEXT_FILE [--special]\n');
    process.exit(2);
  }
  const tokenizer = Tokenizer.fromFile(file);
  let content = fs.readFileSync(textPath, 'utf8');
  if (content.endsWith('\n')) content = content.slice(0, -1);
  let base = 0;
  for (const text of content.split('\n')) {
    const [e] = await tokenizer.encodeBatch([text], { addSpecialTokens: flags.includes('--special') });
    const byteAt = [0];
    for (const c of text) byteAt.push(byteAt[byteAt.length - 1] + Buffer.byteLength(c, 'utf8'));
    const ids = e.getIds();
    const offsets = e.getOffsets();
    const items = ids.map((id, i) => `${id}@${base + byteAt[offsets[i][0]]}:${base + byteAt[offsets[i][1]]}`);
    process.stdout.write(items.join(' ') + '\n');
    base += byteAt[byteAt.length - 1] + 1;
  }
}

main().catch((e) => {
  process.stderr.write(`hf_offsets.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
