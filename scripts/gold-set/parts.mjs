// Splits a sampled wave into parts for readers (docs/judge-rubric.md), each part holding only id, prompt and
// response (no stage, model, seed or verdict), and gives each part a share of the next part's pairs as well, so
// that those pairs are read twice, by two readers who do not see each other's labels (agreement.mjs):
//   node scripts/gold-set/parts.mjs WAVE-unlabelled.jsonl OUT_DIR [--parts 8] [--overlap 15]
// Writes OUT_DIR/part-<i>.jsonl and OUT_DIR/parts.json (which ids each part owns and which it reads second).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [sampled, outDir, ...rest] = process.argv.slice(2);
const flag = (name, fallback) => (rest.includes(name) ? Number(rest[rest.indexOf(name) + 1]) : fallback);
const parts = flag('--parts', 8);
const overlap = flag('--overlap', 15);
const rows = readFileSync(sampled, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
mkdirSync(outDir, { recursive: true });
const owned = Array.from({ length: parts }, (_, i) => rows.filter((_, k) => k % parts === i));
const plan = owned.map((mine, i) => {
  // The first `overlap` pairs of the next part, read second; shuffled in among this part's own by a fixed rule.
  const second = owned[(i + 1) % parts].slice(0, overlap);
  const all = [...mine];
  second.forEach((r, j) => all.splice(Math.min(all.length, 5 * j + 3), 0, r));
  const file = join(outDir, `part-${i}.jsonl`);
  writeFileSync(
    file,
    all.map((r) => JSON.stringify({ id: r.id, prompt: r.prompt, response: r.response })).join('\n') + '\n',
  );
  return { part: i, owns: mine.map((r) => r.id), second: second.map((r) => r.id) };
});
writeFileSync(join(outDir, 'parts.json'), JSON.stringify(plan, null, 1) + '\n');
console.error(
  `${rows.length} pairs in ${parts} parts of ${owned.map((o) => o.length).join('/')}, +${overlap} read twice each`,
);
