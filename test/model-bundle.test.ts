/** A Hugging Face folder (config.json, safetensors, tokenizer.json, generation_config.json) generates text. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors, type NamedArray } from '../src/io/safetensors.js';
import { modelFromHfConfig } from '../src/models/pretrained.js';
import { generateText } from '../src/pipeline/generate-text.js';
import { loadModelBundle } from '../src/models/bundle.js';
import { trainByteLevelBpe } from '../src/tokenizers/index.js';

test('loadModelBundle + generateText on a Hugging Face folder: batched, EOS from generation_config.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-bundle-'));
  const tokenizer = trainByteLevelBpe(['the cat sat on the mat. the dog sat on the log.'], {
    vocabSize: 280,
    specialTokens: ['<|endoftext|>'],
  });
  tokenizer.save(join(dir, 'tokenizer.json'));
  const config = {
    model_type: 'llama',
    vocab_size: 280,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    max_position_embeddings: 64,
    tie_word_embeddings: true,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const model = modelFromHfConfig(config, 'config.json', 3);
  // Sharpen the weights so that a prompt leads to a distinct continuation.
  const tensors = new Map<string, NamedArray>(
    [...model.params.byName].map(([n, p]) => [
      n,
      { data: Float32Array.from(p.data, (v) => v * 20), shape: [...p.shape] },
    ]),
  );
  writeSafetensors(join(dir, 'model.safetensors'), tensors);

  const free = generateText(loadModelBundle(dir), ['the cat', 'a dog sat on'], { maxNewTokens: 6 });
  assert.equal(free.length, 2);
  for (const r of free) {
    assert.equal(r.tokens.length, 6);
    assert.equal(r.completion, tokenizer.decode(r.tokens, { skipSpecialTokens: true }));
  }
  // Make the second generated token of the first prompt the EOS: that row stops before it.
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: [free[0].tokens[1]] }));
  const bundle = loadModelBundle(dir);
  assert.deepEqual(bundle.eosTokenIds, [free[0].tokens[1]]);
  const stopped = generateText(bundle, ['the cat'], { maxNewTokens: 6 });
  assert.deepEqual(stopped[0].tokens, free[0].tokens.slice(0, free[0].tokens.indexOf(free[0].tokens[1])));
  assert.equal(stopped[0].stopped, true);
});

test('a folder without a tokenizer or model is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-bundle-'));
  assert.throws(
    () => loadModelBundle(dir),
    /neither a Hugging Face folder \(config\.json\) nor a folder with one llama2\.c model \.bin/,
  );
  assert.throws(() => loadModelBundle(join(dir, 'x.txt')), /x\.txt: not found/);
});
