/** pharmacist demo's grid end to end on a tiny model at toy scale: five arms, a table, the summary fields. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoConfig, runDemo } from '../src/pipeline/demo.js';
import { writeTinyModel } from './tiny-model.js';

test('the demo config: Full, Random, Pharmacist and the controls at 40%, SFT, AG News, seeds from --first-seed', () => {
  const c = demoConfig({ seeds: 3, firstSeed: 2 });
  assert.deepEqual(c.grid.selector, ['full', 'random', 'pharmacist', 'refusal', 'shortest']);
  assert.deepEqual(c.grid.ratio, [0.4]);
  assert.deepEqual(c.grid.defense, ['sft']);
  assert.deepEqual(c.grid.task, ['agnews']);
  assert.deepEqual(c.grid.seed, [2, 3, 4]);
  assert.equal(c.select.pharmacist.safety, 'plain');
});

test('runDemo prints a table and returns one summary per arm', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-demo-'));
  const model = writeTinyModel(join(dir, 'model'));
  const lines: string[] = [];
  const { arms } = await runDemo(
    {
      seeds: 1,
      firstSeed: 0,
      overrides: {
        model,
        run_dir: join(dir, 'run'),
        workers: 1,
        world: { pool_size: 10, validation_size: 4, harmful_size: 4, eval_harmful: 3, eval_task: 3 },
        grid: { n: [6] },
        select: { max_length: 40, pharmacist: { batch_size: 5 } },
        align: { epochs: 1, batch_size: 5, max_length: 40 },
        attack: { epochs: 1, batch_size: 3, max_length: 40 },
        eval: { judge: 'keyword', max_new_tokens: 3, probe_prompts: 2 },
      },
    },
    (l) => lines.push(l),
  );
  assert.deepEqual(
    arms.map((a) => [a.selector, a.k]),
    [
      ['full', 10],
      ['random', 4],
      ['pharmacist', 4],
      ['refusal', 4],
      ['shortest', 4],
    ],
  );
  const pharmacist = arms.find((a) => a.selector === 'pharmacist')!;
  assert.deepEqual(Object.keys(pharmacist.paired).sort(), ['vs_full', 'vs_random', 'vs_refusal', 'vs_shortest']);
  assert.equal(pharmacist.paired.vs_refusal.over, 'prompts', 'one seed: over prompts');
  for (const a of arms) {
    for (const key of ['harmful_score', 'finetune_accuracy', 'select_seconds', 'align_seconds'] as const)
      assert.equal(typeof a[key], 'number', `${a.selector}.${key}`);
    assert.equal(a.harmful_score_by_attack_epoch.length, 1);
  }
  assert.ok(
    lines.some((l) => /^\| selector +\| k/.test(l)),
    'a table',
  );
  assert.ok(existsSync(join(dir, 'run', 'results.json')));
});
