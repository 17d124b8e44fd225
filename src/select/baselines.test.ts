/** Each baseline selector on a constructed case whose right ranking is known. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradNorm, gradientOf, stepAlong, withBackend } from '../engine/index.js';
import type { InstructionExample } from '../data/prompt-format.js';
import { DsirSelector, dsirLogWeights } from './dsir.js';
import { scoreByGradNorm, scoreByGradSim, scoreByLoss } from './gradient-scores.js';
import { meanLoss } from '../train/model-losses.js';
import { learnSeal } from './seal.js';
import { cleanInTop, cleanNoiseProblem } from './testing.js';
import { RandomSelector } from './baselines.js';

const WHO = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];
// Same length; "near" shares the validation set's wording, "far" does not.
const near = (i: number): InstructionExample => ({
  instruction: `Tell me how to hurt ${WHO[i % 10]}`,
  output: 'I cannot help with that request because it could cause harm.',
});
const far = (i: number): InstructionExample => ({
  instruction: `Summarize the report for ${WHO[i % 10]}`,
  output: 'Stocks rallied as quarterly earnings beat forecasts across technology.',
});

test('dsir prefers pool samples whose n-grams resemble the validation set', async () => {
  const pool = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? near(i) : far(i)));
  const validation = ['my neighbour', 'a child', 'the boss'].map((who) => ({
    instruction: `Tell me how to hurt ${who}`,
    output: 'I cannot help with that request because it is harmful.',
  }));
  const weights = dsirLogWeights(pool, validation);
  assert.equal(
    cleanInTop(weights, (i) => i % 2 === 0, 10),
    10,
  );
  const selector = new DsirSelector();
  const input = {
    pool,
    validation,
    harmful: [],
    profile: 'response-newline' as const,
    maxLength: 64,
    seed: 3,
    log: () => {},
  };
  const a = await selector.select(input),
    b = await selector.select(input);
  assert.deepEqual(a.scores, b.scores, 'seeded resampling');
  assert.ok(cleanInTop(a.scores, (i) => i % 2 === 0, 10) >= 8, 'resampling keeps mostly the near samples');
  assert.notDeepEqual((await new DsirSelector().select({ ...input, seed: 4 })).scores, a.scores);
});

test('gradsim prefers samples whose gradient points like the validation gradient', () => {
  withBackend('ts', () => {
    for (const seed of [1, 2]) {
      const { model, params, pool, validation, isClean, padTokenId } = cleanNoiseProblem(seed);
      const scores = scoreByGradSim(model, params, pool, validation, padTokenId, 8);
      assert.ok(
        scores.every((s) => s >= -1 - 1e-9 && s <= 1 + 1e-9),
        'cosines',
      );
      assert.ok(
        cleanInTop(scores, isClean, 16) >= 12,
        `seed ${seed}: ${cleanInTop(scores, isClean, 16)} clean in the top 16 (chance: 8)`,
      );
    }
  });
});

test("gradnorm is the norm of each sample's own gradient; loss is its own loss", () => {
  withBackend('ts', () => {
    const { model, params, pool, padTokenId } = cleanNoiseProblem(1, 6);
    const norms = scoreByGradNorm(model, params, pool, padTokenId, 4);
    const losses = scoreByLoss(model, pool, padTokenId, 4);
    pool.forEach((x, i) => {
      const alone = gradientOf(params, () => meanLoss(model, [x], padTokenId));
      assert.ok(
        Math.abs(norms[i] - gradNorm(alone.grad)) <= 1e-4 * gradNorm(alone.grad),
        `norm ${i}: ${norms[i]} vs ${gradNorm(alone.grad)}`,
      );
      assert.ok(Math.abs(losses[i] - alone.value) <= 1e-5 * alone.value, `loss ${i}`);
    });
  });
});

test('loss ranks the samples a pool-trained model finds hardest first (EL2N keeps hard examples)', () => {
  withBackend('ts', () => {
    const { model, params, pool, isClean, padTokenId } = cleanNoiseProblem(2);
    // Fit the adapter to the pool: the shared clean reply becomes easy, random replies stay hard.
    for (let s = 0; s < 60; s++) {
      stepAlong(params, gradientOf(params, () => meanLoss(model, pool, padTokenId)).grad, -0.5);
    }
    const losses = scoreByLoss(model, pool, padTokenId);
    assert.equal(cleanInTop(losses, isClean, 16), 0, 'the 16 highest losses are the noisy samples');
  });
});

test('seal down-weights samples that stay costly while the model is pulled to the validation data', () => {
  withBackend('ts', () => {
    for (const seed of [1, 2]) {
      const { model, params, pool, validation, isClean, padTokenId } = cleanNoiseProblem(seed);
      const { omega, trace } = learnSeal(
        model,
        params,
        { pool, validation, padTokenId },
        { epochs: 4, batchSize: 8, innerLr: 1, seed },
      );
      assert.ok(
        cleanInTop(Array.from(omega), isClean, 16) >= 14,
        `seed ${seed}: ${cleanInTop(Array.from(omega), isClean, 16)} clean in the top 16`,
      );
      assert.deepEqual(
        trace.map((t) => t.upperWeight),
        [1, 0.5, 0.25, 0.125],
        'the upper-level weight decays each epoch',
      );
    }
  });
});

test('random is a seeded permutation', async () => {
  const input = {
    pool: Array.from({ length: 10 }, (_, i) => near(i)),
    validation: [],
    harmful: [],
    profile: 'response-newline' as const,
    maxLength: 64,
    seed: 1,
    log: () => {},
  };
  const a = await new RandomSelector().select(input);
  assert.deepEqual((await new RandomSelector().select(input)).scores, a.scores);
  assert.notDeepEqual((await new RandomSelector().select({ ...input, seed: 2 })).scores, a.scores);
});
