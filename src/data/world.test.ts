/** World builders: sizes, seeds, disjoint evaluation, planted labels, the harmful ratio. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildWorld, looksLikeRefusal, promptKey } from './world.js';

test('the default world has the documented sizes, p = 0.1, and evaluation prompts never seen in training', () => {
  const w = buildWorld();
  assert.deepEqual(
    [w.pool.length, w.validation.length, w.harmful.length, w.finetune.length, w.evalHarmful.length, w.evalTask.length],
    [2000, 200, 1000, 1000, 500, 500],
  );
  assert.equal(w.finetune.filter((s) => s.harmful).length, 100);
  assert.ok(w.validation.every((r) => looksLikeRefusal(r.response)));
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
  const byPrompt = new Map(natural.pool.map((r) => [r.prompt, r.response]));
  for (const r of w.pool.filter((x) => x.kind === 'corrupted')) {
    const original = byPrompt.get(r.prompt);
    if (original) assert.deepEqual(r.response.split(/\s+/).sort(), original.split(/\s+/).sort());
  }
  assert.throws(
    () => buildWorld({ plant: { corrupted: 0.6, mismatched: 0.6, benign: 0 } }),
    /planted fractions add up to more than the pool/,
  );
  assert.throws(() => buildWorld({ poolSize: 5000 }), /pool needs 5000 samples/);
});
