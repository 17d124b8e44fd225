/** The committed embedded base model loads as a Hugging Face folder and generates. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateText } from '../src/pipeline/generate-text.js';
import { loadModelBundle } from '../src/models/bundle.js';

const dir = fileURLToPath(new URL('../../assets/base/', import.meta.url));

test('assets/base: config, weights, tokenizer and EOS load; greedy generation runs', () => {
  const bundle = loadModelBundle(dir);
  const record = JSON.parse(readFileSync(`${dir}pretrain-record.json`, 'utf8'));
  assert.equal(bundle.model.params.count(), record.model.parameters);
  assert.deepEqual(bundle.eosTokenIds, [bundle.tokenizer.tokenToId('</s>')]);
  const [out] = generateText(bundle, ['Name three colors.'], { alpaca: true, maxNewTokens: 12 });
  assert.ok(out.tokens.length > 0 && out.tokens.length <= 12);
});
