/** The stage commands' --config: the grid's file and schema, flags over the file, errors with file:line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pretrainingCorpus } from '../src/data/pretraining.js';
import { stageSeeds } from '../src/pipeline/seeds.js';
import { writeTinyModel } from './tiny-model.js';
import { jsonl, readJson, runCli } from './cli-harness.js';

test('select, align, attack and eval --config: the file sets what no flag gives; a flag wins; lists must hold one value', () => {
  const home = mkdtempSync(join(tmpdir(), 'pharmacist-stage-config-'));
  writeTinyModel(join(home, 'model'));
  const texts = pretrainingCorpus(0).map((c) => ({ q: c.prompt.slice(0, 40), a: c.answer.slice(0, 40) }));
  writeFileSync(join(home, 'pool.jsonl'), jsonl(texts.slice(0, 10)));
  writeFileSync(join(home, 'val.jsonl'), jsonl(texts.slice(10, 14).map((t) => ({ instruction: t.q, output: t.a }))));
  const config = [
    'model: model',
    'grid: {seed: [3], selector: [random], ratio: [0.5]}',
    'align: {epochs: 1, batch_size: 4, max_length: 40, lr: 0.001}',
    'eval: {validation_curve: 2}',
    'data:',
    '  pool: {file: pool.jsonl, prompt: q, response: a}',
    '  validation: val.jsonl',
    '  harmful: val.jsonl',
  ];
  writeFileSync(join(home, 'stage.yaml'), config.join('\n') + '\n');
  const run = (...args: string[]) => runCli(home, ...args);

  const select = run('select', '--config', 'stage.yaml', '--out', 'sel');
  assert.equal(select.status, 0, select.stderr);
  const manifest = readJson(join(home, 'sel', 'manifest.json'));
  assert.equal(manifest.config.method, 'random');
  assert.equal(manifest.k, 5, 'ratio 0.5 of the 10-record pool');
  assert.equal(manifest.seed, stageSeeds(3).select);

  const align = run('align', '--config', 'stage.yaml', '--lr', '0.002', '--out', 'align');
  assert.equal(align.status, 0, align.stderr);
  const record = readJson(join(home, 'align', 'record.json'));
  assert.equal(record.config.sft.lr, 0.002, 'the flag wins over the file');
  assert.deepEqual([record.config.sft.epochs, record.config.sft.batchSize, record.config.sft.maxLength], [1, 4, 40]);
  assert.equal(record.config.sft.seed, stageSeeds(3).align);
  assert.equal(record.config.records, 10, "the pool, read with its own fields, is align's data");
  assert.equal(record.config.validation, 2, 'the loss curve on the head of the 4-record validation file');
  assert.equal(record.config.model, join(home, 'model'));

  writeFileSync(join(home, 'test.jsonl'), jsonl(['yes', 'no'].map((a, i) => ({ q: texts[20 + i].q, a }))));
  const attackConfig = [
    'model: model',
    'grid: {seed: [3], task: [custom], n: [4], p: [0.5]}',
    'attack: {epochs: 1, batch_size: 4, max_length: 40}',
    'eval: {judge: keyword, probe_prompts: 0, max_new_tokens: 2, harmful_curve: 3}',
    'world: {eval_harmful: 2}',
    'data:',
    '  task_train: {file: pool.jsonl, prompt: q, response: a}',
    '  attack_harmful: val.jsonl',
    '  task_test: {file: test.jsonl, prompt: q, response: a}',
  ];
  writeFileSync(join(home, 'attack.yaml'), attackConfig.join('\n') + '\n');
  const attack = run('attack', '--config', 'attack.yaml', '--align', 'align', '--out', 'attack');
  assert.equal(attack.status, 0, attack.stderr);
  const attackRecord = readJson(join(home, 'attack', 'record.json'));
  assert.deepEqual(attackRecord.sources, { [join(home, 'pool.jsonl')]: 2, [join(home, 'val.jsonl')]: 2 });
  assert.equal(attackRecord.config.sft.seed, stageSeeds(3).attack);
  assert.equal(attackRecord.config.harmful, 3, 'the harmful-loss curve on the head of the harmful set');
  const evaluated = run('eval', '--config', 'attack.yaml', '--adapters', 'align,attack', '--out', 'eval');
  assert.equal(evaluated.status, 0, evaluated.stderr);
  const summary = JSON.parse(evaluated.stdout);
  assert.deepEqual([summary.task, summary.judge, summary.harmful_prompts], ['custom', 'keyword', 2]);

  writeFileSync(join(home, 'two.yaml'), ['model: model', 'grid:', '  seed: [0, 1]'].join('\n') + '\n');
  const two = run('align', '--config', 'two.yaml', '--out', 'x');
  assert.equal(two.status, 2);
  assert.match(two.stderr, /two\.yaml:3: field "grid\.seed" lists 2 values; a stage command takes one/);
  writeFileSync(join(home, 'bad.yaml'), ['align:', '  epochs: 0'].join('\n') + '\n');
  const bad = run('align', '--config', 'bad.yaml', '--out', 'x');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /bad\.yaml:2: field "align\.epochs" must be >= 1/);
});
