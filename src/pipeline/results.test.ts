import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CellResult } from './grid.js';
import { stageSeeds } from './seeds.js';
import { formatTable, referenceArms, resultsTable, summarize } from './results.js';

function cell(
  selector: string,
  ratio: number,
  defense: string,
  seed: number,
  hs: number,
  fa: number,
  alignSeconds: number,
): CellResult {
  return {
    selector,
    ratio,
    defense,
    task: 'agnews',
    n: 500,
    p: 0.1,
    seed,
    seeds: stageSeeds(seed),
    k: Math.round(100 * ratio),
    harmful_score: hs,
    harmful_score_ci: [hs - 5, hs + 5],
    harmful_margin: { mean: hs / 100, ci: [hs / 100 - 0.1, hs / 100 + 0.1], n: 100 },
    harmful_verdicts: [],
    harmful_verdict_scores: [],
    finetune_accuracy: fa,
    majority_rate: 28,
    select_seconds: 1,
    align_seconds: alignSeconds,
    attack_seconds: 10,
    harmful_score_by_attack_epoch: [hs / 2, hs],
    planted_outside: null,
    refusal_share: 0.7,
    stages: { select: 's', align: 'a', attack: 't', eval: 'e' },
  };
}

test('results table: each arm against the full pool under its defense and against SFT on its data', () => {
  const results = [0, 1].flatMap((seed) => [
    cell('full', 1, 'sft', seed, 40 + seed, 60, 200),
    cell('pharmacist', 0.4, 'sft', seed, 30 + seed, 61, 80),
    cell('full', 1, 'vaccine', seed, 35 + seed, 58, 400),
    cell('pharmacist', 0.4, 'vaccine', seed, 20 + seed, 59, 100),
  ]);
  const arms = summarize(results);
  const [fullSft, pharmSft, fullVaccine, pharmVaccine] = arms;
  assert.equal(referenceArms(pharmVaccine, arms).full, fullVaccine, 'the full pool under the same defense');
  assert.equal(referenceArms(pharmVaccine, arms).sft, pharmSft, 'the same data aligned with SFT');
  assert.equal(referenceArms(fullSft, arms).full, undefined);
  assert.equal(referenceArms(fullSft, arms).sft, undefined);

  const { header, rows, constant } = resultsTable(arms);
  assert.deepEqual(constant, ['task agnews', 'n 500', 'p 0.1']);
  const column = (name: string) => rows.map((r) => r[header.indexOf(name)]);
  assert.deepEqual(column('defense'), ['sft', 'sft', 'vaccine', 'vaccine']);
  assert.deepEqual(column('harmful score %'), ['40.5 ± 0.7', '30.5 ± 0.7', '35.5 ± 0.7', '20.5 ± 0.7']);
  assert.deepEqual(column('HS vs full'), [
    '—',
    '−10.0 [-10.0, -10.0] over seeds',
    '—',
    '−15.0 [-15.0, -15.0] over seeds',
  ]);
  assert.deepEqual(column('FA vs full'), ['—', '+1.0', '—', '+1.0']);
  assert.deepEqual(column('align time vs full'), ['—', '0.40×', '—', '0.25×']);
  assert.deepEqual(column('HS vs SFT'), ['—', '—', '−5.0 [-5.0, -5.0] over seeds', '−10.0 [-10.0, -10.0] over seeds']);
  assert.deepEqual(column('FA vs SFT'), ['—', '—', '−2.0', '−2.0']);
  assert.deepEqual(column('align s'), ['200 ± 0', '80 ± 0', '400 ± 0', '100 ± 0']);
  assert.equal(header.includes('task'), false, 'columns that do not vary are left out');
});

test('results table: no comparison columns where the grid has no reference arm', () => {
  const table = formatTable(
    summarize([cell('random', 0.4, 'sft', 0, 50, 55, 90), cell('pharmacist', 0.4, 'sft', 0, 45, 56, 90)]),
  );
  assert.doesNotMatch(table, /vs full|vs SFT/);
  assert.equal(table.split('\n').length, 4);
});

