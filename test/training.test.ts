/** Integration: tiny models train on every backend, deterministically, with flat memory. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdamW,
  Rng,
  availableBackends,
  backward,
  clipGradNorm,
  crossEntropy,
  learningRateAt,
  withBackend,
  type Tensor,
} from '../src/engine/index.js';
import { Gpt2Model } from '../src/models/gpt2.js';
import { LlamaModel } from '../src/models/llama.js';

interface TinyModel {
  params: { list(): Tensor[] };
  forward(ids: Int32Array, B: number, T: number): Tensor;
}

const B = 4,
  T = 12,
  V = 32;
const makers: Record<string, (seed: number) => TinyModel> = {
  'tiny GPT': (seed) => new Gpt2Model({ vocabSize: V, nPositions: T, nEmbd: 16, nLayer: 2, nHead: 2 }, seed),
  'tiny Llama block (GQA, RoPE, SwiGLU)': (seed) =>
    new LlamaModel(
      { vocabSize: V, hiddenSize: 16, intermediateSize: 24, numLayers: 1, numHeads: 4, numKvHeads: 2, maxPositions: T },
      seed,
    ),
};

function fixedBatch(seed: number) {
  const rng = new Rng(seed);
  const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
  const targets = Int32Array.from({ length: B * T }, (_, i) => ((i + 1) % T === 0 ? -100 : ids[i + 1]));
  return { ids, targets };
}

function train(model: TinyModel, steps: number, seed = 0): number[] {
  const { ids, targets } = fixedBatch(seed);
  const optimizer = new AdamW(model.params.list(), { weightDecay: 0.01 });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const loss = crossEntropy(model.forward(ids, B, T), targets);
    backward(loss);
    clipGradNorm(model.params.list(), 1);
    optimizer.step(learningRateAt(s, { kind: 'cosine', baseLr: 1e-2, warmupSteps: 3, totalSteps: steps }));
    optimizer.zeroGrad();
    losses.push(loss.item());
  }
  return losses;
}

for (const backendName of availableBackends()) {
  describe(`training on ${backendName}`, () => {
    for (const [name, make] of Object.entries(makers)) {
      test(`${name}: loss falls on a fixed batch`, () => {
        withBackend(backendName, () => {
          const losses = train(make(1), 40);
          assert.ok(losses[0] > 0.9 * Math.log(V), `starts near ln V: ${losses[0]}`);
          assert.ok(losses[39] < 0.5 * losses[0], `loss ${losses[0].toFixed(3)} -> ${losses[39].toFixed(3)}`);
        });
      });

      test(`${name}: same seed, same backend, bit-identical losses`, () => {
        withBackend(backendName, () => {
          const a = train(make(7), 8),
            b = train(make(7), 8);
          assert.deepEqual(a, b);
          const c = train(make(8), 8);
          assert.notDeepEqual(a, c, 'a different seed gives a different run');
        });
      });
    }
  });
}

test('memory stays flat over 1,000 training steps', () => {
  const model = makers['tiny GPT'](3);
  const { ids, targets } = fixedBatch(3);
  const optimizer = new AdamW(model.params.list());
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  let after100 = 0;
  const samples: number[] = [];
  for (let s = 1; s <= 1000; s++) {
    const loss = crossEntropy(model.forward(ids, B, T), targets);
    backward(loss);
    optimizer.step(1e-3);
    optimizer.zeroGrad();
    if (s % 100 === 0) {
      global.gc?.();
      samples.push(used());
      if (s === 100) after100 = used();
    }
  }
  // Without forced GC the heap saws up and down; compare the lowest of the late samples to the early one.
  const late = Math.min(...samples.slice(-3));
  assert.ok(
    late - after100 < 8 * 1024 * 1024,
    `grew ${(late - after100) / 1e6} MB between step 100 and step 1000 (samples ${samples.map((x) => (x / 1e6).toFixed(1)).join(', ')})`,
  );
});
