/** causalLmLoss: logits at the supervised positions only give the same loss and gradients, bit for bit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, backward, crossEntropy, noGrad, sum, type Tensor } from '../engine/index.js';
import { embeddedModelDir } from '../io/package-paths.js';
import { Gpt2Model } from './gpt2.js';
import { LlamaModel } from './llama.js';
import { attachLora } from './lora.js';
import { causalLmLoss, sharedPrefixLosses, supervisedRows, type LabelledIds } from './lm-loss.js';
import { loadPretrained } from './pretrained.js';

const B = 3,
  T = 19,
  V = 300;
const rng = new Rng(5);
const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
// Prompt (ignored) then response, then padding (ignored): 5, 11 and 2 supervised positions.
const supervised = [
  [8, 13],
  [3, 14],
  [17, 19],
];
const targets = Int32Array.from({ length: B * T }, (_, r) => {
  const [from, to] = supervised[Math.floor(r / T)];
  const t = r % T;
  return t >= from && t < to ? rng.int(V) : -100;
});

function build(kind: 'llama' | 'gpt2'): LlamaModel | Gpt2Model {
  const model =
    kind === 'llama'
      ? new LlamaModel(
          {
            vocabSize: V,
            hiddenSize: 64,
            intermediateSize: 96,
            numLayers: 2,
            numHeads: 4,
            numKvHeads: 2,
            maxPositions: 32,
          },
          1,
        )
      : new Gpt2Model({ vocabSize: V, nPositions: 32, nEmbd: 64, nLayer: 2, nHead: 4 }, 1);
  const lora = attachLora(model, { r: 4, alpha: 8, dropout: 0.1, targetModules: [] }, 2);
  // B starts at zero; give it values so that every adapter gradient is nonzero.
  for (const p of lora.parameters()) for (let i = 0; i < p.size; i++) p.data[i] = 0.05 * Math.sin(i + p.size);
  return model;
}

function lossAndGrads(model: LlamaModel | Gpt2Model, loss: () => Tensor): Float32Array[] {
  const value = loss();
  const out = [Float32Array.from(value.data)];
  backward(value.size === 1 ? value : sum(value));
  for (const p of model.lora!.parameters()) out.push(Float32Array.from(p.grad!));
  return out;
}

test('supervisedRows lists the positions whose target is not -100, in order', () => {
  const rows = supervisedRows(targets);
  assert.equal(rows.length, 5 + 11 + 2);
  assert.deepEqual([...rows.slice(0, 6)], [8, 9, 10, 11, 12, T + 3]);
});

for (const kind of ['llama', 'gpt2'] as const)
  for (const reduction of ['mean', 'per-example'] as const)
    test(`${kind}, ${reduction}: loss and adapter gradients equal crossEntropy over every position, bit for bit`, () => {
      const reference = build(kind);
      const sparse = build(kind);
      const expected = lossAndGrads(reference, () =>
        crossEntropy(reference.forward(ids, B, T), targets, { reduction }),
      );
      const got = lossAndGrads(sparse, () => causalLmLoss(sparse, { ids, targets, B, T }, reduction));
      assert.equal(got.length, expected.length);
      assert.equal(got[0].length, reduction === 'mean' ? 1 : B);
      got.forEach((g, i) => assert.deepEqual(g, expected[i], `array ${i} differs`));
      assert.ok(got.slice(1).every((g) => g.some((v) => v !== 0)));
    });

test('logitRows: the forward returns [K, V], the rows of the full logits', () => {
  const model = build('llama');
  model.lora!.training = false;
  const full = model.forward(ids, B, T);
  const rows = Int32Array.from([0, T - 1, 2 * T + 5]);
  const some = model.forward(ids, B, T, { logitRows: rows });
  assert.deepEqual(some.shape, [3, V]);
  rows.forEach((r, k) =>
    assert.deepEqual(some.data.subarray(k * V, (k + 1) * V), full.data.subarray(r * V, (r + 1) * V)),
  );
});

test('the embedded model at an attack batch shape (128 positions, the last 9 supervised): bit for bit', () => {
  const Bx = 4,
    Tx = 128;
  const r = new Rng(9);
  const idsx = Int32Array.from({ length: Bx * Tx }, () => r.int(4096));
  const targetsx = Int32Array.from({ length: Bx * Tx }, (_, i) => (i % Tx >= Tx - 9 ? r.int(4096) : -100));
  const build = () => {
    const model = loadPretrained(embeddedModelDir());
    const lora = attachLora(model, { r: 8, alpha: 16, dropout: 0.05, targetModules: [] }, 3);
    for (const p of lora.parameters()) for (let i = 0; i < p.size; i++) p.data[i] = 0.01 * Math.sin(0.37 * i + p.size);
    return model as LlamaModel;
  };
  const reference = build(),
    sparse = build();
  const expected = lossAndGrads(reference, () => crossEntropy(reference.forward(idsx, Bx, Tx), targetsx));
  const got = lossAndGrads(sparse, () => causalLmLoss(sparse, { ids: idsx, targets: targetsx, B: Bx, T: Tx }));
  got.forEach((g, i) => assert.deepEqual(g, expected[i], `array ${i} differs`));
});

/** A prompt (unsupervised) then an answer (supervised). */
function labelled(prompt: number[], answer: number[]): LabelledIds {
  return { ids: [...prompt, ...answer], labels: [...prompt.map(() => -100), ...answer] };
}

