/** The real pretrained stories260K (llama2.c format) runs on our Llama path and matches a reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableBackends, withBackend } from '../src/engine/index.js';
import { decodeLlama2c, loadLlama2c, loadLlama2cVocab } from '../src/models/llama2c.js';
import { greedyGenerate } from '../src/models/generate.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/stories260K/', import.meta.url));
const reference = JSON.parse(readFileSync(`${fixtures}greedy-reference.json`, 'utf8')) as { prompt: number[]; tokens: number[] };

for (const name of availableBackends()) {
  test(`stories260K greedy from BOS matches the numpy llama2.c reference for 40 tokens (${name})`, () => {
    withBackend(name, () => {
      const model = loadLlama2c(`${fixtures}stories260K.bin`);
      // Every float of the file is a parameter except the precomputed RoPE tables (seq_len x head_size).
      assert.equal(model.params.count(), (statSync(`${fixtures}stories260K.bin`).size - 28) / 4 - 512 * 8);
      const tokens = greedyGenerate(model, reference.prompt, reference.tokens.length);
      assert.deepEqual(tokens, reference.tokens);
      const text = decodeLlama2c(loadLlama2cVocab(`${fixtures}tok512.bin`, 512), tokens);
      assert.match(text, /^Once upon a time, there was a little girl named Lily/);
    });
  });
}

test('a truncated llama2.c checkpoint is a clear error', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'pharmacist-l2c-')), 'truncated.bin');
  writeFileSync(path, readFileSync(`${fixtures}stories260K.bin`).subarray(0, 140_000));
  assert.throws(() => loadLlama2c(path), /truncated\.bin: file ends inside wq/);
});
