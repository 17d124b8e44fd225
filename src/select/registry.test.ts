/**
 * The selector contract, run on every registered selector: it carries its registry name, ranks the pool (one
 * finite score per sample, the same for the same seed), works without the model when it says it needs none,
 * and leaves the base model without an adapter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../engine/index.js';
import type { InstructionExample } from '../data/prompt-format.js';
import { LlamaModel } from '../models/llama.js';
import { trainByteLevelBpe } from '../tokenizers/index.js';
import { defaultsOf, parseKnob } from '../config/knobs.js';
import { anotherValue } from '../config/testing.js';
import { createSelector, SELECTOR_KNOBS, SELECTOR_NAMES, SELECTORS, type SelectorOptions } from './registry.js';
import type { SelectionInput } from './selector.js';

const WORDS = 'the cat sat on a mat and then ran to see dog who was not there at all today'.split(' ');

function records(n: number, seed: number, refusals = 0): InstructionExample[] {
  const rng = new Rng(seed);
  const text = (k: number) => Array.from({ length: k }, () => WORDS[rng.int(WORDS.length)]).join(' ');
  return Array.from({ length: n }, (_, i) => ({
    instruction: `${text(3)}?`,
    // A few refusals, so that the refusal controls have both groups to order.
    output: i < refusals ? `I cannot help with that ${text(1 + (i % 3))}.` : `${text(2 + (i % 5))}.`,
  }));
}

const pool = records(12, 1, 4);
const sets = { pool, validation: records(4, 2), harmful: records(4, 3) };
const tokenizer = trainByteLevelBpe(
  [...pool, ...sets.validation, ...sets.harmful].flatMap((e) => [e.instruction, e.output]),
  { vocabSize: 300, specialTokens: ['<pad>', '<s>', '</s>'], bosToken: '<s>' },
);
const model = new LlamaModel(
  { vocabSize: 300, hiddenSize: 16, intermediateSize: 32, numLayers: 1, numHeads: 2, maxPositions: 64 },
  0,
);

function input(seed: number, withModel: boolean): SelectionInput {
  return {
    ...sets,
    ...(withModel ? { model, tokenizer, eosTokenId: 2, padTokenId: 0 } : {}),
    profile: 'response-newline',
    maxLength: 40,
    seed,
    log: () => {},
  };
}

test('the selector names are the registry keys, each entry and knob documented; unknown names are errors', () => {
  assert.deepEqual(SELECTOR_NAMES, Object.keys(SELECTORS));
  assert.deepEqual(
    Object.keys(SELECTOR_KNOBS),
    SELECTOR_NAMES.filter((n) => SELECTORS[n].knobs !== null),
  );
  for (const [name, entry] of Object.entries(SELECTORS)) {
    assert.ok(entry.description.length > 0, `${name}: a description`);
    for (const [knob, k] of Object.entries(entry.knobs ?? {})) {
      assert.ok(k.doc.length > 0, `${name}.${knob}: a why`);
      // Its default is a value it accepts (the CLI parses what a grid file holds).
      assert.equal(parseKnob(k, String(k.default), knob), k.default, `${name}.${knob}: default within bounds`);
    }
  }
  assert.throws(() => createSelector('oracle'), /unknown selector "oracle" \(choose pharmacist, random, full/);
  assert.throws(() => createSelector('toString'), /unknown selector "toString"/);
});

for (const name of SELECTOR_NAMES) {
  test(`selector contract: ${name} ranks the pool with finite scores, deterministically for a seed`, async () => {
    // Pharmacist's defaults run long; a short pass shows the same contract.
    const make = () => createSelector(name, { pharmacist: { epochs: 1, batchSize: 4, evalBatchSize: 4 } });
    const selector = make();
    assert.equal(selector.name, name, 'the selector carries its registry name');
    const run = async (seed: number) => (await make().select(input(seed, selector.needsModel))).scores;
    const scores = await run(7);
    assert.equal(scores.length, pool.length, 'one score per pool sample');
    assert.ok(scores.every(Number.isFinite), `finite scores: ${scores.join(', ')}`);
    assert.deepEqual(await run(7), scores, 'the same seed ranks alike');
    assert.equal(model.lora, null, 'the base model is left without an adapter');
  });
}

for (const name of Object.keys(SELECTOR_KNOBS) as (keyof typeof SELECTOR_KNOBS)[]) {
  test(`selector contract: ${name} runs with its declared defaults, and each knob's override reaches it`, () => {
    const knobs = SELECTOR_KNOBS[name];
    const config = (o: SelectorOptions) => createSelector(name, o).config as Record<string, unknown>;
    assert.deepEqual(pick(config({}), Object.keys(knobs)), defaultsOf(knobs));
    for (const [knob, k] of Object.entries(knobs)) {
      const value = anotherValue(k);
      assert.equal(config({ [name]: { [knob]: value } })[knob], value, `${name}.${knob}`);
    }
  });
}

const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));
