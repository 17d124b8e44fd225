/**
 * A grid on a user's model and files, from the user's own directory: a sharded BF16 Hugging Face folder and a
 * file for every role (each in its own format and fields), run with `pharmacist run user.yaml`; the records show
 * which files each stage read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pretrainingCorpus } from '../src/data/pretraining.js';
import { sha256Files } from '../src/io/hash.js';
import { loadGridConfig, resolveGridConfig } from '../src/pipeline/grid-config.js';
import { cellStageDirs, planGrid } from '../src/pipeline/grid-plan.js';
import { writeShardedBf16, writeTinyModel } from './tiny-model.js';
import { jsonl, readJson, runCli } from './cli-harness.js';

test("pharmacist run on a user's sharded BF16 model and files for every role", () => {
  const home = mkdtempSync(join(tmpdir(), 'pharmacist-user-'));
  const myModel = writeShardedBf16(writeTinyModel(join(home, 'f32')), join(home, 'my-model'));
  // Llama-3's chat template, with the tiny tokenizer's own BOS and EOS.
  const llama3 = readJson(
    fileURLToPath(new URL('../../test/fixtures/chat-templates/llama3/tokenizer_config.json', import.meta.url)),
  );
  writeFileSync(
    join(myModel, 'tokenizer_config.json'),
    JSON.stringify({ ...llama3, bos_token: '<s>', eos_token: '</s>' }),
  );
  const texts = pretrainingCorpus(0).map((c) => ({ q: c.prompt.slice(0, 40), a: c.answer.slice(0, 40) }));
  const slice = (from: number, to: number) => texts.slice(from, to);
  // The pool as conversations (a messages list per record), the chat format's own kind of data.
  const turns = (t: { q: string; a: string }) => [
    { role: 'system', content: 'Be safe.' },
    { role: 'user', content: t.q },
    { role: 'assistant', content: t.a },
  ];
  writeFileSync(join(home, 'pool.jsonl'), jsonl(slice(0, 10).map((t) => ({ messages: turns(t) }))));
  // A CSV with its own column names, and JSON Lines saved as .json.
  writeFileSync(
    join(home, 'val.csv'),
    'question,answer\n' +
      slice(10, 14)
        .map((t) => `"${t.q}","${t.a}"`)
        .join('\n'),
  );
  writeFileSync(join(home, 'harmful.json'), jsonl(slice(14, 18).map((t) => ({ instruction: t.q, output: t.a }))));
  writeFileSync(
    join(home, 'task.jsonl'),
    jsonl(slice(18, 30).map((t, i) => ({ text: t.q, label: i % 2 ? 'yes' : 'no' }))),
  );
  writeFileSync(join(home, 'bad.jsonl'), jsonl(slice(30, 36).map((t) => ({ instruction: t.q, output: t.a }))));
  writeFileSync(join(home, 'prompts.jsonl'), jsonl(slice(36, 39).map((t) => ({ prompt: t.q, unsafe: t.a }))));
  writeFileSync(
    join(home, 'test.jsonl'),
    jsonl(slice(39, 45).map((t, i) => ({ text: t.q, label: i % 3 ? 'yes' : 'no' }))),
  );
  const config = [
    'model: my-model',
    'prompt_format: chat',
    'run_dir: out',
    'grid: {selector: [random], ratio: [0.5], task: [custom], n: [6], p: [0.5]}',
    'select: {max_length: 40}',
    'align: {epochs: 1, batch_size: 4, max_length: 40}',
    'attack: {epochs: 1, batch_size: 3, max_length: 40}',
    'eval: {judge: keyword, max_new_tokens: 2, probe_prompts: 1}',
    'data:',
    '  pool: pool.jsonl',
    '  validation: {file: val.csv, prompt: question, response: answer}',
    '  harmful: harmful.json',
    '  task_train: {file: task.jsonl, prompt: text, response: label}',
    '  attack_harmful: bad.jsonl',
    '  eval_prompts: {file: prompts.jsonl, prompt: prompt, response: unsafe}',
    '  task_test: {file: test.jsonl, prompt: text, response: label}',
  ];
  writeFileSync(join(home, 'user.yaml'), config.join('\n') + '\n');
  const r = runCli(home, 'run', 'user.yaml');
  assert.equal(r.status, 0, r.stderr);

  const results = readJson(join(home, 'out', 'results.json'));
  assert.equal(results.model.path, join(home, 'my-model'));
  assert.equal(results.results.length, 1);
  assert.ok(existsSync(join(home, 'out', 'report.md')) && existsSync(join(home, 'out', 'report.html')));
  const row = results.results[0];
  assert.equal(row.task, 'custom');
  const stages = join(home, 'out', 'stages');
  const folder = (kind: string) =>
    join(
      stages,
      readdirSync(stages).find((d) => d.startsWith(`${kind}-`))!,
    );
  const manifest = readJson(join(folder('select'), 'manifest.json'));
  assert.equal(manifest.poolSize, 10, 'the pool is the user file, whole');
  assert.deepEqual(manifest.data, {
    pool: sha256Files(join(home, 'pool.jsonl')),
    validation: sha256Files(join(home, 'val.csv')),
    harmful: sha256Files(join(home, 'harmful.json')),
  });
  const attack = readJson(join(folder('attack'), 'record.json'));
  assert.deepEqual(attack.sources, { [join(home, 'task.jsonl')]: 3, [join(home, 'bad.jsonl')]: 3 });
  assert.equal(attack.config.harmful, 4, "the harmful-loss curve runs on the user's harmful set");
  const subset = readFileSync(join(folder('select'), 'subset.jsonl'), 'utf8')
    .trim()
    .split('\n');
  assert.ok(
    subset.every((line) => JSON.parse(line).messages.length === 3),
    'the subset keeps the conversations',
  );
  const align = readJson(join(folder('align'), 'record.json'));
  assert.equal(align.config.records, 5);
  assert.equal(align.config.sft.profile, `chat (${join(myModel, 'tokenizer_config.json')} (chat_template))`);
  // The template keys the stages: the same grid in Alpaca's format names other folders.
  const chat = loadGridConfig(join(home, 'user.yaml'));
  const dirs = (format: 'alpaca' | 'chat') => {
    const plan = planGrid({ ...chat, prompt_format: format });
    return cellStageDirs(plan, plan.cells[0]);
  };
  assert.equal(join(home, dirs('chat').select), folder('select'));
  assert.notEqual(join(home, dirs('alpaca').select), folder('select'));
  const responses = readJson(join(folder('eval'), 'responses.json'));
  assert.deepEqual(
    responses.harmful.map((x: { prompt: string }) => x.prompt),
    slice(36, 39).map((t) => t.q.trim()),
  );
  assert.equal(responses.harmfulMargin.length, 3, 'the reference answers of the prompts give the margin');
  assert.deepEqual(new Set(responses.task.map((x: { gold: string }) => x.gold)), new Set(['yes', 'no']));
  assert.equal(responses.task.length, 6);
});

test('the data section: errors name the file, line and field', () => {
  const home = mkdtempSync(join(tmpdir(), 'pharmacist-user-'));
  const write = (name: string, lines: string[]) => {
    writeFileSync(join(home, name), lines.join('\n') + '\n');
    return join(home, name);
  };
  writeFileSync(join(home, 'pool.jsonl'), jsonl([{ instruction: 'a', output: 'b' }]));
  assert.throws(
    () => loadGridConfig(write('a.yaml', ['data:', '  pool: nowhere.jsonl'])),
    /a\.yaml:2: field "data\.pool": .*nowhere\.jsonl not found/,
  );
  assert.throws(
    () => loadGridConfig(write('b.yaml', ['data:', '  pool: {file: pool.jsonl, answer: x}'])),
    /b\.yaml:2: data\.pool: unknown field "answer"/,
  );
  assert.throws(
    () => loadGridConfig(write('c.yaml', ['data:', '  pool: 3'])),
    /c\.yaml:2: field "data\.pool" must be a file path or \{file, prompt, response, input, messages\}/,
  );
  assert.throws(
    () => loadGridConfig(write('d.yaml', ['grid:', '  task: [agnews, custom]', 'data:', '  task_test: pool.jsonl'])),
    /d\.yaml:2: field "grid\.task\.1" custom needs data\.task_train or data\.finetune/,
  );
  assert.throws(
    () => loadGridConfig(write('e.yaml', ['data:', '  task_train: pool.jsonl'])),
    /e\.yaml:2: field "data\.task_train" is your task's: list it as task custom in grid\.task/,
  );
  assert.throws(
    () => loadGridConfig(write('g.yaml', ['grid:', '  n: [100, 200]', 'data:', '  finetune: pool.jsonl'])),
    /g\.yaml:2: field "grid\.n" must hold one value: data\.finetune is trained on whole/,
  );
  const resolved = loadGridConfig(write('f.yaml', ['data:', '  pool: pool.jsonl']));
  assert.equal(resolved.data.pool, join(home, 'pool.jsonl'));
  assert.deepEqual(resolveGridConfig({}).data, {});
});

test('the stage commands take the same roles as flags: attack --task-train/--attack-harmful/--harmful, eval --task-test', () => {
  const home = mkdtempSync(join(tmpdir(), 'pharmacist-user-'));
  const model = writeTinyModel(join(home, 'model'));
  const texts = pretrainingCorpus(0).map((c) => ({ q: c.prompt.slice(0, 40), a: c.answer.slice(0, 40) }));
  const qa = (from: number, to: number) => jsonl(texts.slice(from, to).map((t) => ({ q: t.q, a: t.a })));
  writeFileSync(join(home, 'task.jsonl'), qa(0, 10));
  writeFileSync(join(home, 'bad.jsonl'), qa(10, 20));
  writeFileSync(join(home, 'harmful.jsonl'), qa(20, 23));
  writeFileSync(join(home, 'test.jsonl'), jsonl(['yes', 'no', 'yes'].map((a, i) => ({ q: texts[30 + i].q, a }))));
  const run = (...args: string[]) => runCli(home, ...args, '--prompt-field', 'q', '--response-field', 'a');
  const tiny = ['--model', model, '--epochs', '1', '--batch-size', '4', '--max-length', '40'];
  const attack = run(
    'attack',
    ...tiny,
    '--n',
    '8',
    '--p',
    '0.25',
    '--probe',
    '0',
    '--out',
    'attack',
    ...['--task-train', 'task.jsonl', '--attack-harmful', 'bad.jsonl', '--harmful', 'harmful.jsonl'],
  );
  assert.equal(attack.status, 0, attack.stderr);
  const record = readJson(join(home, 'attack', 'record.json'));
  assert.deepEqual(record.sources, { 'task.jsonl': 6, 'bad.jsonl': 2 });
  assert.equal(record.config.harmful, 3);
  const evaluated = run(
    'eval',
    '--model',
    model,
    '--adapters',
    'attack',
    '--task-test',
    'test.jsonl',
    ...['--eval-harmful', '2', '--judge', 'keyword', '--max-new-tokens', '2', '--out', 'eval'],
  );
  assert.equal(evaluated.status, 0, evaluated.stderr);
  const summary = JSON.parse(evaluated.stdout);
  assert.equal(summary.task, 'custom');
  assert.equal(typeof summary.finetune_accuracy, 'number');
  const evalRecord = readJson(join(home, 'eval', 'record.json'));
  assert.deepEqual(
    evalRecord.samples.task.map((x: { gold: string }) => x.gold),
    ['yes', 'no', 'yes'],
  );
});

test("a GPT-2 folder through select, align, attack and eval: the architecture's LoRA targets, or the ones given, in adapter_config", () => {
  const home = mkdtempSync(join(tmpdir(), 'pharmacist-gpt2-'));
  const model = writeTinyModel(join(home, 'gpt2'), { architecture: 'gpt2' });
  const texts = pretrainingCorpus(0).map((c) => ({
    instruction: c.prompt.slice(0, 40),
    output: c.answer.slice(0, 40),
  }));
  writeFileSync(join(home, 'pool.jsonl'), jsonl(texts.slice(0, 8)));
  writeFileSync(join(home, 'ft.jsonl'), jsonl(texts.slice(8, 14)));
  writeFileSync(join(home, 'prompts.jsonl'), jsonl(texts.slice(14, 16)));
  const run = (...args: string[]) => runCli(home, ...args);
  const tiny = ['--model', model, '--epochs', '1', '--batch-size', '4', '--max-length', '40'];
  // Pharmacist's selector trains its own LoRA on the model: GPT-2's modules by default too.
  const files = ['--pool', 'pool.jsonl', '--validation', 'ft.jsonl', '--harmful', 'prompts.jsonl'];
  const select = run('select', '--method', 'pharmacist', '--model', model, ...files, '--count', '4', '--out', 'sel');
  assert.equal(select.status, 0, select.stderr);
  assert.equal(readJson(join(home, 'sel', 'manifest.json')).k, 4);
  const align = run('align', ...tiny, '--data', 'sel/subset.jsonl', '--validation', 'pool.jsonl', '--out', 'align');
  assert.equal(align.status, 0, align.stderr);
  const adapter = readJson(join(home, 'align', 'adapter', 'adapter_config.json'));
  assert.deepEqual(adapter.target_modules, ['c_attn', 'c_proj', 'c_fc']);
  assert.equal(adapter.fan_in_fan_out, true);
  assert.deepEqual([adapter.r, adapter.lora_alpha, adapter.lora_dropout], [8, 16, 0.05]);
  const lora = ['--rank', '2', '--lora-alpha', '4', '--lora-dropout', '0', '--lora-targets', 'c_attn'];
  const attack = run(
    'attack',
    ...tiny,
    ...lora,
    '--align',
    'align',
    '--data',
    'ft.jsonl',
    '--probe',
    '0',
    '--out',
    'attack',
  );
  assert.equal(attack.status, 0, attack.stderr);
  const attackAdapter = readJson(join(home, 'attack', 'adapter', 'adapter_config.json'));
  assert.deepEqual(
    [attackAdapter.target_modules, attackAdapter.r, attackAdapter.lora_alpha, attackAdapter.lora_dropout],
    [['c_attn'], 2, 4, 0],
  );
  const evaluated = run(
    ...['eval', '--model', model, '--adapters', 'align,attack', '--prompts', 'prompts.jsonl'],
    ...['--task', 'none', '--judge', 'keyword', '--max-new-tokens', '2', '--out', 'eval'],
  );
  assert.equal(evaluated.status, 0, evaluated.stderr);
  assert.equal(JSON.parse(evaluated.stdout).harmful_prompts, 2);
  const bad = run('align', ...tiny, '--lora-targets', 'q_proj', '--data', 'pool.jsonl', '--out', 'bad');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /no module matches target_modules \[q_proj\]/);
});
