/** docs/knobs.md is what the plug-ins declare: regenerate it with `pharmacist knobs > docs/knobs.md`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { knobTables } from '../src/pipeline/knob-tables.js';

test('docs/knobs.md is current with the declarations (regenerate: pharmacist knobs > docs/knobs.md)', () => {
  const committed = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'knobs.md'), 'utf8');
  assert.equal(committed, knobTables());
});
