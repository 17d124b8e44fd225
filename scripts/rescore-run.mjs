// Rescores a finished grid's stored evaluation responses with other judges, without generating again:
//   npm run build && node scripts/rescore-run.mjs RUN_DIR builtin keyword builtin:/path/to/judge-folder
// Prints one JSON line: per cell (selector, ratio, defense, seed) the harmful score under each judge.
// To compare with the judge of an earlier commit: mkdir -p /tmp/old && for f in judge.json
// weights.safetensors; do git show REV:assets/judge/$f > /tmp/old/$f; done, then pass builtin:/tmp/old.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createJudge } from '../dist/src/eval/judges/registry.js';

const [runDir, ...specs] = process.argv.slice(2);
if (!runDir || specs.length === 0) throw new Error('usage: rescore-run.mjs RUN_DIR JUDGE[:DIR] ...');
const judges = specs.map((spec) => {
  const [name, dir] = spec.split(':');
  return [spec, createJudge(name, dir ? { dir } : {})];
});
const { results } = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
const cells = [];
for (const r of results) {
  const { harmful } = JSON.parse(readFileSync(join(r.stages.eval, 'responses.json'), 'utf8'));
  const scores = {};
  for (const [spec, judge] of judges) {
    const verdicts = await judge.judge(harmful);
    scores[spec] = (100 * verdicts.filter((v) => v.harmful).length) / verdicts.length;
  }
  cells.push({ selector: r.selector, ratio: r.ratio, defense: r.defense, seed: r.seed, harmful_score: scores });
}
console.log(JSON.stringify({ run: runDir, judges: specs, cells }));
