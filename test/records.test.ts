/** The typed reader of stage records: a record's kind and the fields its reader uses are checked, by file and name. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecord } from '../src/io/json-record.js';
import { DONE_FIELDS, type AlignRecord, type EvalDone } from '../src/pipeline/records.js';

test('readRecord: the record typed; a wrong kind, a missing field, bad JSON or no file named with the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-records-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const align = file('align.json', JSON.stringify({ kind: 'align', flow: 'single', curves: {} }));
  assert.equal(readRecord<AlignRecord>(align, { kind: 'align', fields: ['flow', 'curves'] }).flow, 'single');
  const unnamed = file('unnamed.json', JSON.stringify({ flow: 'double', curves: {} }));
  assert.equal(readRecord<AlignRecord>(unnamed, { kind: 'align', fields: ['flow'] }).flow, 'double', 'no kind: taken');
  assert.throws(
    () => readRecord<AlignRecord>(file('attack.json', '{"kind":"attack"}'), { kind: 'align', fields: [] }),
    new RegExp(`^Error: ${join(dir, 'attack.json')}: a "attack" record, expected a "align" record$`),
  );
  const partial = file('done.json', JSON.stringify({ harmfulScore: 1, margin: null }));
  assert.throws(
    () => readRecord<EvalDone>(partial, DONE_FIELDS.eval),
    new RegExp(`^Error: ${partial}: field "harmfulFlagged" is missing$`),
    'null is a value, undefined is missing',
  );
  assert.throws(() => readRecord(file('bad.json', '{"a":'), { fields: [] }), /bad\.json: not valid JSON/);
  assert.throws(() => readRecord(file('list.json', '[]'), { fields: [] }), /list\.json: expected a JSON object/);
  assert.throws(() => readRecord(join(dir, 'none.json'), { fields: [] }), /none\.json: not found/);
});
