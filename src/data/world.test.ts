/** World builders: sizes, seeds, disjoint evaluation, planted labels, the harmful ratio. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { deriveSeed } from '../engine/index.js';
import { dataDir, loadInstructions } from './datasets.js';
import { buildWorld, FILES, looksLikeRefusal, promptKey } from './world.js';

test('the default world has the documented sizes, p = 0.1, and evaluation prompts never seen in training', () => {
  const w = buildWorld();
  assert.deepEqual(
    [w.pool.length, w.validation.length, w.harmful.length, w.finetune.length, w.evalHarmful.length, w.evalTask.length],
    [2000, 200, 1000, 1000, 500, 500],
  );
  assert.equal(w.finetune.filter((s) => s.harmful).length, 100);
  // The default validation set is drawn at random: not all refusals by the cue list (the source has ~73%).
  assert.ok(w.validation.some((r) => !looksLikeRefusal(r.response)));
  const validationKeys = new Set(w.validation.map((r) => promptKey(r.prompt)));
  assert.ok(
    w.pool.every((r) => !validationKeys.has(promptKey(r.prompt))),
    'validation and pool are disjoint',
  );
  const train = new Set(
    [...w.pool, ...w.validation, ...w.harmful]
      .map((r) => promptKey(r.prompt))
      .concat(w.finetune.map((s) => promptKey(s.input || s.instruction))),
  );
  assert.ok(w.evalHarmful.every((r) => !train.has(promptKey(r.prompt))));
  assert.equal(new Set(w.evalHarmful.map((r) => promptKey(r.prompt))).size, 500, 'unique eval prompts');
  for (const [pair, n] of Object.entries(w.overlaps)) if (pair.includes('eval')) assert.equal(n, 0, pair);
  assert.equal(Object.keys(w.sources).length, 5);
});

test('same seed, same world; another seed, another draw', () => {
  const a = buildWorld({ seed: 3, task: 'agnews' }),
    b = buildWorld({ seed: 3, task: 'agnews' }),
    c = buildWorld({ seed: 4, task: 'agnews' });
  assert.deepEqual(a.pool, b.pool);
  assert.deepEqual(a.finetune, b.finetune);
  assert.notDeepEqual(
    a.pool.map((r) => r.prompt),
    c.pool.map((r) => r.prompt),
  );
  assert.ok(a.evalTask.every((e) => ['World', 'Sports', 'Business', 'Sci/Tech'].includes(e.answer)));
});

test('planted samples are labelled and altered as described', () => {
  const w = buildWorld({ plant: { corrupted: 0.1, mismatched: 0.05, benign: 0.2 } });
  const count = (k: string) => w.pool.filter((r) => r.kind === k).length;
  assert.deepEqual([count('corrupted'), count('mismatched'), count('benign'), count('natural')], [200, 100, 400, 1300]);
  const natural = buildWorld();
  // The source repeats some prompts with other answers: a corrupted answer is a shuffle of one of them.
  const words = (text: string) => JSON.stringify(text.split(/\s+/).sort());
  const byPrompt = new Map<string, Set<string>>();
  for (const r of natural.pool) byPrompt.set(r.prompt, (byPrompt.get(r.prompt) ?? new Set()).add(words(r.response)));
  let checked = 0;
  for (const r of w.pool.filter((x) => x.kind === 'corrupted')) {
    const originals = byPrompt.get(r.prompt);
    if (!originals) continue;
    assert.ok(originals.has(words(r.response)), r.prompt);
    checked++;
  }
  assert.ok(checked > 100, `${checked} corrupted answers checked against their originals`);
  assert.throws(
    () => buildWorld({ plant: { corrupted: 0.6, mismatched: 0.6, benign: 0 } }),
    /planted fractions add up to more than the pool/,
  );
  assert.throws(() => buildWorld({ poolSize: 5000 }), /pool needs 5000 samples/);
});

test("the refusal-cues validation rule keeps only cue-list refusals, and leaves the pool's make-up alone", () => {
  const w = buildWorld({ validation: 'refusal-cues', poolSize: 400 });
  assert.ok(w.validation.every((r) => looksLikeRefusal(r.response)));
  const share = w.pool.filter((r) => looksLikeRefusal(r.response)).length / w.pool.length;
  assert.ok(share > 0.6 && share < 0.85, `pool refusal share ${share}`);
});

test("the pool is a uniform sample whatever its size: its refusal share stays within sampling error of the source's", () => {
  const source = loadInstructions(join(dataDir(), FILES.safety), { isSafe: true }).records;
  const p = source.filter((r) => looksLikeRefusal(r.response)).length / source.length;
  for (const size of [40, 200, 800, 2000]) {
    const seeds = [0, 1, 2, 3];
    const shares = seeds.map((seed) => {
      const pool = buildWorld({ seed, poolSize: size }).pool;
      return pool.filter((r) => looksLikeRefusal(r.response)).length / size;
    });
    const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
    // Binomial standard error of a mean of 4 draws of `size` (the hypergeometric one is smaller): 4 SE allowed.
    const se = Math.sqrt((p * (1 - p)) / (size * seeds.length));
    assert.ok(Math.abs(mean - p) <= 4 * se, `pool ${size}: refusal share ${mean.toFixed(3)}, source ${p.toFixed(3)}`);
  }
});

test('the evaluation draw has its own seed: it changes which prompts are scored and nothing else', () => {
  const a = buildWorld({ seed: 1, poolSize: 100 }),
    b = buildWorld({ seed: 1, poolSize: 100, evalSeed: 12345 }),
    c = buildWorld({ seed: 2, poolSize: 100, evalSeed: deriveSeed(1, 'eval') });
  assert.deepEqual(a.pool, b.pool);
  assert.deepEqual(a.finetune, b.finetune);
  assert.notDeepEqual(a.evalHarmful, b.evalHarmful);
  assert.notDeepEqual(a.evalTask, b.evalTask);
  assert.equal(a.config.evalSeed, null, 'null: derived from the world seed');
  assert.notDeepEqual(a.pool, c.pool);
  assert.deepEqual(a.evalHarmful, c.evalHarmful, 'another world, the same evaluation draw');
});

test('no fine-tuning text is a task test item, drawn or not (SST-2 repeats five sentences between its splits)', () => {
  for (const seed of [0, 3, 5]) {
    const w = buildWorld({ seed, poolSize: 100, task: 'sst2', finetuneSize: 300, harmfulRatio: 0.2 });
    assert.equal(w.overlaps['finetune~evalTask'], 0, `seed ${seed}`);
  }
});
