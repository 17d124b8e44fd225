/**
 * The report opens in headless Chromium (Debian's chromium-headless-shell; CI installs it) without console
 * errors and shows every table and plot. Skipped where no Chromium is installed, except in CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomic } from '../src/io/atomic.js';
import type { CellResult } from '../src/pipeline/grid.js';
import { stageSeeds } from '../src/pipeline/seeds.js';
import { reportOf } from '../src/cli/reporting.js';

const chromium = ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'].find(existsSync);

function syntheticStore(dir: string) {
  const results: CellResult[] = [];
  for (const seed of [0, 1]) {
    for (const [selector, ratio, k] of [
      ['full', 1, 100],
      ['random', 0.2, 20],
      ['random', 0.4, 40],
      ['pharmacist', 0.2, 20],
      ['pharmacist', 0.4, 40],
    ] as const) {
      const stage = (name: string) => join(dir, `${name}-${selector}-${ratio}-${seed}`);
      writeJsonAtomic(join(stage('align'), 'record.json'), {
        curves: { validation: [0, 10, 20].map((step) => ({ step, loss: 3 - step / 20 + seed / 10 })) },
      });
      writeJsonAtomic(join(stage('attack'), 'record.json'), {
        curves: { harmful: [0, 5, 10].map((step) => ({ step, loss: 4 - step / 10 })) },
      });
      results.push({
        selector,
        ratio,
        defense: 'sft',
        task: 'agnews',
        n: 500,
        p: 0.1,
        seed,
        seeds: stageSeeds(seed),
        k,
        harmful_score: 40 - k / 5 + seed,
        harmful_score_ci: [35 - k / 5 + seed, 45 - k / 5 + seed],
        harmful_margin: { mean: -1 + seed / 10, ci: [-1.2 + seed / 10, -0.8 + seed / 10], n: 200 },
        harmful_verdicts: [],
        harmful_verdict_scores: [],
        finetune_accuracy: 60 + seed,
        majority_rate: 28,
        select_seconds: 5,
        align_seconds: k,
        attack_seconds: 30,
        harmful_score_by_attack_epoch: [10, 20, 30 + seed],
        planted_outside: null,
        refusal_share: 0.7,
        stages: { select: stage('select'), align: stage('align'), attack: stage('attack'), eval: stage('eval') },
      });
    }
  }
  return { config: { run_dir: dir }, environment: { node: process.version }, results, status: 'done' };
}

test(
  'report.html opens in headless Chromium without errors and shows every table and plot',
  { skip: !chromium && process.env.CI !== 'true' && 'no Chromium here (apt-get install chromium-headless-shell)' },
  () => {
    assert.ok(chromium, 'CI installs chromium-headless-shell');
    const dir = mkdtempSync(join(tmpdir(), 'pharmacist-report-'));
    reportOf(syntheticStore(dir), dir);
    const run = spawnSync(
      chromium!,
      [
        '--no-sandbox',
        '--disable-gpu',
        '--enable-logging=stderr',
        '--v=0',
        '--virtual-time-budget=2000',
        '--dump-dom',
        `file://${join(dir, 'report.html')}`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    const consoleErrors = run.stderr.split('\n').filter((l) => /CONSOLE|Uncaught|Refused to|net::ERR/.test(l));
    assert.deepEqual(consoleErrors, [], 'no console errors, no blocked or failed loads');
    const dom = run.stdout;
    assert.equal((dom.match(/<tr>/g) ?? []).length, 1 + 5, 'the results table: header and five settings');
    const figures = [...dom.matchAll(/<figure id="([^"]+)">([\s\S]*?)<\/figure>/g)];
    assert.deepEqual(
      figures.map((f) => f[1]),
      [
        'figure-1-harmful-score',
        'figure-1-alignment-time',
        'figure-3-harmful-score-during-fine-tuning',
        'figure-3-validation-loss-during-alignment',
        'figure-3-harmful-loss-during-fine-tuning',
        'figure-paired-differences',
      ],
    );
    for (const [, id, body] of figures) {
      assert.match(body, /<svg /, id);
      assert.ok((body.match(/<circle/g) ?? []).length >= 3, `${id} plots its points`);
    }
    assert.match(dom, /<pre id="manifest">/);
  },
);
