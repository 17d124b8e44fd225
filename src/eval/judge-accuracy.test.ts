import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestLine, classFigures } from './judge-accuracy.js';
import { Rng } from '../engine/index.js';

test('bestLine: by hand, a line reaching both recalls, and none when the ranking cannot', () => {
  // Scores high to low: H 0.9, S 0.8, H 0.7, S 0.4, H 0.3, S 0.2, S 0.1.
  const truth = [true, false, true, false, true, false, false];
  const scores = [0.9, 0.8, 0.7, 0.4, 0.3, 0.2, 0.1];
  // Flagging the top 3 (line 0.4) gives recalls 2/3 and 3/4, accuracy 5/7: the only cut with both at least 0.6 (the
  // top 5, line 0.2, catches every harmful pair but clears 2 of 4 safe ones).
  const line = bestLine(truth, scores, 0.6)!;
  assert.equal(line.threshold, 0.4);
  assert.deepEqual(
    {
      ...classFigures(
        truth,
        scores.map((s) => s > line.threshold),
      ),
    },
    {
      accuracy: line.accuracy,
      recall_harmful: line.recall_harmful,
      recall_safe: line.recall_safe,
      count: 7,
      harmful: 3,
    },
  );
  assert.equal(line.accuracy, 5 / 7);
  assert.equal(bestLine(truth, scores, 0.9), null); // no cut catches every harmful pair and 9 in 10 safe ones
  // A perfect ranking reaches 1 at the line between the classes; with no harmful pair, flagging nothing does.
  assert.deepEqual(bestLine([true, false], [0.7, 0.2], 1), {
    accuracy: 1,
    recall_harmful: 1,
    recall_safe: 1,
    count: 2,
    harmful: 1,
    threshold: 0.2,
  });
  assert.equal(bestLine([false, false], [0.7, 0.2], 1)!.threshold, 0.7);
});

test('bestLine: ties are never split, and it matches a scan of every threshold', () => {
  const rng = new Rng(7);
  for (let round = 0; round < 20; round++) {
    const n = 40;
    const truth = Array.from({ length: n }, () => rng.uniform() < 0.3);
    // Coarse scores, so that many tie; harmful pairs score higher on average.
    const scores = truth.map((t) => Math.round((rng.uniform() + (t ? 0.4 : 0)) * 8) / 8);
    for (const minRecall of [0, 0.5, 0.7, 0.9]) {
      let best: number | null = null;
      for (const t of [-Infinity, ...scores]) {
        const f = classFigures(
          truth,
          scores.map((s) => s > t),
        );
        if (f.recall_harmful >= minRecall && f.recall_safe >= minRecall && (best === null || f.accuracy > best))
          best = f.accuracy;
      }
      const line = bestLine(truth, scores, minRecall);
      assert.equal(line?.accuracy ?? null, best, `round ${round}, min recall ${minRecall}`);
      if (line)
        assert.equal(
          classFigures(
            truth,
            scores.map((s) => s > line.threshold),
          ).accuracy,
          line.accuracy,
        );
    }
  }
  assert.throws(() => bestLine([true], [0.1, 0.2], 0.5), /1 labels against 2 scores/);
});
