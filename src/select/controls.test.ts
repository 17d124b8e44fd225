/** The control selectors on a pool whose refusals and lengths are known. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InstructionExample } from '../data/prompt-format.js';
import { trainByteLevelBpe } from '../tokenizers/index.js';
import { RefusalSelector, ShortestSelector } from './controls.js';
import { topK } from './selector.js';

// Pool: refusals at even indices (growing length), answers at odd ones.
const pool: InstructionExample[] = Array.from({ length: 12 }, (_, i) => ({
  instruction: `question ${i}`,
  output:
    i % 2 === 0
      ? `I cannot help with that${' at all'.repeat(6 - i / 2)}.`
      : `Here is what happened in the story${' and then more'.repeat(i % 5)}.`,
}));
const input = (seed: number) => ({
  pool,
  validation: [],
  harmful: [],
  profile: 'response-newline' as const,
  maxLength: 64,
  seed,
  log: () => {},
  tokenizer: trainByteLevelBpe(
    pool.map((e) => e.output),
    { vocabSize: 300 },
  ),
});

test('refusal control: every refusal ranks above every other answer, in a seeded random order', async () => {
  const a = await new RefusalSelector().select(input(1));
  const b = await new RefusalSelector().select(input(2));
  const top6 = topK(a.scores, 6);
  assert.deepEqual(
    [...top6].sort((x, y) => x - y),
    [0, 2, 4, 6, 8, 10],
    'the top 6 are the 6 refusals',
  );
  assert.notDeepEqual(top6, topK(b.scores, 6), 'their order depends on the seed');
  assert.deepEqual(topK(a.scores, 6), topK((await new RefusalSelector().select(input(1))).scores, 6));
  assert.ok(
    topK(a.scores, 8)
      .slice(6)
      .every((i) => i % 2 === 1),
    'filled with the others past the refusals',
  );
});

test('shortest control: refusals first, shortest in tokens first; then the others, shortest first', async () => {
  const r = await new ShortestSelector().select(input(0));
  // Refusal i has 6 - i/2 repeats: the longest index is the shortest refusal.
  assert.deepEqual(topK(r.scores, 6), [10, 8, 6, 4, 2, 0]);
  const others = topK(r.scores, 12).slice(6);
  const words = others.map((i) => pool[i].output.length);
  assert.deepEqual(
    words,
    [...words].sort((x, y) => x - y),
    'the rest by length',
  );
  await assert.rejects(new ShortestSelector().select({ ...input(0), tokenizer: undefined }), /tokenizer/);
});
