/** Knob declarations and what is derived from them: schema, sections, stage-key parts, CLI parsing, tables. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import {
  choice,
  defaultsOf,
  flag,
  fromSection,
  int,
  kebab,
  keyedKnobs,
  knobTable,
  number,
  parseKnob,
  parseKnobOverrides,
  sectionSchema,
  settableSinceKnobs,
  snake,
  text,
} from './knobs.js';

const KNOBS = {
  innerLr: number(0.05, 'a rate'),
  upperEvery: int(4, 'a count'),
  warmupEpochs: int(0, 'may be 0', 0),
  share: number(0.1, 'a share', { min: 0, inclusive: true, max: 1 }),
  safety: choice(['plain', 'none'], 'plain', 'a choice'),
  gumbel: flag(true, 'a flag'),
  url: text(null, 'a string or null'),
  later: choice(['a', 'b'], 'a', 'added after stages were cached', { unkeyedAt: 'a' }),
} as const;

test('defaults, spellings and the grid section: snake_case keys, defaults filled in, bounds and types enforced', () => {
  assert.deepEqual(defaultsOf(KNOBS), {
    innerLr: 0.05,
    upperEvery: 4,
    warmupEpochs: 0,
    share: 0.1,
    safety: 'plain',
    gumbel: true,
    url: null,
    later: 'a',
  });
  assert.equal(snake('evalBatchSize'), 'eval_batch_size');
  assert.equal(kebab('evalBatchSize'), 'eval-batch-size');
  const validate = new Ajv({ useDefaults: true, strict: false }).compile(sectionSchema(KNOBS, 'test'));
  const filled: Record<string, unknown> = { inner_lr: 0.5 };
  assert.ok(validate(filled));
  assert.deepEqual(fromSection(KNOBS, filled), { ...defaultsOf(KNOBS), innerLr: 0.5 });
  for (const bad of [
    { inner_lr: 0 },
    { upper_every: 1.5 },
    { upper_every: 0 },
    { warmup_epochs: -1 },
    { share: 1.5 },
    { safety: 'simulated' },
    { gumbel: 'yes' },
    { innerLr: 0.1 },
  ])
    assert.equal(validate({ ...bad }), false, JSON.stringify(bad));
  assert.ok(validate({ warmup_epochs: 0, share: 0, url: 'http://x' }));
});

test('stage-key parts: every knob, except one still at its unkeyedAt value', () => {
  const values = defaultsOf(KNOBS);
  const keyed = keyedKnobs(KNOBS, values);
  assert.ok(!('later' in keyed), 'at its unkeyed value: left out, so older stage folders keep their names');
  assert.equal(keyed.inner_lr, 0.05);
  assert.equal(keyedKnobs(KNOBS, { ...values, later: 'b' }).later, 'b');
  // A knob first settable later is unkeyed at its default; changing the default afterwards would key it again.
  const since = settableSinceKnobs({ buckets: int(10, 'x') });
  assert.deepEqual(keyedKnobs(since, { buckets: 10 }), {});
  assert.deepEqual(keyedKnobs(since, { buckets: 11 }), { buckets: 11 });
});

test('CLI values are checked against the declaration, with errors naming the flag, the knob and what it takes', () => {
  assert.equal(parseKnob(KNOBS.innerLr, '0.1', '--inner-lr'), 0.1);
  assert.equal(parseKnob(KNOBS.warmupEpochs, '0', '--warmup-epochs'), 0);
  assert.equal(parseKnob(KNOBS.gumbel, 'false', '--gumbel'), false);
  assert.equal(parseKnob(KNOBS.safety, 'none', '--safety'), 'none');
  assert.throws(() => parseKnob(KNOBS.innerLr, '0', '--inner-lr'), /--inner-lr takes a number > 0, got "0"/);
  assert.throws(() => parseKnob(KNOBS.innerLr, '', '--inner-lr'), /takes a number > 0/);
  assert.throws(() => parseKnob(KNOBS.upperEvery, '2.5', '--upper-every'), /a whole number >= 1, got "2.5"/);
  assert.throws(() => parseKnob(KNOBS.share, '2', '--share'), /a number >= 0 and <= 1/);
  assert.throws(() => parseKnob(KNOBS.safety, 'simulated', '--safety'), /takes plain or none/);
  assert.throws(() => parseKnob(KNOBS.gumbel, 'yes', '--gumbel'), /takes true or false/);
  assert.deepEqual(parseKnobOverrides('x', KNOBS, ['innerLr=0.2', 'safety=none'], '--x-option'), {
    innerLr: 0.2,
    safety: 'none',
  });
  assert.deepEqual(parseKnobOverrides('x', null, [], '--x-option'), {});
  assert.throws(() => parseKnobOverrides('x', null, ['a=1'], '--x-option'), /--x-option: x has no options/);
  assert.throws(
    () => parseKnobOverrides('x', KNOBS, ['rho=1'], '--x-option'),
    /--x-option rho=1: x has no option "rho" \(choose innerLr, upperEvery/,
  );
  assert.throws(() => parseKnobOverrides('x', KNOBS, ['innerLr'], '--x-option'), /expected innerLr=value/);
  assert.throws(
    () => parseKnobOverrides('x', KNOBS, ['upperEvery=0'], '--x-option'),
    /--x-option upperEvery=0: "upperEvery" takes a whole number >= 1, got "0"/,
  );
});

test('the Markdown table has one row per knob with both spellings, the type, the default and the why', () => {
  const rows = knobTable(KNOBS).split('\n');
  assert.equal(rows.length, 2 + Object.keys(KNOBS).length);
  assert.equal(rows[2], '| `innerLr` / `inner_lr` | a number > 0 | `0.05` | a rate |');
  assert.equal(rows[8], '| `url` / `url` | a string | — | a string or null |');
});