/** causalLmLoss 'per-example' on one right-padded batch per example: the unshared reference. */
function unsharedLoss(model: LlamaModel | Gpt2Model, e: LabelledIds): number {
  const T1 = e.ids.length;
  const targets = Int32Array.from({ length: T1 }, (_, t) => (t + 1 < T1 ? e.labels[t + 1] : -100));
  return noGrad(() => causalLmLoss(model, { ids: Int32Array.from(e.ids), targets, B: 1, T: T1 }, 'per-example'))
    .data[0];
}

const windowed = () =>
  new LlamaModel(
    {
      vocabSize: V,
      hiddenSize: 32,
      intermediateSize: 48,
      numLayers: 2,
      numHeads: 2,
      maxPositions: 32,
      slidingWindow: 4,
    },
    6,
  );
for (const [kind, make] of Object.entries({ llama: () => build('llama'), gpt2: () => build('gpt2'), windowed }))
  test(`${kind}: shared-prefix losses equal each example's own loss (prefixes of every length, batches of groups)`, () => {
    const model = make();
    if (model.lora) model.lora.training = false;
    const r = new Rng(11);
    const seq = (n: number) => Array.from({ length: n }, () => 1 + r.int(V - 1));
    const answers = [seq(3), seq(6), seq(1), seq(4)];
    const promptA = seq(9),
      promptB = seq(2);
    const groups: LabelledIds[][] = [
      answers.map((a) => labelled(promptA, a)), // one prompt, four answers of different lengths
      [labelled(promptB, answers[0])], // a group of one
      // Answers that begin alike: the prefix stops at the first supervised token, not at the shared answer words.
      [labelled(promptA, [7, 7, 8]), labelled(promptA, [7, 7, 9, 10])],
      // Prompts cut differently (only the first token shared) and one with no shared first token at all.
      [labelled([1, ...seq(5)], answers[1]), labelled([1, ...seq(3)], answers[3])],
      [labelled([2, ...seq(4)], answers[2]), labelled([3, ...seq(4)], answers[0])],
    ];
    for (const perBatch of [1, 2, 32]) {
      const got = sharedPrefixLosses(model, groups, 0, perBatch);
      groups.forEach((g, i) =>
        g.forEach((e, j) => {
          const want = unsharedLoss(model, e);
          assert.ok(
            Math.abs(got[i][j] - want) <= 1e-5 * Math.abs(want),
            `${perBatch}/batch, group ${i} #${j}: ${got[i][j]} vs ${want}`,
          );
        }),
      );
    }
  });
