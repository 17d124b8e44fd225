// One arm of one results store against an arm of another (or the same) store, paired as a grid's table pairs its
// arms (pairedDifference in src/pipeline/results.ts: by replicate, i.e. the same stage seeds; over seeds a
// t-interval with a bootstrap check, one seed over prompts), with each seed's difference and exact McNemar p over
// its prompts. For comparisons a single grid cannot make, e.g. a selector at two settings
// (configs/pharmacist-attempts/): the two runs must share their worlds and evaluation prompts (same seeds).
//   npm run build && node scripts/compare-arms.mjs RUN_A:SELECTOR RUN_B:SELECTOR
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pairedDifference, summarize } from '../dist/src/pipeline/results.js';
import { discordantPairs, mcnemarExact } from '../dist/src/eval/statistics.js';

/** What pairs two cells: the same replicate (stage seeds), as the tables pair them. */
const replicate = (r) => JSON.stringify(r.seeds ?? r.seed);
const [a, b] = process.argv.slice(2).map((spec) => {
  const at = spec.lastIndexOf(':');
  const [run, selector] = at < 0 ? [spec, ''] : [spec.slice(0, at), spec.slice(at + 1)];
  if (!run || !selector) throw new Error('usage: compare-arms.mjs RUN_A:SELECTOR RUN_B:SELECTOR');
  const rows = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8')).results;
  const arms = summarize(rows).filter((arm) => arm.selector === selector);
  if (arms.length === 0) throw new Error(`${run}/results.json: no rows of selector ${selector}`);
  const setting = (arm) => JSON.stringify([arm.ratio, arm.defense, arm.task, arm.n, arm.p]);
  if (arms.length > 1)
    throw new Error(`${run}/results.json: ${selector} at several settings (${arms.map(setting).join(', ')})`);
  const [arm] = arms;
  // One cell per replicate seed: crossed stage seeds are not independent replicates.
  if (new Set(arm.seeds).size !== arm.seeds.length)
    throw new Error(`${run}/results.json: ${selector} has several cells per seed (crossed stage seeds)`);
  // Each replicate's harmful margin (the summary keeps its mean over seeds only).
  const margins = new Map(
    rows.filter((r) => r.selector === selector).map((r) => [replicate(r), r.harmful_margin?.mean ?? null]),
  );
  return { spec, arm, margins, setting: setting(arm) };
});
if (a.setting !== b.setting) throw new Error(`the arms differ in setting (${a.setting}, ${b.setting})`);
const marginDiff = (x, y) => (x == null || y == null ? null : +(x - y).toFixed(3));
const d = pairedDifference(a.arm, b.arm);
if (d === null) throw new Error('the two arms share no replicate (the same stage seeds)');
const refs = new Map(b.arm.by_seed.map((r) => [replicate(r), r]));
const perSeed = a.arm.by_seed
  .filter((r) => refs.has(replicate(r)))
  .map((r) => {
    const ref = refs.get(replicate(r));
    return {
      seed: r.seed,
      a: r.harmful_score,
      b: ref.harmful_score,
      diff: +(r.harmful_score - ref.harmful_score).toFixed(2),
      mcnemar_p: +mcnemarExact(...discordantPairs(r.verdicts, ref.verdicts)).toPrecision(3),
      margin_diff: marginDiff(a.margins.get(replicate(r)), b.margins.get(replicate(r))),
    };
  });
const onlyIn = (x, y) => x.arm.by_seed.filter((r) => !y.margins.has(replicate(r))).map((r) => r.seed);
const unpaired = [...onlyIn(a, b), ...onlyIn(b, a)];
if (unpaired.length > 0) console.error(`seeds in only one of the two: ${[...new Set(unpaired)].join(', ')} (left out)`);
const round = (x) => +x.toFixed(2);
console.log(
  JSON.stringify({
    a: a.spec,
    b: b.spec,
    per_seed: perSeed,
    ...d,
    diff: round(d.diff),
    ci: d.ci.map(round),
    ...(d.bootstrap_ci ? { bootstrap_ci: d.bootstrap_ci.map(round) } : {}),
    p: +d.p.toPrecision(3),
  }),
);
