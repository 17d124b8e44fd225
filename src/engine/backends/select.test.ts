import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backward } from '../autograd.js';
import { OP_CASES } from '../ops/cases.js';
import { Rng } from '../rng.js';
import { withDType, type FloatArray, type Tensor } from '../tensor.js';
import { availableBackends, BACKEND_NAMES, BACKENDS, getBackend, tryBackend, withBackend } from './select.js';

test('the ts reference backend is always available', () => {
  assert.ok(availableBackends().includes('ts'));
  assert.equal(tryBackend('ts')?.name, 'ts');
});

test(
  'in CI the native addon is built and chosen by default',
  { skip: process.env.CI !== 'true' && 'not in CI' },
  () => {
    assert.ok(availableBackends().includes('native'), 'native addon failed to load in CI');
    if (!process.env.PHARMACIST_BACKEND) assert.equal(getBackend().name, 'native');
  },
);

test(
  'thread count follows the machine and can be set',
  { skip: !availableBackends().includes('native') && 'native addon not built' },
  () => {
    const native = tryBackend('native')!;
    const before = native.threads();
    assert.ok(before >= 1);
    native.setThreads(1);
    assert.equal(native.threads(), 1);
    native.setThreads(before);
    assert.equal(native.threads(), before);
  },
);

test('dropoutMultiply: the keep rate is 1 - p, the mask is a function of (seed, index), and the backends agree bit for bit', () => {
  const n = 200_003;
  const x = Float32Array.from({ length: n }, (_, i) => 1 + (i % 7));
  const masks = availableBackends().map((name) => {
    const be = tryBackend(name)!;
    const out = new Float32Array(n);
    be.dropoutMultiply(x, out, 0.25, 4 / 3, 12345);
    const again = x.slice();
    be.dropoutMultiply(again, again, 0.25, 4 / 3, 12345); // in place
    assert.deepEqual(again, out, `${name}: in place gives the same result`);
    return { name, out };
  });
  const kept = masks[0].out.filter((v) => v !== 0).length / n;
  assert.ok(Math.abs(kept - 0.75) < 0.005, `keep rate ${kept}`);
  masks[0].out.forEach((v, i) => {
    if (v !== 0) assert.equal(v, Math.fround(x[i] * (4 / 3)));
  });
  for (const m of masks.slice(1)) assert.deepEqual(m.out, masks[0].out, `${m.name} vs ${masks[0].name}`);
  const other = new Float32Array(n);
  tryBackend('ts')!.dropoutMultiply(x, other, 0.25, 4 / 3, 12346);
  const same = other.filter((v, i) => (v === 0) === (masks[0].out[i] === 0)).length / n;
  assert.ok(same < 0.7, `another seed draws another mask (agreement ${same}, independent ~0.625)`);
});

// The kernels one training step of the models runs: products, activations, norms, embedding, rotary positions,
// masked attention and the loss, forward and backward.
const CONTRACT_OPS = [
  'matmul batched transB',
  'linear with bias',
  'addLowRank',
  'silu',
  'gelu (tanh)',
  'gated silu (SwiGLU)',
  'gated gelu (tanh)',
  'softmax',
  'rmsNorm',
  'layerNorm',
  'embedding',
  'rope (half split)',
  'attention causal + left padding',
  'crossEntropy mean',
];

/** An op's output and its inputs' gradients (under a fixed output gradient), in float64 for comparison. */
function forwardBackward(run: (x: Tensor[]) => Tensor, inputs: Tensor[]): Float64Array[] {
  const out = run(inputs);
  backward(out, { gradient: out.data.map((_, i) => Math.sin(i + 1)) as FloatArray });
  return [out.data, ...inputs.map((t) => t.grad ?? new Float64Array(0))].map((v) => Float64Array.from(v));
}

test('the backend names are the registry keys, each entry documented; the preferred one first', () => {
  assert.deepEqual(BACKEND_NAMES, Object.keys(BACKENDS));
  assert.deepEqual(BACKEND_NAMES, ['native', 'ts']);
  for (const [name, entry] of Object.entries(BACKENDS)) assert.ok(entry.description.length > 0, name);
});

for (const name of BACKEND_NAMES) {
  test(
    `backend contract: ${name} carries its name, sets threads, and runs a training step's ops as the float64 reference`,
    { skip: tryBackend(name) === null && `${name} does not load here` },
    () => {
      const backend = tryBackend(name)!;
      assert.equal(backend.name, name, 'the backend carries its registry name');
      const threads = backend.threads();
      assert.ok(threads >= 1);
      backend.setThreads(1);
      assert.equal(backend.threads(), 1);
      backend.setThreads(threads);
      for (const opName of CONTRACT_OPS) {
        const c = OP_CASES.find((x) => x.name === opName);
        assert.ok(c, `no op case "${opName}"`);
        const reference = withBackend('ts', () =>
          withDType('float64', () => forwardBackward(c.run, c.build(new Rng(42)))),
        );
        const got = withBackend(name, () => withDType('float32', () => forwardBackward(c.run, c.build(new Rng(42)))));
        got.forEach((v, i) => {
          const what = `${opName}: ${i === 0 ? 'output' : `gradient of input ${i - 1}`}`;
          assert.equal(v.length, reference[i].length, what);
          const scale = Math.max(1e-3, ...reference[i].map(Math.abs));
          const diff = Math.max(0, ...v.map((x, k) => Math.abs(x - reference[i][k])));
          // float32 kernels against float64 ones: rounding, relative to the largest entry, stays far below 1e-4.
          assert.ok(diff / scale < 1e-4, `${what} differs by ${diff / scale} (relative)`);
        });
      }
    },
  );
}
