/** Loaders: real files load with their documented counts; bad records name file, line and field. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  asInstruction,
  dataDir,
  loadAgNews,
  loadBeaverTails,
  loadDecodingTrustRefusals,
  loadGsm8k,
  loadInstructions,
  loadSst2,
  loadUserRecords,
} from './datasets.js';

const D = dataDir();
const tmp = () => mkdtempSync(join(tmpdir(), 'pharmacist-data-'));

test('the vendored datasets load with the counts in data/SOURCES.md', () => {
  assert.equal(
    loadBeaverTails(join(D, 'beavertails/repnoise_beavertails_330k_train_unsafe_dedup.jsonl')).records.length,
    7374,
  );
  const attack = loadBeaverTails(join(D, 'beavertails/repnoise_beavertails_disjoint_attack_dedup.jsonl')).records;
  assert.equal(attack.length, 4986);
  assert.equal(attack.filter((r) => r.isSafe).length, 341);
  const test = loadBeaverTails(join(D, 'beavertails/repnoise_beavertails_330k_test_unsafe.jsonl'));
  assert.equal(test.records.length, 1645);
  assert.equal(test.report.duplicates, 739, 'the test file repeats prompt+response pairs');
  assert.equal(loadInstructions(join(D, 'safety/stl_safety_only_data_Instructions.json')).records.length, 2483);
  const refusals = loadDecodingTrustRefusals(join(D, 'safety/decoding_trust_with_refusals_train.json')).records;
  assert.equal(refusals.length, 107);
  assert.ok(refusals.every((r) => !r.response.startsWith('Prompt:')));
  assert.equal(loadSst2(join(D, 'tasks/sst2/dev.tsv')).records.length, 872);
  assert.equal(loadAgNews(join(D, 'tasks/agnews/test.csv')).records.length, 7600);
  const gsm = loadGsm8k(join(D, 'tasks/gsm8k/test.jsonl')).records;
  assert.equal(gsm.length, 1319);
  assert.equal(gsm[0].answer, '18');
});

test('malformed records name the file, the line and the field', () => {
  const dir = tmp();
  const jsonl = join(dir, 'bt.jsonl');
  writeFileSync(
    jsonl,
    '{"prompt": "p", "response": "r", "is_safe": false}\n\n{"prompt": "p2", "response": 3, "is_safe": false}\n',
  );
  assert.throws(() => loadBeaverTails(jsonl), new RegExp(`${jsonl}:3: field "response" should be a string`));
  writeFileSync(jsonl, '{"prompt": "p", "response": "r"}\n');
  assert.throws(() => loadBeaverTails(jsonl), /bt\.jsonl:1: field "is_safe" is missing/);
  writeFileSync(jsonl, '{"prompt": "p", \n');
  assert.throws(() => loadBeaverTails(jsonl), /bt\.jsonl:1: not valid JSON/);
  const json = join(dir, 'ins.json');
  writeFileSync(json, '[\n  {"instruction": "a", "output": "b"},\n  {\n    "instruction": "c"\n  }\n]\n');
  assert.throws(() => loadInstructions(json), /ins\.json:3: field "output" is missing/);
  const tsv = join(dir, 'sst.tsv');
  writeFileSync(tsv, 'sentence\tlabel\ngood\t1\nbad\t7\n');
  assert.throws(() => loadSst2(tsv), /sst\.tsv:3: field "label" should be 0 or 1, got "7"/);
  const csv = join(dir, 'ag.csv');
  writeFileSync(csv, '"1","t","d"\n"9","t","d"\n');
  assert.throws(() => loadAgNews(csv), /ag\.csv:2: field "class" should be 1-4/);
  const gsm = join(dir, 'g.jsonl');
  writeFileSync(gsm, '{"question": "q", "answer": "no marker"}\n');
  assert.throws(() => loadGsm8k(gsm), /g\.jsonl:1: field "answer" does not end with "#### <number>"/);
});

test('duplicates and empty texts are reported; users map their own fields (JSONL and CSV)', () => {
  const dir = tmp();
  const jsonl = join(dir, 'mine.jsonl');
  writeFileSync(
    jsonl,
    [
      '{"q": "hi", "a": "hello"}',
      '{"q": "hi", "a": "hello"}',
      '{"q": "  ", "a": "x"}',
      '{"q": "bye", "a": "later"}',
    ].join('\n'),
  );
  const loaded = loadUserRecords(jsonl, { prompt: 'q', response: 'a' });
  assert.deepEqual(loaded.report, { file: jsonl, records: 3, emptyDropped: 1, duplicates: 1 });
  const csv = join(dir, 'mine.csv');
  writeFileSync(csv, 'question,context,answer\n"What, exactly?",,"It ""depends""\non it"\nSecond,ctx,fine\n');
  const rows = loadUserRecords(csv, { prompt: 'question', input: 'context', response: 'answer' }).records;
  assert.deepEqual(
    rows.map((r) => [r.prompt, r.input, r.response]),
    [
      ['What, exactly?', '', 'It "depends"\non it'],
      ['Second', 'ctx', 'fine'],
    ],
  );
  assert.equal(rows[1].origin, `${csv}:4`);
  assert.throws(
    () => loadUserRecords(csv, { prompt: 'question', response: 'reply' }),
    new RegExp(
      'mine\\.csv:2: field "reply" \\(the response\\) is missing; ' +
        'the record has "question", "context", "answer": name its field with --response-field',
    ),
  );
});

test("users' files: .json holding JSON Lines is read; an empty file or one with no usable record is an error", () => {
  const dir = tmp();
  const lines = join(dir, 'from-datasets.json');
  writeFileSync(lines, '{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": "d"}\n');
  const mapping = { prompt: 'instruction', response: 'output' };
  assert.deepEqual(
    loadUserRecords(lines, mapping).records.map((r) => [r.prompt, r.origin]),
    [
      ['a', `${lines}:1`],
      ['c', `${lines}:2`],
    ],
  );
  const array = join(dir, 'array.json');
  writeFileSync(array, '  [{"instruction": "a", "output": "b"}]');
  assert.equal(loadUserRecords(array, mapping).records.length, 1);
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '\n');
  assert.throws(() => loadUserRecords(empty, mapping), /empty\.jsonl:1: no records \(the file is empty\)/);
  const blank = join(dir, 'blank.csv');
  writeFileSync(blank, 'instruction,output\n" ",x\n');
  assert.throws(() => loadUserRecords(blank, mapping), /blank\.csv:1: no records: all 1 have an empty text/);
});

test("users' conversations: a messages list gives the prompt (last user turn), the reply and the whole conversation", () => {
  const dir = tmp();
  const file = join(dir, 'chats.jsonl');
  const turns = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello.' },
    { role: 'user', content: 'Colour of grass?' },
    { role: 'assistant', content: 'Green.' },
  ];
  writeFileSync(
    file,
    JSON.stringify({ messages: turns }) + '\n' + JSON.stringify({ instruction: 'a', output: 'b' }) + '\n',
  );
  const mapping = { prompt: 'instruction', response: 'output', messages: 'messages' };
  const [chat, plain] = loadUserRecords(file, mapping).records;
  assert.deepEqual([chat.prompt, chat.response, chat.messages], ['Colour of grass?', 'Green.', turns]);
  assert.deepEqual(asInstruction(chat).messages, turns);
  assert.deepEqual([plain.prompt, plain.response, plain.messages], ['a', 'b', undefined]);
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, JSON.stringify({ messages: turns.slice(0, 4) }) + '\n');
  assert.throws(
    () => loadUserRecords(bad, mapping),
    /bad\.jsonl:1: field "messages" should end with the assistant's reply, not a "user" turn/,
  );
  writeFileSync(bad, JSON.stringify({ messages: [{ role: 'user' }, { role: 'assistant', content: 'x' }] }) + '\n');
  assert.throws(() => loadUserRecords(bad, mapping), /bad\.jsonl:1: field "messages\[0\]" should be \{role: string/);
});
