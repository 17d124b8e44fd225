import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finalNumber, predictLabel } from './metrics.js';

test('label words: the earliest whole-word label in the response wins', () => {
  const labels = ['negative', 'positive'];
  assert.equal(predictLabel('Positive. The review is not negative.', labels), 'positive');
  assert.equal(predictLabel('it is negative, not positive', labels), 'negative');
  assert.equal(predictLabel('nonpositive', labels), null);
  assert.equal(predictLabel('Sci/Tech news', ['World', 'Sports', 'Business', 'Sci/Tech']), 'Sci/Tech');
});

test('GSM8K final numbers: the marked answer, else the last number', () => {
  assert.equal(finalNumber('3 + 4 = 7. The final answer is: 1,250'), '1250');
  assert.equal(finalNumber('so #### 18'), '18');
  assert.equal(finalNumber('she has 3 then 5.5 apples'), '5.5');
  assert.equal(finalNumber('no numbers'), null);
});
