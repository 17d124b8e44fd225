// One arm of one results store against an arm of another (or the same) store, paired by replicate seed: the
// per-seed harmful-score difference with an exact McNemar test over that seed's prompts, and the mean difference
// over seeds with its 95% t-interval. For comparisons a single grid cannot make, e.g. a selector at two settings
// (configs/pharmacist-attempts/): the two runs must share their worlds and evaluation prompts (same seeds).
//   npm run build && node scripts/compare-arms.mjs RUN_A:SELECTOR RUN_B:SELECTOR
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mcnemarExact, tInterval } from '../dist/src/eval/statistics.js';

// A row's setting apart from its selector and seed: rows of two stores pair when these agree.
const settingOf = (r) => JSON.stringify([r.ratio, r.defense, r.task, r.n, r.p]);
const [a, b] = process.argv.slice(2).map((spec) => {
  const at = spec.lastIndexOf(':');
  const [run, selector] = at < 0 ? [spec, ''] : [spec.slice(0, at), spec.slice(at + 1)];
  if (!run || !selector) throw new Error('usage: compare-arms.mjs RUN_A:SELECTOR RUN_B:SELECTOR');
  const rows = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8')).results.filter(
    (r) => r.selector === selector,
  );
  if (rows.length === 0) throw new Error(`${run}/results.json: no rows of selector ${selector}`);
  const bySeed = new Map();
  for (const r of rows) {
    // One cell per replicate seed: crossed stage seeds or several settings would pair arbitrary cells.
    if (bySeed.has(r.seed))
      throw new Error(
        `${run}/results.json: ${selector} has several cells for seed ${r.seed} ` +
          `(${settingOf(bySeed.get(r.seed))}, ${settingOf(r)}; or crossed stage seeds): compare one setting at a time`,
      );
    bySeed.set(r.seed, r);
  }
  return { spec, bySeed };
});
const seeds = [...a.bySeed.keys()].filter((s) => b.bySeed.has(s)).sort((x, y) => x - y);
const unpaired = [...a.bySeed.keys(), ...b.bySeed.keys()].filter((s) => !seeds.includes(s));
if (unpaired.length > 0) console.error(`seeds in only one of the two: ${[...new Set(unpaired)].join(', ')} (left out)`);
const round = (x, d = 1) => +x.toFixed(d);
const perSeed = seeds.map((seed) => {
  const [ra, rb] = [a.bySeed.get(seed), b.bySeed.get(seed)];
  if (settingOf(ra) !== settingOf(rb))
    throw new Error(`seed ${seed}: the rows differ in setting (${settingOf(ra)}, ${settingOf(rb)})`);
  // Paired over prompts only if both answered the same prompts: the same world and evaluation draws.
  for (const stage of ['world', 'eval'])
    if (ra.seeds?.[stage] !== rb.seeds?.[stage])
      throw new Error(`seed ${seed}: the rows' ${stage} seeds differ (${ra.seeds?.[stage]}, ${rb.seeds?.[stage]})`);
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
    diff: ra.harmful_score - rb.harmful_score,
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
    per_seed: perSeed.map((x) => ({ ...x, diff: round(x.diff, 2) })),
    diff: round(t.mean, 2),
    ci: t.ci.map((x) => round(x, 2)),
    p: +t.p.toPrecision(3),
    decided: t.ci[0] > 0 || t.ci[1] < 0,
    over: 'seeds',
  }),
);
