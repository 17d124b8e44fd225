/** Integration: the engine's gradient tools on real (tiny) transformer models. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableBackends, withBackend } from '../src/engine/backends/select.js';
import { backward } from '../src/engine/autograd.js';
import { crossEntropy, sum } from '../src/engine/ops/index.js';
import { Rng } from '../src/engine/rng.js';
import { Tensor, type FloatArray } from '../src/engine/tensor.js';
import { LlamaModel } from '../src/models/llama.js';
import { Gpt2Model } from '../src/models/gpt2.js';
import { perExampleGradients } from '../src/engine/grad/per-example.js';
import { directionalDerivative } from '../src/engine/grad/directional.js';
import { ActivationTaps } from '../src/engine/grad/hooks.js';
import { restoreParameters, snapshotParameters } from '../src/engine/grad/snapshot.js';

const B = 3,
  T = 5,
  V = 11;
function tinyLlama() {
  return new LlamaModel(
    { vocabSize: V, hiddenSize: 8, intermediateSize: 12, numLayers: 2, numHeads: 2, numKvHeads: 1, maxPositions: 16 },
    3,
  );
}
function batch(seed: number) {
  const rng = new Rng(seed);
  const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
  const targets = Int32Array.from({ length: B * T }, (_, i) => (i % T === 0 ? -100 : rng.int(V)));
  return { ids, targets };
}
const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0,
    s = 1e-6;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
};

for (const name of availableBackends()) {
  describe(`gradient tools on ${name}`, () => {
    test('per-example gradients equal batch-1 backward passes (linear weights and biases)', () => {
      withBackend(name, () => {
        const model = tinyLlama();
        const { ids, targets } = batch(1);
        const params = model.params.list().filter((p) => /proj/.test(p.name!));
        const per = perExampleGradients(params, B, () =>
          crossEntropy(model.forward(ids, B, T), targets, { reduction: 'per-example' }),
        );
        for (let b = 0; b < B; b++) {
          for (const p of params) p.grad = null;
          const loss = crossEntropy(
            model.forward(ids.subarray(b * T, (b + 1) * T), 1, T),
            targets.subarray(b * T, (b + 1) * T),
          );
          backward(loss);
          for (const p of params) assert.ok(relDiff(per.of(p, b), p.grad!) < 1e-4, `${p.name} example ${b}`);
        }
        // GPT-2's linears carry biases: those are captured too.
        const gpt = new Gpt2Model({ vocabSize: V, nPositions: T, nEmbd: 8, nLayer: 1, nHead: 2 }, 5);
        const bias = gpt.params.get('transformer.h.0.mlp.c_fc.bias');
        const perBias = perExampleGradients([bias], B, () =>
          crossEntropy(gpt.forward(ids, B, T), targets, { reduction: 'per-example' }),
        );
        bias.grad = null;
        backward(crossEntropy(gpt.forward(ids, B, T), targets, { reduction: 'sum' }));
        const summed = new Float64Array(bias.size);
        for (let b = 0; b < B; b++) perBias.of(bias, b).forEach((g, i) => (summed[i] += g));
        // Summed per-example means weight each example by 1/count; rescale the sum-reduced reference.
        const counts = [0, 1, 2].map(
          (b) => Array.from(targets.subarray(b * T, (b + 1) * T)).filter((t) => t !== -100).length,
        );
        assert.ok(counts.every((c) => c === counts[0]));
        assert.ok(
          relDiff(
            summed,
            Float64Array.from(bias.grad!, (g) => g / counts[0]),
          ) < 1e-4,
        );
      });
    });

    test('dot products, norms and Gram matrix agree, and match the directional derivative', () => {
      withBackend(name, () => {
        const model = tinyLlama();
        const { ids, targets } = batch(2);
        const params = model.params.list().filter((p) => /proj/.test(p.name!));
        const lossFn = () => crossEntropy(model.forward(ids, B, T), targets, { reduction: 'per-example' });
        const per = perExampleGradients(params, B, lossFn);
        const rng = new Rng(9);
        const direction = new Map<Tensor, FloatArray>(
          params.map((p) => [p, Float32Array.from({ length: p.size }, () => rng.normal())]),
        );
        const exact = per.dot(direction);
        const numeric = directionalDerivative(direction, lossFn);
        assert.ok(
          relDiff(numeric, exact) < 2e-2,
          `central difference ${Array.from(numeric)} vs exact ${Array.from(exact)}`,
        );
        const gram = per.gram();
        const norms = per.norms();
        for (let b = 0; b < B; b++) {
          const own = new Map(params.map((p) => [p, per.of(p, b)]));
          const dots = per.dot(own);
          for (let c = 0; c < B; c++)
            assert.ok(Math.abs(gram[b * B + c] - dots[c]) <= 1e-6 * Math.abs(gram[b * B + b]) + 1e-9);
          assert.ok(Math.abs(norms[b] ** 2 - gram[b * B + b]) < 1e-6 * gram[b * B + b]);
        }
      });
    });

    test('activation taps expose d loss / d activation and add constant perturbations', () => {
      withBackend(name, () => {
        const model = tinyLlama();
        const { ids, targets } = batch(3);
        const taps = new ActivationTaps().capture((n) => n.endsWith('.attention'));
        const before = snapshotParameters(model.params.list());
        const loss = crossEntropy(model.forward(ids, B, T, { taps }), targets);
        backward(loss);
        assert.deepEqual(taps.names(), ['layers.0.attention', 'layers.1.attention']);
        const g = taps.gradOf('layers.1.attention');
        // Perturbing the activation along its gradient changes the loss by about eps * |g|^2.
        const eps = 1e-2;
        let g2 = 0;
        for (const v of g) g2 += v * v;
        const delta = new Tensor(
          Float32Array.from(g, (v) => eps * v),
          taps.activation('layers.1.attention').shape,
        );
        taps.capture(null).perturb('layers.1.attention', delta);
        const perturbed = crossEntropy(model.forward(ids, B, T, { taps }), targets);
        const predicted = loss.item() + eps * g2;
        assert.ok(
          Math.abs(perturbed.item() - predicted) < 0.05 * eps * g2 + 1e-6,
          `${perturbed.item()} vs ${predicted}`,
        );
        for (const [p, values] of before) assert.deepEqual(p.data, values, 'a forward/backward never changes weights');
        taps.clearPerturbations();
        const clean = crossEntropy(model.forward(ids, B, T, { taps }), targets);
        assert.equal(clean.item(), loss.item());
      });
    });

    test('snapshot and restore are bit-exact', () => {
      withBackend(name, () => {
        const model = tinyLlama();
        const params = model.params.list();
        const snap = snapshotParameters(params);
        const copy = params.map((p) => p.data.slice());
        for (const p of params) p.data.forEach((v, i) => (p.data[i] = v + 0.1 * Math.sin(i)));
        restoreParameters(snap);
        params.forEach((p, i) => assert.deepEqual(p.data, copy[i]));
        assert.equal(sum(params[0]).size, 1);
      });
    });
  });
}
