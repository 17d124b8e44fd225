import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic.js';
import type { CellResult } from '../pipeline/records.js';
import { analyzeResults, summarize } from '../pipeline/results.js';
import { stageSeeds } from '../pipeline/seeds.js';
import { buildReport as layOut, loadResults, type ResultsStore } from './report.js';

/** The report as the CLI builds it: the pipeline's analysis, laid out. */
const buildReport = (store: ResultsStore) => layOut(store, analyzeResults(store.results));

test('a report rebuilds from any working folder: stage paths relative to where the grid ran are found from run_dir', () => {
  const origin = mkdtempSync(join(tmpdir(), 'pharmacist-origin-'));
  const stage = (name: string) => join('runs', 'r', 'stages', name);
  writeJsonAtomic(join(origin, stage('align-1'), 'record.json'), {
    curves: {
      validation: [
        { step: 0, loss: 3 },
        { step: 10, loss: 2.5 },
      ],
    },
  });
  writeJsonAtomic(join(origin, stage('attack-1'), 'record.json'), {
    curves: {
      harmful: [
        { step: 0, loss: 4 },
        { step: 5, loss: 3.9 },
      ],
    },
  });
  const cell = {
    selector: 'full',
    ratio: 1,
    defense: 'sft',
    task: 'agnews',
    n: 10,
    p: 0.1,
    seed: 0,
    k: 10,
    harmful_score: 30,
    finetune_accuracy: 50,
    majority_rate: 25,
    select_seconds: 1,
    align_seconds: 2,
    attack_seconds: 3,
    harmful_score_by_attack_epoch: [10, 30],
    planted_outside: null,
    refusal_share: 0.7,
    stages: { select: stage('select-1'), align: stage('align-1'), attack: stage('attack-1'), eval: stage('eval-1') },
  };
  writeJsonAtomic(join(origin, 'runs', 'r', 'results.json'), {
    config: { run_dir: 'runs/r' },
    environment: {},
    results: [cell],
  });
  assert.ok(!existsSync(cell.stages.align), 'the test runs elsewhere');
  const store = loadResults(join(origin, 'runs', 'r'));
  assert.equal(store.results[0].stages.align, join(origin, stage('align-1')));
  const figure = buildReport(store).figures.find((f) => f.id === 'figure-3-validation-loss-during-alignment')!;
  assert.equal((figure.svg.match(/<circle/g) ?? []).length, 2, 'the alignment curve is read from its record');
  assert.ok(
    !buildReport(store).figures.some((f) => f.id === 'figure-paired-differences'),
    'no paired comparisons, no figure',
  );
  // Records are read typed: a store of another kind, or one without its results, is named with the field.
  writeJsonAtomic(join(origin, 'other.json'), { kind: 'select', config: {}, environment: {}, results: [] });
  assert.throws(() => loadResults(join(origin, 'other.json')), /other\.json: a "select" record, expected a "grid"/);
  writeJsonAtomic(join(origin, 'partial.json'), { kind: 'grid', config: {}, environment: {} });
  assert.throws(() => loadResults(join(origin, 'partial.json')), /partial\.json: field "results" is missing/);
  writeJsonAtomic(join(origin, stage('align-1'), 'record.json'), { kind: 'align' });
  assert.throws(() => buildReport(store), /align-1\/record\.json: field "curves" is missing/);
});

function cell(selector: string, ratio: number, seed: number, hs: number): CellResult {
  return {
    selector,
    ratio,
    defense: 'sft',
    task: 'agnews',
    n: 500,
    p: 0.1,
    seed,
    seeds: stageSeeds(seed),
    k: selector.startsWith('full') ? 100 : 100 * ratio,
    harmful_score: hs,
    harmful_score_ci: [hs - 5, hs + 5],
    harmful_margin: null,
    harmful_verdicts: [],
    harmful_verdict_scores: [],
    finetune_accuracy: 60,
    majority_rate: 28,
    select_seconds: 1,
    align_seconds: 10,
    attack_seconds: 10,
    harmful_score_by_attack_epoch: [hs],
    planted_outside: null,
    refusal_share: 0.7,
    stages: { select: 'missing', align: 'missing', attack: 'missing', eval: 'missing' },
  };
}

test('paired differences get a forest plot; Figure 1a has error bars and leaves the step-matched Full arm out', () => {
  const results = [0, 1].flatMap((seed) => [
    cell('full', 1, seed, 50 + seed),
    ...[0.2, 0.4].flatMap((ratio) => [
      cell('random', ratio, seed, 40 - 10 * ratio + seed),
      cell('pharmacist', ratio, seed, 30 - 10 * ratio + 2 * seed),
    ]),
    // Against random at 0.4: +0 and +3, an interval around 0.
    cell('full-steps', 0.4, seed, 36 + 4 * seed),
  ]);
  const store = { config: {}, environment: {}, results };
  const figures = buildReport(store).figures;
  const byId = (id: string) => figures.find((f) => f.id === id)!;

  const forest = byId('figure-paired-differences');
  const comparisons = summarize(results).reduce((n, a) => n + Object.keys(a.paired).length, 0);
  assert.ok(comparisons >= 8);
  assert.equal((forest.svg.match(/<circle/g) ?? []).length, comparisons, 'one row per arm and comparison');
  assert.match(forest.svg, />pharmacist k=40 − random \(seeds, n=2\)</);
  assert.match(forest.svg, />full-steps k=100 − random \(seeds, n=2\)</);
  assert.match(forest.svg, /Holm p = [\d.]+, undecided/, 'full-steps vs random: undecided');
  assert.match(forest.svg, /fill="white"/);
  assert.match(forest.caption, /t-interval over seeds/);
  assert.match(buildReport(store).html, /<figure id="figure-paired-differences"><svg /);

  const fig1a = byId('figure-1-harmful-score');
  const points = (fig1a.svg.match(/<circle/g) ?? []).length;
  assert.equal(points, 6, 'random and pharmacist, at two subset sizes and the full pool');
  assert.equal((fig1a.svg.match(/class="error-bar"/g) ?? []).length, points);
  assert.match(fig1a.caption, /95% t-intervals over seeds/);
  for (const id of ['figure-1-harmful-score', 'figure-1-alignment-time'])
    assert.doesNotMatch(byId(id).svg, /full-steps/, `${id}: no step-matched Full arm on the k axis`);

  // One arm with a single seed: its bars are Wilson intervals over prompts, and the caption says both.
  const mixed = buildReport({ ...store, results: results.filter((r) => r.selector !== 'pharmacist' || r.seed === 0) });
  assert.match(
    mixed.figures.find((f) => f.id === 'figure-1-harmful-score')!.caption,
    /95% intervals \(t over seeds, or Wilson over prompts with one seed\)/,
  );
});
