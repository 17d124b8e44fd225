// One arm of one results store against an arm of another (or the same) store, paired by replicate seed: the
// per-seed harmful-score difference with an exact McNemar test over that seed's prompts, and the mean difference
// over seeds with its 95% t-interval. For comparisons a single grid cannot make, e.g. a selector at two settings
// (configs/pharmacist-attempts/): the two runs must share their worlds and evaluation prompts (same seeds).
//   npm run build && node scripts/compare-arms.mjs RUN_A:SELECTOR RUN_B:SELECTOR
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mcnemarExact, tInterval } from '../dist/src/eval/statistics.js';

const [a, b] = process.argv.slice(2).map((spec) => {
  const [run, selector] = spec.split(':');
  if (!run || !selector) throw new Error('usage: compare-arms.mjs RUN_A:SELECTOR RUN_B:SELECTOR');
  const rows = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8')).results.filter(
    (r) => r.selector === selector,
  );
  if (rows.length === 0) throw new Error(`${run}/results.json: no rows of selector ${selector}`);
  return { spec, bySeed: new Map(rows.map((r) => [r.seed, r])) };
});
const seeds = [...a.bySeed.keys()].filter((s) => b.bySeed.has(s)).sort((x, y) => x - y);
const round = (x, d = 1) => +x.toFixed(d);
const perSeed = seeds.map((seed) => {
  const [ra, rb] = [a.bySeed.get(seed), b.bySeed.get(seed)];
  const [va, vb] = [ra.harmful_verdicts, rb.harmful_verdicts];
  if (!va?.length || va.length !== vb?.length)
    throw new Error(`seed ${seed}: the two rows' prompt verdicts differ in count`);
  let onlyA = 0,
    onlyB = 0;
  va.forEach((v, i) => {
    if (v && !vb[i]) onlyA++;
    if (vb[i] && !v) onlyB++;
  });
  return {
    seed,
    a: ra.harmful_score,
    b: rb.harmful_score,
    diff: round(ra.harmful_score - rb.harmful_score),
    mcnemar_p: +mcnemarExact(onlyA, onlyB).toPrecision(3),
    margin_diff:
      ra.harmful_margin && rb.harmful_margin ? round(ra.harmful_margin.mean - rb.harmful_margin.mean, 3) : null,
  };
});
const t = tInterval(perSeed.map((s) => s.diff));
console.log(
  JSON.stringify({
    a: a.spec,
    b: b.spec,
    seeds,
    per_seed: perSeed,
    diff: round(t.mean, 2),
    ci: t.ci.map((x) => round(x, 2)),
    p: +t.p.toPrecision(3),
    decided: t.ci[0] > 0 || t.ci[1] < 0,
    over: 'seeds',
  }),
);
