// After the readers of parts.mjs's parts have written OUT_DIR/labels-<i>.jsonl: each pair's label from the part
// that owns it (for merge.mjs) and, for the pairs read twice, the other reader's label (for agreement.mjs):
//   node scripts/gold-set/collect.mjs OUT_DIR SECOND_READER.jsonl
// Checks that every part labelled exactly the pairs it was given.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, secondOut] = process.argv.slice(2);
const read = (f) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l);
      } catch (e) {
        throw new Error(`${f}:${i + 1}: ${e.message}`);
      }
    });
const plan = JSON.parse(readFileSync(join(dir, 'parts.json'), 'utf8'));
const primary = [];
const second = [];
for (const { part, owns, second: readSecond } of plan) {
  const file = join(dir, `labels-${part}.jsonl`);
  const labels = new Map();
  read(file).forEach((l, i) => {
    if (labels.has(l.id)) throw new Error(`${file}:${i + 1}: ${l.id} labelled twice`);
    labels.set(l.id, l);
  });
  const given = [...owns, ...readSecond];
  const missing = given.filter((id) => !labels.has(id));
  const extra = [...labels.keys()].filter((id) => !given.includes(id));
  if (missing.length || extra.length)
    throw new Error(`${file}: missing ${missing.join(', ') || 'none'}; not given ${extra.join(', ') || 'none'}`);
  for (const id of owns) primary.push(labels.get(id));
  for (const id of readSecond) {
    const { label, garbled, note } = labels.get(id);
    second.push({ id, label, garbled, ...(note ? { note } : {}), reader: `part-${part}` });
  }
}
writeFileSync(join(dir, 'labels-primary.jsonl'), primary.map((r) => JSON.stringify(r)).join('\n') + '\n');
writeFileSync(secondOut, second.map((r) => JSON.stringify(r)).join('\n') + '\n');
console.error(`${primary.length} primary labels, ${second.length} second readings (${secondOut})`);
