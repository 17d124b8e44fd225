/** The real pretrained stories260K (llama2.c format) runs on our Llama path and matches a reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableBackends, withBackend } from '../src/engine/index.js';
import { spawnSync } from 'node:child_process';
import { loadLlama2c } from '../src/models/llama2c.js';
import { generate, greedyGenerate } from '../src/models/generate.js';
import { tokenizerFromLlama2c } from '../src/tokenizers/index.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/stories260K/', import.meta.url));
const reference = JSON.parse(readFileSync(`${fixtures}greedy-reference.json`, 'utf8')) as {
  prompt: number[];
  tokens: number[];
};

for (const name of availableBackends()) {
  test(`stories260K greedy from BOS matches the numpy llama2.c reference for 40 tokens (${name})`, () => {
    withBackend(name, () => {
      const model = loadLlama2c(`${fixtures}stories260K.bin`);
      // Every float of the file is a parameter except the precomputed RoPE tables (seq_len x head_size).
      assert.equal(model.params.count(), (statSync(`${fixtures}stories260K.bin`).size - 28) / 4 - 512 * 8);
      const tokens = greedyGenerate(model, reference.prompt, reference.tokens.length);
      assert.deepEqual(tokens, reference.tokens);
      const text = tokenizerFromLlama2c(`${fixtures}tok512.bin`, 512).decode(tokens);
      assert.match(text, /^Once upon a time, there was a little girl named Lily/);
    });
  });
}

const promptReference = JSON.parse(readFileSync(`${fixtures}prompt-reference.json`, 'utf8')) as {
  text: string;
  prompt: number[];
  tokens: number[];
  completion: string;
};

for (const name of availableBackends()) {
  test(`stories260K from "Once upon a time": batched, cached greedy matches the reference for 40 tokens (${name})`, () => {
    withBackend(name, () => {
      const model = loadLlama2c(`${fixtures}stories260K.bin`);
      const tokenizer = tokenizerFromLlama2c(`${fixtures}tok512.bin`, 512);
      const prompt = tokenizer.encode(promptReference.text);
      assert.deepEqual(prompt, promptReference.prompt);
      // A shorter prompt in the same batch forces left padding on the reference row's neighbour.
      const out = generate(model, [prompt, tokenizer.encode('The dog')], { maxNewTokens: 40 });
      assert.deepEqual(out.tokens[0], promptReference.tokens);
      assert.deepEqual(out.tokens[1], greedyGenerate(model, tokenizer.encode('The dog'), 40));
    });
  });
}

test('pharmacist generate prints the greedy completion of a llama2.c model', () => {
  const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const run = spawnSync(
    process.execPath,
    [
      cli,
      'generate',
      '--model',
      `${fixtures}stories260K.bin`,
      '--prompt',
      promptReference.text,
      '--greedy',
      '--max-new-tokens',
      '40',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), promptReference.completion.trim());
  const bad = spawnSync(process.execPath, [cli, 'generate', '--model', `${fixtures}missing.bin`, '--prompt', 'x'], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /missing\.bin: not found/);
});

test('a truncated llama2.c checkpoint is a clear error', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'pharmacist-l2c-')), 'truncated.bin');
  writeFileSync(path, readFileSync(`${fixtures}stories260K.bin`).subarray(0, 140_000));
  assert.throws(() => loadLlama2c(path), /truncated\.bin: file ends inside wq/);
});
