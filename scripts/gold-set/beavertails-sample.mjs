// Draws samples of BeaverTails unsafe answers (the judge's `unsafe` group, data split seed 0) for readers to label
// against docs/judge-rubric.md (data/judge/beavertails-read/README.md), in parts of 150 {id, prompt, response}:
//   npm run build && node scripts/gold-set/beavertails-sample.mjs OUT_DIR            (test.jsonl's sample: 300 of the
//                                                                                      held-out part, ids bt-NNN)
//   node scripts/gold-set/beavertails-sample.mjs OUT_DIR --train                      (train.jsonl's first 1,200 of the
//                                                                                      training part, ids btt-NNNN)
//   node scripts/gold-set/beavertails-sample.mjs OUT_DIR --train --from 1200 --count 3600   (the rest of that part,
//                                                                                      btt-1201 to btt-4800)
// Each sample is drawn with its own fixed seed, so rerunning gives the same pairs in the same order.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../dist/src/engine/index.js';
import { shuffled } from '../../dist/src/data/world.js';
import { buildJudgeDataset } from '../../dist/src/eval/judge-data.js';

const [outDir = 'beavertails-read-parts', ...rest] = process.argv.slice(2);
const fromTrain = rest.includes('--train');
const flag = (name, fallback) => (rest.includes(name) ? Number(rest[rest.indexOf(name) + 1]) : fallback);
// Every unsafe answer, read or not, whatever the data defaults say: the draw must not depend on what was read.
const { train, heldOut } = buildJudgeDataset({ seed: 0, unsafeRead: null, keepUnreadUnsafe: true });
const [source, seed, prefix, digits] = fromTrain ? [train, 20261207, 'btt', 4] : [heldOut, 20261206, 'bt', 3];
const from = flag('--from', 0);
const count = flag('--count', fromTrain ? 1200 : 300);
const rows = shuffled(
  source.filter((e) => e.group === 'unsafe'),
  new Rng(seed),
)
  .slice(from, from + count)
  .map((e, i) => ({
    id: `${prefix}-${String(from + i + 1).padStart(digits, '0')}`,
    prompt: e.prompt,
    response: e.response,
  }));
mkdirSync(outDir, { recursive: true });
for (let part = 0; part * 150 < rows.length; part++)
  writeFileSync(
    join(outDir, `part-${from / 150 + part}.jsonl`),
    rows
      .slice(150 * part, 150 * (part + 1))
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
console.log(JSON.stringify({ drawn: rows.length, out: outDir }));
