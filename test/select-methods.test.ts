/**
 * Every selector end to end through `runSelect` on a tiny model and users' files: the ranking is a permutation
 * of the pool, the subset is its top k in the input's own format, and the manifest names the method.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pretrainingCorpus } from '../src/data/pretraining.js';
import { runSelect, SELECT_DEFAULTS, SELECTOR_NAMES } from '../src/pipeline/select.js';
import { writeTinyModel } from './tiny-model.js';

const readJsonl = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

test("every selector ranks users' files end to end: ranking.jsonl, subset.jsonl, manifest.json", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-selectors-'));
  const model = writeTinyModel(join(dir, 'model'));
  const corpus = pretrainingCorpus(0).slice(0, 30);
  const write = (name: string, from: number, to: number) => {
    writeFileSync(
      join(dir, name),
      corpus
        .slice(from, to)
        .map((c) => JSON.stringify({ q: c.prompt.slice(0, 40), a: c.answer.slice(0, 40) }))
        .join('\n') + '\n',
    );
    return join(dir, name);
  };
  const files = {
    poolFile: write('pool.jsonl', 0, 12),
    validationFile: write('val.jsonl', 12, 16),
    harmfulFile: write('harm.jsonl', 16, 20),
  };
  for (const method of SELECTOR_NAMES) {
    const outDir = join(dir, method);
    const lines: string[] = [];
    const result = await runSelect(
      {
        ...SELECT_DEFAULTS,
        ...files,
        method,
        model,
        count: 5,
        maxLength: 40,
        outDir,
        mapping: { prompt: 'q', response: 'a' },
        options: { pharmacist: { batchSize: 4, evalBatchSize: 2, warmupEpochs: 1 } },
      },
      (l) => lines.push(l),
    );
    const warmsUp = ['pharmacist', 'loss', 'gradnorm', 'gradsim'].includes(method);
    assert.equal(
      lines.some((l) => l.startsWith('warm-up ')),
      warmsUp,
      `${method}: ${warmsUp ? 'trains' : 'does not train'} a warm-up adapter on the pool first`,
    );
    const ranking = readJsonl(join(outDir, 'ranking.jsonl'));
    assert.equal(ranking.length, 12, method);
    assert.deepEqual(
      ranking.map((r) => r.rank).sort((a, b) => a - b),
      Array.from({ length: 12 }, (_, i) => i + 1),
      `${method}: ranks are a permutation`,
    );
    assert.ok(
      ranking.every((r) => Number.isFinite(r.score)),
      `${method}: finite scores`,
    );
    const top = ranking
      .filter((r) => r.rank <= 5)
      .map((r) => r.id)
      .sort((a, b) => a - b);
    assert.deepEqual(
      [...result.kept].sort((a, b) => a - b),
      top,
      `${method}: the subset is the top 5`,
    );
    const subset = readJsonl(join(outDir, 'subset.jsonl'));
    assert.equal(subset.length, 5);
    assert.ok(
      subset.every((r) => typeof r.q === 'string' && typeof r.a === 'string'),
      `${method}: the subset keeps the input format`,
    );
    assert.equal(JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')).config.method, method);
  }
});
