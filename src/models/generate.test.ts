/** Cached, batched, left-padded generation equals one-at-a-time full recomputation; sampling behaves. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, noGrad } from '../engine/index.js';
import { argmax, fitToContext, generate, sampleToken } from './generate.js';
import { Gpt2Model } from './gpt2.js';
import { LlamaModel } from './llama.js';

/** Greedy decoding by re-running the whole sequence each step, no cache, no padding: the slow reference. */
function greedyByRecomputation(model: LlamaModel | Gpt2Model, prompt: number[], steps: number): number[] {
  const seq = [...prompt];
  noGrad(() => {
    for (let s = 0; s < steps; s++) {
      const logits = model.forward(Int32Array.from(seq), 1, seq.length);
      const V = logits.shape[2];
      seq.push(argmax(logits.data.subarray((seq.length - 1) * V)));
    }
  });
  return seq.slice(prompt.length);
}

const prompts = [[1, 7, 3, 9, 2], [4], [5, 5, 6]];
const models = {
  llama: () =>
    new LlamaModel(
      {
        vocabSize: 24,
        hiddenSize: 16,
        intermediateSize: 24,
        numLayers: 2,
        numHeads: 4,
        numKvHeads: 2,
        maxPositions: 32,
      },
      3,
    ),
  'mistral-style window': () =>
    new LlamaModel(
      {
        vocabSize: 24,
        hiddenSize: 16,
        intermediateSize: 24,
        numLayers: 2,
        numHeads: 2,
        maxPositions: 32,
        slidingWindow: 3,
      },
      4,
    ),
  gpt2: () => new Gpt2Model({ vocabSize: 24, nPositions: 32, nEmbd: 16, nLayer: 2, nHead: 2 }, 5),
};

for (const [name, make] of Object.entries(models)) {
  test(`${name}: batched left-padded greedy with a KV cache equals recomputation per prompt`, () => {
    const model = make();
    // Larger weights so that the argmax is not decided by float noise.
    for (const p of model.params.list()) for (let i = 0; i < p.size; i++) p.data[i] *= 8;
    const out = generate(model, prompts, { maxNewTokens: 12 });
    prompts.forEach((p, b) => assert.deepEqual(out.tokens[b], greedyByRecomputation(model, p, 12), `prompt ${b}`));
    assert.deepEqual(out.stopped, [false, false, false]);
  });
}

for (const [name, make] of Object.entries(models)) {
  test(`${name}: a prompt too long for the context is cut from the left, its first token kept`, () => {
    const model = make();
    for (const p of model.params.list()) for (let i = 0; i < p.size; i++) p.data[i] *= 8;
    // 32 positions, 8 new tokens: the last one at position length + 6, so a prompt keeps 25 tokens.
    const long = Array.from({ length: 40 }, (_, i) => (i * 7 + 1) % 24);
    const out = generate(model, [long, prompts[0]], { maxNewTokens: 8 });
    const kept = [long[0], ...long.slice(40 - 24)];
    assert.deepEqual(out.truncated, [15, 0]);
    assert.deepEqual(out.tokens[0], greedyByRecomputation(model, kept, 8), 'as if given the kept tokens');
    assert.deepEqual(out.tokens[1], greedyByRecomputation(model, prompts[0], 8), 'the short prompt untouched');
    const exact = Array.from({ length: 25 }, (_, i) => i % 24);
    assert.deepEqual(generate(model, [exact], { maxNewTokens: 8 }).truncated, [0], 'a prompt that fits exactly');
  });
}

test('fitToContext: no limit without a context; an error when the new tokens leave no room', () => {
  assert.deepEqual(fitToContext([[1, 2, 3]], 8, undefined).truncated, [0]);
  assert.throws(() => fitToContext([[1, 2, 3]], 32, 32), /32 new tokens leave no room for a prompt in a 32-position/);
});

for (const [name, make] of Object.entries(models)) {
  test(`${name}: rows stop at EOS independently and leave the batch; the stop token is not returned`, () => {
    const model = make();
    for (const p of model.params.list()) for (let i = 0; i < p.size; i++) p.data[i] *= 8;
    const free = generate(model, prompts, { maxNewTokens: 10 });
    // A stop token that ends some rows early and not others, so that the batch shrinks while others decode.
    const eos = free.tokens
      .flat()
      .find(
        (t) =>
          free.tokens.some((row) => !row.slice(0, 6).includes(t)) &&
          free.tokens.some((row) => row.slice(0, 6).includes(t)),
      );
    assert.ok(eos !== undefined, 'a token that stops some rows but not all');
    const out = generate(model, prompts, { maxNewTokens: 10, eosTokenIds: [eos] });
    prompts.forEach((p, b) => {
      const cut = free.tokens[b].indexOf(eos);
      assert.deepEqual(out.tokens[b], cut < 0 ? free.tokens[b] : free.tokens[b].slice(0, cut));
      assert.deepEqual(out.tokens[b], greedyByRecomputation(model, p, 10).slice(0, out.tokens[b].length));
      assert.equal(out.stopped[b], cut >= 0);
    });
    assert.ok(
      out.stopped.some(Boolean) && out.tokens.some((t) => t.length > Math.min(...out.tokens.map((u) => u.length))),
    );
  });
}

test('sampling: same seed same tokens; top-p keeps only the nucleus; low temperature approaches greedy', () => {
  const model = models.llama();
  const a = generate(model, prompts, { greedy: false, maxNewTokens: 8, seed: 1 });
  const b = generate(model, prompts, { greedy: false, maxNewTokens: 8, seed: 1 });
  assert.deepEqual(a.tokens, b.tokens);
  const row = Float32Array.from([2, 1, 0, -1, 3]); // probabilities ~ [.23, .09, .03, .01, .64]
  const rng = new Rng(0);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) seen.add(sampleToken(row, 1, 0.8, rng));
  assert.deepEqual([...seen].sort(), [0, 4]);
  const counts = [0, 0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[sampleToken(row, 1, 1, rng)]++;
  assert.ok(Math.abs(counts[4] / 4000 - 0.636) < 0.03, `token 4 drawn ${counts[4]} times`);
  for (let i = 0; i < 100; i++) assert.equal(sampleToken(row, 0.01, 1, rng), 4);
});

test('bad generation settings are clear errors', () => {
  const model = models.gpt2();
  assert.throws(() => generate(model, [[1], []]), /prompt 1 is empty/);
  assert.throws(() => generate(model, [[1]], { greedy: false, temperature: 0 }), /temperature must be > 0/);
  assert.throws(() => generate(model, [[1]], { topP: 0 }), /topP must be in \(0, 1\]/);
});
