import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './rng.js';

test('fillBernoulli draws exactly what uniform() per element would, and leaves the stream in the same place', () => {
  for (const p of [0, 0.05, 0.5, 0.999]) {
    const a = new Rng(42),
      b = new Rng(42);
    const fast = new Float32Array(10_000);
    a.fillBernoulli(fast, p, 2);
    const slow = Float32Array.from({ length: 10_000 }, () => (b.uniform() >= p ? 2 : 0));
    assert.deepEqual(fast, slow, `p = ${p}`);
    assert.equal(a.nextUint32(), b.nextUint32());
  }
});
