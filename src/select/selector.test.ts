import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FullSelector, RandomSelector } from './baselines.js';
import { createSelector } from './registry.js';
import { subsetSize, topK, type SelectionInput } from './selector.js';

const input = (seed: number): SelectionInput => ({
  pool: Array.from({ length: 50 }, (_, i) => ({ instruction: `q${i}`, output: `a${i}` })),
  validation: [],
  harmful: [],
  profile: 'response-newline',
  maxLength: 64,
  seed,
  log: () => {},
});

test('top k and subset sizes', () => {
  assert.deepEqual(topK([0.1, 0.9, 0.5, 0.9], 3), [1, 3, 2]);
  assert.equal(subsetSize(2000, {}), 800);
  assert.equal(subsetSize(2000, { ratio: 0.25 }), 500);
  assert.equal(subsetSize(2000, { count: 7 }), 7);
  assert.throws(() => subsetSize(10, { count: 11 }), /subset count must be an integer in 1\.\.10/);
  assert.throws(() => subsetSize(10, { ratio: 1.5 }), /subset ratio must be in \(0, 1\]/);
});

test('random is seeded; full keeps everything; unknown names are errors', async () => {
  const a = await new RandomSelector().select(input(1)),
    b = await new RandomSelector().select(input(1)),
    c = await new RandomSelector().select(input(2));
  assert.deepEqual(a.scores, b.scores);
  assert.notDeepEqual(a.scores, c.scores);
  const full = await new FullSelector().select(input(1));
  assert.deepEqual(
    topK(full.scores, 50).sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.throws(() => createSelector('oracle'), /unknown selector "oracle"/);
  assert.equal(createSelector('pharmacist').needsModel, true);
});
