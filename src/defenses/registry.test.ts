/**
 * The defense contract, run on every registered defense: it carries its registry name, declares the stages it
 * acts in (a fine-tuning hook exactly when it acts in the attack; plain SFT's alignment when it does not act in
 * the alignment), records the knobs it runs with, reads harmful batches only when it says so, and its step
 * gradients on a tiny model are finite and leave the weights to the optimizer.
 */
import { defaultsOf, type Knobs } from '../config/knobs.js';
import { anotherValue } from '../config/testing.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withBackend, withDType, type Tensor } from '../engine/index.js';
import type { TokenBatch } from '../data/batch.js';
import { tinyDefenseSetup } from './testing.js';
import { SftDefense, type DefenseContext, type StepGradient } from './defense.js';
import { createDefense, DEFENSE_DEFAULTS, DEFENSE_NAMES, DEFENSES, parseDefenseOptions } from './registry.js';

const setup = () => tinyDefenseSetup();

/**
 * Two steps of `make`'s step gradient, each from cleared gradients and followed by a small SGD step (an
 * optimizer moved the weights): the losses and the gradients taken, after checking that they are finite,
 * that some are nonzero and that the step gradient left the weights alone.
 */
function twoSteps(
  params: readonly Tensor[],
  batch: (seed: number) => TokenBatch,
  make: () => StepGradient,
  what: string,
): { losses: number[]; grads: Float64Array[][] } {
  const step = make();
  const losses: number[] = [];
  const grads: Float64Array[][] = [];
  for (let s = 0; s < 2; s++) {
    for (const p of params) p.grad = null;
    const before = params.map((p) => p.data.slice());
    losses.push(step(batch(s), s));
    assert.ok(Number.isFinite(losses[s]), `${what}: finite loss at step ${s}`);
    params.forEach((p, i) => assert.deepEqual(p.data, before[i], `${what}: weights untouched at step ${s}`));
    const g = params.map((p) => Float64Array.from(p.grad ?? []));
    assert.ok(
      g.every((v) => v.every(Number.isFinite)),
      `${what}: finite gradients at step ${s}`,
    );
    assert.ok(
      g.some((v) => v.some((e) => e !== 0)),
      `${what}: some gradient at step ${s}`,
    );
    grads.push(g);
    for (const p of params) if (p.grad) for (let i = 0; i < p.size; i++) p.data[i] -= 0.05 * p.grad[i];
  }
  return { losses, grads };
}

test('the defense names are the registry keys; the tunable ones and their defaults follow the entries', () => {
  assert.deepEqual(DEFENSE_NAMES, Object.keys(DEFENSES));
  assert.deepEqual(
    Object.keys(DEFENSE_DEFAULTS),
    DEFENSE_NAMES.filter((n) => DEFENSES[n].knobs !== null),
  );
  for (const [name, entry] of Object.entries(DEFENSES)) assert.ok(entry.description.length > 0, name);
  assert.throws(() => createDefense('lisa2'), /unknown defense "lisa2" \(choose sft, vaccine/);
  assert.throws(() => createDefense('toString'), /unknown defense "toString"/);
  assert.throws(() => parseDefenseOptions('toString', ['a=1']), /toString has no options/);
});

for (const name of DEFENSE_NAMES) {
  test(`defense contract: ${name} declares its stages and knobs, and its step gradients are finite`, () => {
    withBackend('ts', () =>
      withDType('float64', () => {
        const defense = createDefense(name);
        assert.equal(defense.name, name, 'the defense carries its registry name');
        assert.ok(defense.actsIn.length > 0, 'it acts somewhere');
        assert.ok(defense.actsIn.every((s) => s === 'align' || s === 'attack'));
        assert.equal(
          defense.fineTuning !== undefined,
          defense.actsIn.includes('attack'),
          'a hook iff it acts in the attack',
        );
        assert.ok(defense.flow === 'double' || defense.flow === 'single');
        // The knobs it runs with are recorded with the stage they act in: its defaults, and an override reaches them.
        const knobs = DEFENSES[name].knobs as Knobs | null;
        const recorded = (d: typeof defense) => (d.actsIn.includes('align') ? d.config : d.fineTuning!.config) ?? null;
        assert.deepEqual(recorded(defense), knobs && defaultsOf(knobs));
        for (const [knob, k] of Object.entries(knobs ?? {})) {
          const value = anotherValue(k);
          const tuned = createDefense(name, parseDefenseOptions(name, [`${knob}=${value}`]));
          assert.deepEqual(recorded(tuned), { ...defaultsOf(knobs!), [knob]: value }, `${name}.${knob}`);
        }

        const { model, lora, params, batch } = setup();
        const harmfulBatch = defense.needsHarmful
          ? (step: number) => batch(100 + step)
          : () => assert.fail(`${name} says it needs no harmful data but reads it`);
        const context: DefenseContext = { model, lora, harmfulBatch, seed: 0 };
        const start = params.map((p) => p.data.slice());
        const aligned = twoSteps(params, batch, () => defense.stepGradient(context), `${name} alignment`);
        if (!defense.actsIn.includes('align')) {
          // Acting only later, it aligns as plain SFT does, step for step.
          params.forEach((p, i) => p.data.set(start[i]));
          const sft = twoSteps(params, batch, () => new SftDefense().stepGradient(context), 'sft');
          assert.deepEqual(aligned, sft, 'the alignment is plain SFT');
        }
        if (defense.fineTuning) {
          const hook = defense.fineTuning;
          const alignmentBatch = (step: number) => batch(500 + step);
          twoSteps(
            params,
            batch,
            () => hook.stepGradient({ model, lora, alignmentBatch, totalSteps: 4 }),
            `${name} fine-tuning`,
          );
        }
      }),
    );
  });
}
