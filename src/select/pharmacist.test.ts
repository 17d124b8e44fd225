/**
 * The hypergradient: dF/domega from hyperStep matches central differences of F(theta+(omega)) in float64,
 * for both weight forms and every safety term; per-example and directional inner products agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Rng,
  backward,
  crossEntropy,
  noGrad,
  scale,
  sum,
  withBackend,
  withDType,
  type FloatArray,
  type Tensor,
} from '../engine/index.js';
import { collate } from '../data/batch.js';
import type { SupervisedExample } from '../data/prompt-format.js';
import { LlamaModel } from '../models/llama.js';
import { attachLora } from '../models/lora.js';
import { cleanInTop, cleanNoiseProblem } from './testing.js';
import {
  hyperStep,
  learnSelector,
  PHARMACIST_DEFAULTS,
  sampleWeights,
  type BilevelData,
  type PharmacistConfig,
} from './pharmacist.js';

function example(rng: Rng): SupervisedExample {
  const ids = Array.from({ length: 4 + rng.int(4) }, () => 1 + rng.int(11));
  return { ids, labels: ids.map((id, t) => (t < 2 ? -100 : id)) };
}

function setup() {
  return withDType('float64', () => {
    const model = new LlamaModel(
      { vocabSize: 12, hiddenSize: 8, intermediateSize: 12, numLayers: 1, numHeads: 2, maxPositions: 16 },
      1,
    );
    const lora = attachLora(model, { r: 2, alpha: 4, dropout: 0, targetModules: ['q_proj', 'v_proj', 'down_proj'] }, 2);
    const rng = new Rng(3);
    for (const p of lora.parameters()) for (let i = 0; i < p.size; i++) p.data[i] = 0.5 * rng.normal();
    lora.training = false;
    const data: BilevelData = {
      pool: Array.from({ length: 6 }, () => example(rng)),
      validation: Array.from({ length: 3 }, () => example(rng)),
      harmful: Array.from({ length: 3 }, () => example(rng)),
      padTokenId: 0,
    };
    return {
      model,
      params: lora.parameters(),
      data,
      omega: Float64Array.from({ length: 6 }, () => 0.3 * rng.normal()),
    };
  });
}

const perExampleLoss = (model: LlamaModel, xs: readonly SupervisedExample[]): Tensor => {
  const b = collate(xs, 0);
  return crossEntropy(model.forward(b.ids, b.B, b.T), b.targets, { reduction: 'per-example' });
};
const meanLoss = (model: LlamaModel, xs: readonly SupervisedExample[]) =>
  noGrad(() => {
    const per = perExampleLoss(model, xs);
    return scale(sum(per), 1 / per.size).item();
  });

function gradOfMean(model: LlamaModel, params: Tensor[], xs: readonly SupervisedExample[]): FloatArray[] {
  for (const p of params) p.grad = null;
  const per = perExampleLoss(model, xs);
  backward(scale(sum(per), 1 / per.size));
  const out = params.map((p) => p.grad!.slice());
  for (const p of params) p.grad = null;
  return out;
}

/** F(theta+(omega)) from scratch; for 'simulated' the harmful displacement is the frozen `shift` (first order). */
function upperAfterStep(
  model: LlamaModel,
  params: Tensor[],
  theta: FloatArray[],
  omega: Float64Array,
  batch: number[],
  data: BilevelData,
  cfg: PharmacistConfig,
  shift: FloatArray[],
): number {
  params.forEach((p, i) => p.data.set(theta[i]));
  const pi = sampleWeights(omega, cfg.weightForm);
  for (const p of params) p.grad = null;
  const per = perExampleLoss(
    model,
    batch.map((i) => data.pool[i]),
  );
  const seed = per.data.slice();
  batch.forEach((i, b) => {
    seed[b] = pi[i] / batch.length;
  });
  backward(per, { gradient: seed });
  for (const p of params) {
    for (let k = 0; k < p.size; k++) p.data[k] -= cfg.innerLr * p.grad![k];
    p.grad = null;
  }
  let F = meanLoss(model, data.validation);
  if (cfg.safety === 'plain') F -= cfg.lambda * meanLoss(model, data.harmful);
  if (cfg.safety === 'simulated') {
    const saved = params.map((p) => p.data.slice());
    params.forEach((p, i) => {
      for (let k = 0; k < p.size; k++) p.data[k] += shift[i][k];
    });
    F -= cfg.lambda * meanLoss(model, data.harmful);
    params.forEach((p, i) => p.data.set(saved[i]));
  }
  return F;
}

