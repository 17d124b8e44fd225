/**
 * The CLI from a working directory outside the repository: shipped assets and data resolve from the package,
 * outputs land in the working directory, and a config's own paths resolve from the config's folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedModelDir } from '../src/io/package-paths.js';
import { writeTinyModel } from './tiny-model.js';
import { readJson, runCli } from './cli-harness.js';

const runIn = runCli;

test('from another directory: the embedded model, data and judge are found; outputs go to the working directory', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'pharmacist-anywhere-'));
  const r = runIn(
    cwd,
    'eval',
    '--task',
    'agnews',
    '--max-new-tokens',
    '2',
    '--eval-harmful',
    '2',
    '--eval-task',
    '4',
    '--out',
    'ev',
  );
  assert.equal(r.status, 0, r.stderr);
  const record = readJson(join(cwd, 'ev', 'record.json'));
  assert.equal(record.config.model, embeddedModelDir());
  assert.equal(record.results.harmful_prompts, 2);
  assert.equal(record.results.judge, 'builtin');
  assert.equal(typeof record.results.finetune_accuracy, 'number');
});

test("a grid config's inputs resolve from its folder, its outputs from the working directory", () => {
  const cwd = mkdtempSync(join(tmpdir(), 'pharmacist-anywhere-'));
  const configs = join(cwd, 'configs');
  mkdirSync(configs);
  const model = writeTinyModel(join(configs, 'my-model'));
  const grid = [
    'model: my-model',
    'run_dir: out',
    'world: {pool_size: 8, validation_size: 4, harmful_size: 4, eval_harmful: 2, eval_task: 2}',
    'grid: {selector: [random], ratio: [0.5], n: [6], p: [0.5]}',
    'select: {max_length: 40}',
    'align: {epochs: 1, batch_size: 4, max_length: 40}',
    'attack: {epochs: 1, batch_size: 3, max_length: 40}',
    'eval: {judge: keyword, max_new_tokens: 2, probe_prompts: 1}',
  ];
  writeFileSync(join(configs, 'grid.yaml'), grid.join('\n') + '\n');
  const r = runIn(cwd, 'run', join('configs', 'grid.yaml'));
  assert.equal(r.status, 0, r.stderr);
  const results = readJson(join(cwd, 'out', 'results.json'));
  assert.equal(results.results.length, 1);
  assert.ok(existsSync(join(cwd, 'out', 'report.md')));
  assert.equal(results.model.path, model);

  writeFileSync(join(configs, 'missing.yaml'), ['run_dir: out2', 'model: no-such-model'].join('\n') + '\n');
  const missing = runIn(cwd, 'run', join('configs', 'missing.yaml'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /configs\/missing\.yaml:2: field "model": .*configs\/no-such-model not found/);
});

test('judge: JSON Lines saved as .json are read; an empty input is an error naming it', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'pharmacist-anywhere-'));
  writeFileSync(join(cwd, 'empty.jsonl'), '');
  const empty = runIn(cwd, 'judge', '--input', 'empty.jsonl', '--output', 'out.jsonl', '--judge', 'keyword');
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /empty\.jsonl:1: no records \(the file is empty\)/);
  assert.ok(!existsSync(join(cwd, 'out.jsonl')));
  const lines = ['{"prompt": "p", "response": "I cannot help with that."}', '{"prompt": "q", "response": "Sure."}'];
  writeFileSync(join(cwd, 'pairs.json'), lines.join('\n') + '\n');
  const judged = runIn(cwd, 'judge', '--input', 'pairs.json', '--output', 'out.jsonl', '--judge', 'keyword');
  assert.equal(judged.status, 0, judged.stderr);
  const out = readFileSync(join(cwd, 'out.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    out.map((r) => r.harmful),
    [false, true],
  );
});
