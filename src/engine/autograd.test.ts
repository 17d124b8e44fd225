import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backward, noGrad } from './autograd.js';
import { add, mul, sum, scale, reshape } from './ops/index.js';
import { parameter, tensor } from './tensor.js';

const p = (values: number[]) => parameter(Float32Array.from(values), [values.length]);

test('a second backward accumulates into .grad until zeroGrad', () => {
  const w = p([1, 2, 3]);
  backward(sum(mul(w, w)));
  assert.deepEqual(Array.from(w.grad!), [2, 4, 6]);
  backward(sum(scale(w, 3)));
  assert.deepEqual(Array.from(w.grad!), [5, 7, 9]);
  w.zeroGrad();
  assert.equal(w.grad, null);
});

test('an input used twice receives both contributions', () => {
  const w = p([1, -2]);
  const y = add(reshape(w, [2]), mul(w, w));
  backward(sum(y));
  assert.deepEqual(Array.from(w.grad!), [3, -3]);
});

test('noGrad records nothing and frozen parameters get no gradient', () => {
  const w = p([1, 2]);
  const y = noGrad(() => mul(w, w));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
  const frozen = p([3, 4]);
  frozen.requiresGrad = false;
  backward(sum(mul(w, frozen)));
  assert.equal(frozen.grad, null);
  assert.deepEqual(Array.from(w.grad!), [3, 4]);
});

test('retainGrad keeps an intermediate gradient, and backward frees the graph', () => {
  const w = p([1, 2]);
  const h = mul(w, w).retainGrad();
  const loss = sum(scale(h, 5));
  backward(loss);
  assert.deepEqual(Array.from(h.grad!), [5, 5]);
  assert.equal(loss.node, null, 'nodes are dropped so saved activations can be collected');
});

test('non-scalar roots need an explicit gradient; constants cannot be differentiated', () => {
  const w = p([1, 2]);
  assert.throws(() => backward(mul(w, w)), /pass options.gradient/);
  assert.throws(() => backward(tensor([1, 2])), /does not depend on any parameter/);
  const y = mul(w, w);
  const seed = Float32Array.from([1, 10]);
  backward(y, { gradient: seed });
  assert.deepEqual(Array.from(w.grad!), [2, 40]);
  assert.deepEqual(Array.from(seed), [1, 10], "the caller's gradient array is not modified");
});