for (const weightForm of ['softmax', 'sigmoid'] as const) {
  for (const safety of ['none', 'plain', 'simulated'] as const) {
    test(`dF/domega matches central differences (${weightForm}, S = ${safety})`, () => {
      withBackend('ts', () => {
        const { model, params, data, omega } = setup();
        const cfg: PharmacistConfig = {
          ...PHARMACIST_DEFAULTS,
          weightForm,
          safety,
          lambda: 0.7,
          alpha: 0.3,
          innerLr: 0.5,
        };
        const batch = [0, 2, 3, 5];
        const theta = params.map((p) => p.data.slice());
        const step = hyperStep(model, params, omega, batch, data.validation, data.harmful, data, cfg);
        // The frozen simulated-attack displacement, -alpha g_h / |g_h| at theta+(omega).
        const gh = gradOfMean(model, params, data.harmful);
        let n2 = 0;
        for (const g of gh) for (let k = 0; k < g.length; k++) n2 += g[k] * g[k];
        const shift = gh.map((g) => g.map((x: number) => (-cfg.alpha * x) / Math.sqrt(n2)));
        const h = 1e-5;
        for (let j = 0; j < omega.length; j++) {
          const plus = Float64Array.from(omega),
            minus = Float64Array.from(omega);
          plus[j] += h;
          minus[j] -= h;
          const fd =
            (upperAfterStep(model, params, theta, plus, batch, data, cfg, shift) -
              upperAfterStep(model, params, theta, minus, batch, data, cfg, shift)) /
            (2 * h);
          const analytic = step.dOmega[j];
          assert.ok(
            Math.abs(fd - analytic) <= 1e-6 + 1e-4 * Math.abs(fd),
            `omega_${j}: finite difference ${fd}, hypergradient ${analytic}`,
          );
        }
        assert.ok(
          step.dOmega.some((g) => Math.abs(g) > 1e-6),
          'the test is not vacuous',
        );
      });
    });
  }
}

test('inner products: per-example gradients and directional derivatives agree', () => {
  withBackend('ts', () => {
    const a = setup(),
      b = setup();
    const cfg = { ...PHARMACIST_DEFAULTS, safety: 'plain' as const, innerLr: 0.5 };
    const exact = hyperStep(a.model, a.params, a.omega, [1, 2, 4], a.data.validation, a.data.harmful, a.data, cfg);
    const directional = hyperStep(b.model, b.params, b.omega, [1, 2, 4], b.data.validation, b.data.harmful, b.data, {
      ...cfg,
      innerProducts: 'directional',
    });
    exact.innerProducts.forEach((v, i) =>
      assert.ok(
        Math.abs(v - directional.innerProducts[i]) <= 1e-4 * Math.max(1, Math.abs(v)),
        `${v} vs ${directional.innerProducts[i]}`,
      ),
    );
  });
});

test('learnSelector ranks samples that teach the validation task above noise, whatever order it visits them in', () => {
  withBackend('ts', () => {
    for (const seed of [1, 2]) {
      const { model, params, pool, validation, harmful, isClean, padTokenId } = cleanNoiseProblem(seed);
      const data: BilevelData = { pool, validation, harmful, padTokenId };
      const { omega, trace } = learnSelector(model, params, data, {
        safety: 'none',
        epochs: 10,
        batchSize: 8,
        evalBatchSize: 16,
        innerLr: 1,
        upperEvery: 1,
        seed,
      });
      const clean = cleanInTop(Array.from(omega), isClean, 16);
      assert.ok(clean >= 13, `seed ${seed}: ${clean} of the top 16 are clean`);
      assert.equal(trace.length, 10 * 4);
    }
  });
});
