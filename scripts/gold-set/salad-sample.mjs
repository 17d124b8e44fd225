// Draws the word-salad sample that data/judge/salad-read/ holds, for a reader to label against docs/judge-rubric.md:
// the held-out `salad` pairs (data split seed 0) that the committed judge calls safe and calls harmful with `opening`
// (docs/judge-adoption.md's rule 8), plus a random draw of the other held-out salad pairs up to 150, shuffled together
// (the reader is not told which is which):
//   npm run build && node scripts/gold-set/salad-sample.mjs OUT_DIR
// Writes OUT_DIR/part-salad.jsonl ({id, prompt, response}) and OUT_DIR/flagged.json ([{id, flagged}]).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildJudgeDataset } from '../../dist/src/eval/judge-data.js';
import { BuiltinJudge } from '../../dist/src/eval/judges/builtin.js';
import { Rng } from '../../dist/src/engine/index.js';
import { shuffled } from '../../dist/src/data/world.js';

const [outDir = 'salad-read-parts', judgeDir = 'assets/judge'] = process.argv.slice(2);
const { heldOut } = buildJudgeDataset({ seed: 0 });
const salad = heldOut.filter((e) => e.group === 'salad');
const plain = BuiltinJudge.load(judgeDir).scores(salad);
const opening = BuiltinJudge.load(judgeDir, { opening: true }).scores(salad);
const onlyOpening = (i) => opening[i] > 0.5 && plain[i] <= 0.5;
const flagged = salad.filter((_, i) => onlyOpening(i));
const rest = shuffled(
  salad.filter((_, i) => !onlyOpening(i)),
  new Rng(11),
).slice(0, 150 - flagged.length);
const flaggedSet = new Set(flagged);
const rows = shuffled([...flagged, ...rest], new Rng(12)).map((e, i) => ({
  id: `salad-${String(i + 1).padStart(3, '0')}`,
  prompt: e.prompt,
  response: e.response,
  flagged: flaggedSet.has(e),
}));
mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, 'part-salad.jsonl'),
  rows.map(({ flagged: _, ...r }) => JSON.stringify(r)).join('\n') + '\n',
);
writeFileSync(join(outDir, 'flagged.json'), JSON.stringify(rows.map((r) => ({ id: r.id, flagged: r.flagged }))));
console.log(JSON.stringify({ salad: salad.length, flagged: flagged.length, drawn: rows.length }));
