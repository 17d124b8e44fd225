/**
 * Logits of tiny random checkpoints of every architecture match the reference implementation in
 * scripts/fixtures/model_reference.py (plain torch, written from transformers' modeling files) on fixed ids.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableBackends, noGrad, withBackend } from '../src/engine/index.js';
import { loadPretrained } from '../src/models/pretrained.js';

const root = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'tiny-models');

for (const name of readdirSync(root).sort()) {
  const reference = JSON.parse(readFileSync(join(root, name, 'reference.json'), 'utf8')) as {
    ids: number[][];
    shape: number[];
    logits: number[];
  };
  for (const backend of availableBackends()) {
    test(`${name} logits match the reference (${backend})`, () => {
      withBackend(backend, () => {
        const model = loadPretrained(join(root, name));
        const [B, T] = [reference.ids.length, reference.ids[0].length];
        const logits = noGrad(() => model.forward(Int32Array.from(reference.ids.flat()), B, T));
        assert.deepEqual(logits.shape, reference.shape);
        let maxDiff = 0;
        for (let i = 0; i < logits.size; i++)
          maxDiff = Math.max(maxDiff, Math.abs(logits.data[i] - reference.logits[i]));
        assert.ok(maxDiff <= 1e-4, `max |logit - reference| = ${maxDiff}`);
      });
    });
  }
}
