/** world-check end to end on a tiny model folder: every stage runs, the record and the JSON line are complete. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWorldCheck, WORLD_CHECK_DEFAULTS } from '../src/pipeline/world-check.js';
import { writeTinyModel } from './tiny-model.js';

test('world-check runs base -> aligned -> attacked on a tiny model and writes its record', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-world-'));
  const modelDir = writeTinyModel(join(dir, 'model'));
  const lines: string[] = [];
  const summary = await runWorldCheck(
    {
      ...WORLD_CHECK_DEFAULTS,
      model: modelDir,
      runDir: join(dir, 'run'),
      align: { ...WORLD_CHECK_DEFAULTS.align, epochs: 1 },
      attack: { ...WORLD_CHECK_DEFAULTS.attack, epochs: 1 },
      maxNewTokens: 4,
      world: {
        ...WORLD_CHECK_DEFAULTS.world,
        poolSize: 16,
        validationSize: 4,
        harmfulSize: 4,
        finetuneSize: 10,
        evalHarmfulSize: 6,
        evalTaskSize: 6,
      },
    },
    (l) => lines.push(l),
  );
  for (const key of ['base_hs', 'aligned_hs', 'attacked_hs', 'finetune_accuracy', 'majority_rate'])
    assert.equal(typeof summary[key], 'number', key);
  assert.equal(Object.keys(summary.criteria as object).length, 5);
  const record = JSON.parse(readFileSync(join(dir, 'run', 'record.json'), 'utf8'));
  assert.equal(record.kind, 'world-check');
  assert.equal(record.samples.base.length, 6);
  assert.ok(existsSync(join(dir, 'run', 'record.json')));
  assert.ok(lines.some((l) => /^base harmful score/.test(l)));
});
