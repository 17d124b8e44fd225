import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainByteLevelBpe } from '../tokenizers/index.js';
import { collate, lengthOrderedBatches } from './batch.js';
import { IGNORE_INDEX, alpacaPrompt, extractResponse, supervisedExample } from './prompt-format.js';

const tokenizer = trainByteLevelBpe(
  ['Below is an instruction that describes a task. ### Response: Sure, here is how. ### Instruction:'],
  { vocabSize: 300, specialTokens: ['<eos>'] },
);
const eos = tokenizer.tokenToId('<eos>')!;

test('the Alpaca template with and without input, in both profiles', () => {
  const plain = alpacaPrompt({ instruction: 'Say hi.' }, 'response-colon');
  assert.equal(
    plain,
    'Below is an instruction that describes a task. Write a response that appropriately completes the request.' +
      '\n\n### Instruction:\nSay hi.\n\n### Response:',
  );
  assert.equal(alpacaPrompt({ instruction: 'Say hi.', input: '' }, 'response-newline'), plain + '\n');
  const withInput = alpacaPrompt({ instruction: 'Classify.', input: 'Great $& movie' }, 'response-colon');
  assert.match(
    withInput,
    /paired with an input that provides further context\..*### Input:\nGreat \$& movie\n\n### Response:$/s,
  );
  assert.equal(extractResponse(plain + ' Hello there. '), 'Hello there.');
});

test('loss covers the response and EOS only; batches shift targets and mask padding', () => {
  for (const profile of ['response-colon', 'response-newline'] as const) {
    const example = { instruction: 'Greet.', output: 'Sure, here is how.' };
    const { ids, labels } = supervisedExample(tokenizer, example, { profile, eosTokenId: eos });
    const promptLength = tokenizer.encode(alpacaPrompt(example, profile)).length;
    assert.ok(labels.slice(0, promptLength).every((l) => l === IGNORE_INDEX));
    assert.deepEqual(labels.slice(promptLength), ids.slice(promptLength));
    assert.equal(ids.at(-1), eos);
    assert.equal(tokenizer.decode(ids.slice(promptLength, -1)).trim(), 'Sure, here is how.');
  }
  const a = { ids: [5, 6, 7], labels: [IGNORE_INDEX, 6, 7] };
  const b = { ids: [8, 9], labels: [IGNORE_INDEX, 9] };
  const batch = collate([a, b], 0);
  assert.deepEqual([batch.B, batch.T], [2, 3]);
  assert.deepEqual([...batch.ids], [5, 6, 7, 8, 9, 0]);
  assert.deepEqual([...batch.targets], [6, 7, IGNORE_INDEX, 9, IGNORE_INDEX, IGNORE_INDEX]);
  assert.deepEqual([...batch.keyMask], [1, 1, 1, 1, 1, 0]);
  assert.equal(
    supervisedExample(tokenizer, { instruction: 'x', output: 'y' }, { eosTokenId: eos, maxLength: 4 }).ids.length,
    4,
  );
});

test('truncation keeps the response of a long prompt and cuts a long response from the right', () => {
  const article = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
  const long = { instruction: 'Classify.', input: article, output: 'Sure' };
  const full = supervisedExample(tokenizer, long, { eosTokenId: eos, maxLength: 10_000 });
  const maxLength = Math.floor(full.ids.length / 2);
  const cut = supervisedExample(tokenizer, long, { eosTokenId: eos, maxLength });
  assert.equal(cut.ids.length, maxLength);
  const targets = (x: { ids: number[]; labels: number[] }) => x.ids.filter((_, t) => x.labels[t] !== IGNORE_INDEX);
  assert.deepEqual(targets(cut), targets(full), 'the whole response and EOS stay targets');
  const text = tokenizer.decode(cut.ids);
  assert.ok(text.startsWith(tokenizer.decode(full.ids.slice(0, 20))), 'the head of the prompt stays');
  assert.match(text, /### Response:\nSure/, 'the response marker stays in front of the response');
  assert.doesNotMatch(text, /word30 /, 'the middle of the input goes');

  const verbose = { instruction: 'Greet.', output: Array.from({ length: 80 }, () => 'Sure, here is how.').join(' ') };
  const whole = supervisedExample(tokenizer, verbose, { eosTokenId: eos, maxLength: 10_000 });
  const budget = 2 * tokenizer.encode(alpacaPrompt(verbose, 'response-newline')).length + 10;
  assert.ok(budget < whole.ids.length);
  const short = supervisedExample(tokenizer, verbose, { eosTokenId: eos, maxLength: budget });
  assert.deepEqual(
    short.ids,
    whole.ids.slice(0, budget),
    'a prompt under half the budget with a long response: plain right truncation',
  );
  assert.deepEqual(short.labels, whole.labels.slice(0, budget));
});

test('length-grouped batches: every example once per epoch, less padding, seeded', async () => {
  const { supervisedBatches } = await import('./batch.js');
  const examples = Array.from({ length: 203 }, (_, i) => ({
    ids: Array.from({ length: 1 + ((i * 37) % 50) }, () => 1),
    labels: [] as number[],
  }));
  for (const e of examples) e.labels = e.ids.map(() => 1);
  const count = (grouped: boolean) => {
    const src = supervisedBatches(examples, 8, 3, 0, grouped);
    let padded = 0;
    const seen: number[] = [];
    for (let s = 0; s < src.stepsPerEpoch; s++) {
      const b = src.batch(s);
      padded += b.B * b.T;
      for (let r = 0; r < b.B; r++) seen.push(b.keyMask.subarray(r * b.T, (r + 1) * b.T).reduce((a, v) => a + v, 0));
    }
    return { padded, lengths: seen.sort((x, y) => x - y) };
  };
  const plain = count(false),
    grouped = count(true);
  assert.deepEqual(grouped.lengths, plain.lengths, 'the same examples');
  assert.ok(grouped.padded < 0.7 * plain.padded, `${grouped.padded} vs ${plain.padded} padded tokens`);
  const again = supervisedBatches(examples, 8, 3, 0, true);
  assert.deepEqual(again.batch(5).ids, supervisedBatches(examples, 8, 3, 0, true).batch(5).ids);
});

test('length-ordered batches: every index once, shortest first, ties in input order', () => {
  const examples = [5, 2, 7, 2, 3].map((n) => ({ ids: new Array<number>(n).fill(0) }));
  assert.deepEqual(lengthOrderedBatches(examples, 2), [[1, 3], [4, 0], [2]]);
  assert.deepEqual(lengthOrderedBatches([], 4), []);
});
