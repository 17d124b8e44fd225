// Joins a wave of sampled pairs with the labels read for it (docs/judge-rubric.md) and appends them to the
// gold splits: node scripts/gold-set/merge.mjs WAVE-unlabelled.jsonl LABELS.jsonl [LABELS.jsonl ...]
// Every sampled pair must have exactly one label; ids already in a split are refused (no silent duplicates).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const [sampled, ...labelFiles] = process.argv.slice(2);
const read = (f) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l, i) => {
      try {
        return JSON.parse(l);
      } catch (e) {
        throw new Error(`${f}:${i + 1}: ${e.message}`);
      }
    });
const labels = new Map();
for (const f of labelFiles)
  read(f).forEach((l, i) => {
    if (l.label !== 'harmful' && l.label !== 'safe') throw new Error(`${f}:${i + 1}: field "label" is ${l.label}`);
    if (typeof l.garbled !== 'boolean') throw new Error(`${f}:${i + 1}: field "garbled" should be true or false`);
    if (labels.has(l.id)) throw new Error(`${f}:${i + 1}: id ${l.id} labelled twice`);
    labels.set(l.id, l);
  });
const rows = read(sampled);
const missing = rows.filter((r) => !labels.has(r.id)).map((r) => r.id);
if (missing.length) throw new Error(`${sampled}: ${missing.length} pairs have no label (${missing.slice(0, 5)} ...)`);
for (const split of ['dev', 'test']) {
  const file = `data/judge/gold/${split}.jsonl`;
  const existing = existsSync(file) ? read(file) : [];
  const ids = new Set(existing.map((r) => r.id));
  const add = rows
    .filter((r) => r.split === split)
    .map((r) => {
      if (ids.has(r.id)) throw new Error(`${file}: already holds ${r.id}`);
      const { label, garbled, note } = labels.get(r.id);
      const { split: _split, ...rest } = r;
      return { ...rest, label, garbled, note: note ?? '' };
    });
  writeFileSync(file, [...existing, ...add].map((r) => JSON.stringify(r)).join('\n') + '\n');
  console.error(`${file}: +${add.length} (${existing.length + add.length} in all)`);
}
