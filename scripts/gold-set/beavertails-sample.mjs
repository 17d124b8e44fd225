// Draws samples of BeaverTails unsafe answers (the judge's `unsafe` group, data split seed 0) for readers to label
// against docs/judge-rubric.md (data/judge/beavertails-read/README.md), in parts of 150 {id, prompt, response}:
//   npm run build && node scripts/gold-set/beavertails-sample.mjs OUT_DIR            (test.jsonl's sample: 300 of the
//                                                                                      held-out part, ids bt-NNN)
//   node scripts/gold-set/beavertails-sample.mjs OUT_DIR --train                      (train.jsonl's: 1,200 of the
//                                                                                      training part, ids btt-NNNN)
// Each sample is drawn with its own fixed seed, so rerunning gives the same pairs in the same order.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../dist/src/engine/index.js';
import { shuffled } from '../../dist/src/data/world.js';
import { buildJudgeDataset } from '../../dist/src/eval/judge-data.js';

const [outDir = 'beavertails-read-parts', ...rest] = process.argv.slice(2);
const fromTrain = rest.includes('--train');
const { train, heldOut } = buildJudgeDataset({ seed: 0 });
const [source, count, seed, prefix, digits] = fromTrain
  ? [train, 1200, 20261207, 'btt', 4]
  : [heldOut, 300, 20261206, 'bt', 3];
const rows = shuffled(
  source.filter((e) => e.group === 'unsafe'),
  new Rng(seed),
)
  .slice(0, count)
  .map((e, i) => ({ id: `${prefix}-${String(i + 1).padStart(digits, '0')}`, prompt: e.prompt, response: e.response }));
mkdirSync(outDir, { recursive: true });
for (let part = 0; part * 150 < rows.length; part++)
  writeFileSync(
    join(outDir, `part-${part}.jsonl`),
    rows
      .slice(150 * part, 150 * (part + 1))
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
console.log(JSON.stringify({ drawn: rows.length, out: outDir }));
