import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableBackends, withBackend } from '../backends/select.js';
import { backward } from '../autograd.js';
import { gradcheck } from '../grad/gradcheck.js';
import { Rng } from '../rng.js';
import { Tensor, withDType } from '../tensor.js';
import { OP_CASES } from './cases.js';
import { embedding, embeddingBag, meanBags, mul, sum } from './index.js';
import { paddedBags } from '../testing/bags.js';

const backends = availableBackends();

describe('gradient checks, float64 on the ts backend (relative error < 1e-6)', () => {
  for (const c of OP_CASES) {
    test(c.name, () => {
      withBackend('ts', () =>
        withDType('float64', () => {
          const report = gradcheck(c.run, c.build(new Rng(42)));
          assert.ok(report.maxRelativeError < 1e-6, `relative errors ${report.relativeErrors.join(', ')}`);
        }),
      );
    });
  }
});

// Float32 central differences with h = 1e-2 carry O(h^2 f''') truncation plus O(eps32 |f| / h) ~ 1e-5
// round-off, measured at up to ~3e-3 here; 1e-2 leaves room while still catching any wrong backward
// (those show up as O(1) errors). Exactness of native is checked against ts below.
describe('gradient checks, float32 on every backend (relative error < 1e-2)', () => {
  for (const name of backends) {
    for (const c of OP_CASES) {
      test(`${name}: ${c.name}`, () => {
        withBackend(name, () => {
          const report = gradcheck(c.run, c.build(new Rng(42)));
          assert.ok(report.maxRelativeError < 1e-2, `relative errors ${report.relativeErrors.join(', ')}`);
        });
      });
    }
  }
});

function forwardBackward(
  backendName: 'ts' | 'native',
  run: (x: Tensor[]) => Tensor,
  inputs: Tensor[],
): { out: Float32Array; grads: Float32Array[] } {
  return withBackend(backendName, () => {
    for (const t of inputs) t.grad = null;
    const out = run(inputs);
    const seed = new Float32Array(out.size).map((_, i) => Math.sin(i + 1));
    backward(out, { gradient: seed });
    return { out: Float32Array.from(out.data), grads: inputs.map((t) => Float32Array.from(t.grad ?? [])) };
  });
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0,
    scale = 1e-3;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

describe(
  'native agrees with the ts reference (outputs and gradients, relative 1e-5)',
  { skip: !backends.includes('native') && 'native addon not built' },
  () => {
    for (const c of OP_CASES) {
      test(c.name, () => {
        const inputs = c.build(new Rng(42));
        const ref = forwardBackward('ts', c.run, inputs);
        const nat = forwardBackward('native', c.run, inputs);
        assert.ok(maxRelDiff(nat.out, ref.out) < 1e-5, `forward differs by ${maxRelDiff(nat.out, ref.out)}`);
        nat.grads.forEach((g, i) =>
          assert.ok(maxRelDiff(g, ref.grads[i]) < 1e-5, `grad of input ${i} differs by ${maxRelDiff(g, ref.grads[i])}`),
        );
      });
    }
  },
);

describe('embeddingBag: the same bits as embedding, mul and sum over zero-padded bags (forward and table gradient)', () => {
  for (const name of backends) {
    test(name, () => {
      const rng = new Rng(7);
      const [V, C] = [40, 8];
      const sizes = [3, 0, 1, 12, 7, 5];
      const bags = meanBags(sizes.map((n) => Array.from({ length: n }, () => 1 + rng.int(V - 1))));
      assert.deepEqual(Array.from(bags.offsets), [0, 3, 3, 4, 16, 23, 28], 'meanBags: where each list starts');
      const padded = paddedBags(bags);
      const table = Float32Array.from({ length: V * C }, () => rng.normal());
      const run = (f: (t: Tensor) => Tensor) =>
        forwardBackward(name, ([t]) => f(t), [new Tensor(Float32Array.from(table), [V, C], true)]);
      const bag = run((t) => embeddingBag(t, bags.ids, bags.offsets, bags.weights));
      const reference = run((t) =>
        sum(mul(embedding(t, padded.ids, [sizes.length, padded.L]), padded.weights), { axes: [1] }),
      );
      // + 0 turns -0 into 0: the padding's zero-weight products may add a -0 where the bag adds nothing.
      const bits = (a: Float32Array) => a.map((x) => x + 0);
      assert.deepEqual(bits(bag.out), bits(reference.out));
      assert.deepEqual(bits(bag.grads[0]), bits(reference.grads[0]));
      assert.deepEqual(Array.from(bag.out.subarray(C, 2 * C)), new Array(C).fill(0), 'the empty bag is zeros');
    });
  }
  test('bad offsets and ids are named', () => {
    const t = new Tensor(new Float32Array(6), [3, 2]);
    const one = Float32Array.from([1]);
    assert.throws(() => embeddingBag(t, Int32Array.from([0]), Int32Array.from([0, 2]), one), /offsets must run/);
    assert.throws(() => embeddingBag(t, Int32Array.from([3]), Int32Array.from([0, 1]), one), /id 3 at position 0/);
    assert.throws(
      () => embeddingBag(t, Int32Array.from([0]), Int32Array.from([0, 1]), new Float32Array(2)),
      /2 weights/,
    );
  });
});
