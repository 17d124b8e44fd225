import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableBackends, withBackend } from '../backends/select.js';
import { parameter } from '../tensor.js';
import { AdamW } from './adamw.js';
import { Sgd } from './sgd.js';
import { clipGradNorm, globalGradNorm } from './clip.js';
import { learningRateAt } from './schedule.js';

const close = (a: number, b: number, tol = 1e-6) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

for (const name of availableBackends()) {
  describe(`optimizers on ${name}`, () => {
    test('AdamW follows the decoupled-decay formula over three steps', () => {
      withBackend(name, () => {
        const w = parameter(Float32Array.from([0.5, -1, 2]), [3]);
        const opt = new AdamW([w], { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
        const ref = [0.5, -1, 2],
          m = [0, 0, 0],
          v = [0, 0, 0];
        const grads = [
          [0.1, -0.2, 0.3],
          [0.05, 0.4, -0.1],
          [-0.3, 0.1, 0.2],
        ];
        grads.forEach((g, t) => {
          w.grad = Float32Array.from(g);
          opt.step(0.01);
          for (let i = 0; i < 3; i++) {
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            v[i] = 0.99 * v[i] + 0.01 * g[i] * g[i];
            const mhat = m[i] / (1 - 0.9 ** (t + 1)),
              vhat = v[i] / (1 - 0.99 ** (t + 1));
            ref[i] = ref[i] * (1 - 0.01 * 0.1) - (0.01 * mhat) / (Math.sqrt(vhat) + 1e-8);
          }
        });
        ref.forEach((r, i) => close(w.data[i], r, 1e-5));
      });
    });

    test('AdamW skips frozen parameters and ones without a gradient', () => {
      withBackend(name, () => {
        const frozen = parameter(Float32Array.from([1]), [1]);
        frozen.requiresGrad = false;
        frozen.grad = Float32Array.from([1]);
        const unused = parameter(Float32Array.from([2]), [1]);
        new AdamW([frozen, unused]).step(0.1);
        assert.equal(frozen.data[0], 1);
        assert.equal(unused.data[0], 2);
      });
    });

    test('clipping scales the global norm down to the limit and leaves small gradients alone', () => {
      withBackend(name, () => {
        const a = parameter(new Float32Array(2), [2]),
          b = parameter(new Float32Array(1), [1]);
        a.grad = Float32Array.from([3, 0]);
        b.grad = Float32Array.from([4]);
        close(clipGradNorm([a, b], 1), 5);
        close(globalGradNorm([a, b]), 1, 1e-5);
        close(clipGradNorm([a, b], 10), 1, 1e-5);
        close(globalGradNorm([a, b]), 1, 1e-5);
      });
    });
  });
}

test("SGD with momentum matches PyTorch's update", () => {
  const w = parameter(Float32Array.from([1]), [1]);
  const opt = new Sgd([w], { momentum: 0.9 });
  w.grad = Float32Array.from([1]);
  opt.step(0.1); // v = 1, w = 0.9
  w.grad = Float32Array.from([1]);
  opt.step(0.1); // v = 1.9, w = 0.71
  close(w.data[0], 0.71);
});

test('schedules: warmup, constant, linear to zero, cosine to the floor', () => {
  const base = { baseLr: 1, warmupSteps: 10, totalSteps: 110 };
  close(learningRateAt(0, { ...base, kind: 'constant' }), 0);
  close(learningRateAt(5, { ...base, kind: 'constant' }), 0.5);
  close(learningRateAt(50, { ...base, kind: 'constant' }), 1);
  close(learningRateAt(60, { ...base, kind: 'linear' }), 0.5);
  close(learningRateAt(110, { ...base, kind: 'linear' }), 0);
  close(learningRateAt(60, { ...base, kind: 'cosine' }), 0.5);
  close(learningRateAt(110, { ...base, kind: 'cosine', minRatio: 0.1 }), 0.1);
  assert.throws(() => learningRateAt(20, { kind: 'linear', baseLr: 1 }), /totalSteps/);
});
