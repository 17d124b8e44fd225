/** Gradient-map helpers: the exact arithmetic of the loops they replaced (results of selectors are pinned). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import { Tensor } from '../tensor.js';
import { mul, sum } from '../ops/index.js';
import { addScaled, gradNorm, gradientOf, stepAlong, type GradMap } from './grad-map.js';

const random = (rng: Rng, n: number) => Float32Array.from({ length: n }, () => rng.normal());

test('gradNorm keeps one float64 running sum, in map order then element order', () => {
  // 1 + 1 + 1e16 is exact; 1e16 + 1 + 1 loses both ones (ties to even), so the order shows in the result.
  const small: [string, Float32Array] = ['small', new Float32Array([1, 1])],
    big: [string, Float32Array] = ['big', new Float32Array([1e8])];
  assert.equal(gradNorm(new Map([small, big])), Math.sqrt(1e16 + 2));
  assert.equal(gradNorm(new Map([big, small])), 1e8);
  assert.equal(gradNorm(new Float32Array([3, 4])), 5);
  assert.equal(gradNorm(new Map()), 0);
});

test('addScaled and stepAlong round each element once, as g - l d and theta + f d', () => {
  const rng = new Rng(7);
  const p = new Tensor(random(rng, 50), [50]);
  const base = p.data.slice(),
    d = random(rng, 50),
    g = random(rng, 50);
  const target: GradMap = new Map([[p, g.slice()]]);
  addScaled(target, new Map([[p, d]]), -0.3);
  assert.deepEqual(
    target.get(p),
    g.map((x, i) => x - 0.3 * d[i]),
  );
  stepAlong([p], new Map([[p, d]]), 1e-2 / 3);
  assert.deepEqual(
    p.data,
    base.map((x, i) => x + (1e-2 / 3) * d[i]),
  );
});

test('gradientOf returns copies (zeros for unused parameters) and leaves .grad null', () => {
  const w = new Tensor(Float32Array.of(1, 2, 3), [3], true);
  const unused = new Tensor(Float32Array.of(5), [1], true);
  const { value, grad } = gradientOf([w, unused], () => sum(mul(w, w)));
  assert.equal(value, 14);
  assert.deepEqual(grad.get(w), Float32Array.of(2, 4, 6));
  assert.deepEqual(grad.get(unused), Float32Array.of(0));
  assert.equal(w.grad, null);
  assert.equal(unused.grad, null);
});
