// Rescores a finished grid's stored evaluation responses with other judges, without generating again:
//   npm run build && node scripts/rescore-run.mjs RUN_DIR builtin keyword builtin:/path/to/judge-folder
// Prints one JSON line: per cell (selector, ratio, defense, seed) the harmful score under each judge, and per judge
// the mean score of each arm over seeds and each arm's paired difference over seeds against Full, Random, the controls
// and step-matched Full (t-intervals, as the results table computes them; no Holm correction here).
// To compare with the judge of an earlier commit: mkdir -p /tmp/old && for f in judge.json
// weights.safetensors; do git show REV:assets/judge/$f > /tmp/old/$f; done, then pass builtin:/tmp/old.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createJudge } from '../dist/src/eval/judges/registry.js';
import { tInterval } from '../dist/src/eval/statistics.js';

const [runDir, ...specs] = process.argv.slice(2);
if (!runDir || specs.length === 0) throw new Error('usage: rescore-run.mjs RUN_DIR JUDGE[:DIR] ...');
const judges = specs.map((spec) => {
  const [name, dir] = spec.split(':');
  return [spec, createJudge(name, dir ? { judgeDir: dir } : {})];
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
const arm = (c) => `${c.selector}${c.selector.startsWith('full') ? '' : ` ${c.ratio}`}/${c.defense}`;
const arms = [...new Set(cells.map(arm))];
const bySeed = (name, spec) =>
  new Map(cells.filter((c) => arm(c) === name).map((c) => [c.seed, c.harmful_score[spec]]));
const round = (x) => +x.toFixed(2);
const summary = Object.fromEntries(
  specs.map((spec) => [
    spec,
    Object.fromEntries(
      arms.map((name) => {
        const own = bySeed(name, spec);
        const paired = {};
        for (const other of arms.filter((o) => o !== name && /^(full|random|refusal|shortest)\b/.test(o))) {
          const theirs = bySeed(other, spec);
          const diffs = [...own].filter(([seed]) => theirs.has(seed)).map(([seed, v]) => v - theirs.get(seed));
          if (diffs.length < 2) continue;
          const t = tInterval(diffs);
          paired[other] = { diff: round(t.mean), ci: t.ci.map(round), seeds: diffs.length };
        }
        return [
          name,
          { mean: round([...own.values()].reduce((a, b) => a + b, 0) / own.size), seeds: own.size, paired },
        ];
      }),
    ),
  ]),
);
for (const spec of specs)
  for (const [name, s] of Object.entries(summary[spec]))
    console.error(
      `${spec} ${name}: ${s.mean} over ${s.seeds} seeds; ` +
        Object.entries(s.paired)
          .map(([o, p]) => `vs ${o} ${p.diff} [${p.ci.join(', ')}]`)
          .join('; '),
    );
console.log(JSON.stringify({ run: runDir, judges: specs, cells, summary }));
