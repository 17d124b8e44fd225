import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic.js';
import { buildReport, loadResults } from './report.js';

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
});
