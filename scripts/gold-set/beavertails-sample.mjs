// Draws the sample of held-out BeaverTails unsafe answers that readers label against docs/judge-rubric.md
// (data/judge/beavertails-read/README.md): 300 of the `unsafe` group's held-out pairs at data split seed 0, drawn
// with a fixed seed, written as two parts of 150 {id, prompt, response} for two readers:
//   npm run build && node scripts/gold-set/beavertails-sample.mjs OUT_DIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../dist/src/engine/index.js';
import { shuffled } from '../../dist/src/data/world.js';
import { buildJudgeDataset } from '../../dist/src/eval/judge-data.js';

const outDir = process.argv[2] ?? 'beavertails-read-parts';
const SAMPLE_SEED = 20261206;
const { heldOut } = buildJudgeDataset({ seed: 0 });
const rows = shuffled(
  heldOut.filter((e) => e.group === 'unsafe'),
  new Rng(SAMPLE_SEED),
)
  .slice(0, 300)
  .map((e, i) => ({ id: `bt-${String(i + 1).padStart(3, '0')}`, prompt: e.prompt, response: e.response }));
mkdirSync(outDir, { recursive: true });
for (const part of [0, 1])
  writeFileSync(
    join(outDir, `part-${part}.jsonl`),
    rows
      .slice(150 * part, 150 * (part + 1))
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
console.log(JSON.stringify({ drawn: rows.length, out: outDir }));