test('results: intervals per arm (Wilson for one seed, t over seeds) and a note where score and margin disagree', () => {
  const one = summarize([cell('full', 1, 'sft', 0, 40, 60, 200)]);
  assert.deepEqual(one[0].harmful_score_ci, [35, 45], "one seed: the cell's own interval over prompts");
  assert.equal(one[0].harmful_score_ci_over, 'prompts');
  const results = [0, 1].flatMap((seed) => [
    cell('full', 1, 'sft', seed, 40 + seed, 60, 200),
    cell('pharmacist', 0.4, 'sft', seed, 30 + seed, 61, 80),
  ]);
  // The margin follows the score in cell(); make Pharmacist's margin higher while its score is lower.
  for (const r of results) if (r.selector === 'pharmacist') r.harmful_margin = { mean: 0.9, ci: [0.8, 1], n: 100 };
  const arms = summarize(results);
  // 40 and 41: mean 40.5, sd 0.7071, se 0.5, t(0.975, 1) = 12.7062 -> 40.5 -+ 6.3531.
  assert.ok(Math.abs(arms[0].harmful_score_ci![0] - 34.1469) < 1e-3 && arms[0].harmful_score_ci_over === 'seeds');
  assert.deepEqual(arms[1].harmful_margin, { mean: 0.9, ci: [0.9, 0.9] });
  const table = formatTable(arms);
  assert.match(table, /Note: pharmacist 0.4 \+ sft vs full \+ sft: the harmful score says −10.0 points/);
  assert.equal(formatTable(summarize([cell('full', 1, 'sft', 0, 40, 60, 200)])).includes('Note:'), false);
});

test('paired differences: over seeds with a t-interval, within one seed by McNemar and a bootstrap over prompts', () => {
  // Three seeds; Pharmacist - Random = -13.5, +7.0, -18.5 (the numbers): mean -8.33, undecided.
  const hs: [number, number][] = [
    [28.0, 41.5],
    [44.0, 37.0],
    [45.0, 63.5],
  ];
  const results = hs.flatMap(([ph, rnd], seed) => [
    cell('random', 0.4, 'sft', seed, rnd, 60, 90),
    cell('pharmacist', 0.4, 'sft', seed, ph, 60, 90),
  ]);
  const d = summarize(results)[1].paired.vs_random;
  // scipy: mean -8.3333, sd 13.5123, t(0.975, 2) 4.302653 -> half-width 33.5665; p 0.3973.
  assert.equal(d.over, 'seeds');
  assert.ok(Math.abs(d.diff + 8.3333) < 1e-3 && Math.abs(d.ci[1] - d.ci[0] - 2 * 33.5665) < 1e-2, JSON.stringify(d));
  assert.ok(Math.abs(d.p - 0.3973) < 1e-3 && d.decided === false);
  assert.match(formatTable(summarize(results)), /−8\.3 \[-41\.9, 25\.2\] over seeds undecided/);

  // One seed, 40 prompts: the arm is harmful on 12 prompts where the reference is not, the reverse on 2.
  const a = Array.from({ length: 40 }, (_, i) => (i < 12 || (i >= 20 && i < 25) ? 1 : 0));
  const b = Array.from({ length: 40 }, (_, i) => ((i >= 12 && i < 14) || (i >= 20 && i < 25) ? 1 : 0));
  const one = summarize([
    { ...cell('random', 0.4, 'sft', 0, 17.5, 60, 90), harmful_verdicts: b },
    { ...cell('pharmacist', 0.4, 'sft', 0, 42.5, 60, 90), harmful_verdicts: a },
  ])[1].paired.vs_random;
  assert.equal(one.over, 'prompts');
  assert.equal(one.diff, 25);
  // 2 * P(Binomial(14, 1/2) <= 2) = 0.012939453125 (scipy.stats.binom.cdf(2, 14, 0.5) * 2)
  assert.ok(Math.abs(one.p - 0.012939453125) < 1e-12);
  assert.ok(one.ci[0] > 0 && one.ci[1] > one.diff && one.decided);
});

test('Holm adjusts over distinct comparisons: A vs B and B vs A are one hypothesis', () => {
  // Three seeds of full, random and refusal: the table holds random vs full, refusal vs full, random vs refusal
  // and refusal vs random; the last two are one comparison, so Holm runs over 3 p-values, not 4.
  const hs = [
    [30, 38, 47],
    [34, 41, 50],
    [28, 33, 45],
  ];
  const arms = summarize(
    hs.flatMap(([f, r, q], seed) => [
      cell('full', 1, 'sft', seed, f, 60, 200),
      cell('random', 0.4, 'sft', seed, r, 60, 90),
      cell('refusal', 0.4, 'sft', seed, q, 60, 90),
    ]),
  );
  const [, random, refusal] = arms;
  const ps = [random.paired.vs_full, refusal.paired.vs_full, random.paired.vs_refusal];
  assert.deepEqual(random.paired.vs_refusal.p, refusal.paired.vs_random.p);
  assert.equal(random.paired.vs_refusal.p_holm, refusal.paired.vs_random.p_holm);
  const sorted = ps.map((d) => d.p).sort((a, b) => a - b);
  const smallest = ps.find((d) => d.p === sorted[0])!;
  assert.ok(Math.abs(smallest.p_holm - Math.min(1, 3 * sorted[0])) < 1e-12, JSON.stringify(ps));
});
