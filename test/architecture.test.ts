/** One-way imports: each layer may import only the layers below it (see README, "Shape of the code"). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Which top-level folders under src/ each folder may import from (itself always allowed): layers.json. */
const ALLOWED = JSON.parse(readFileSync(resolve(root, '..', 'layers.json'), 'utf8')) as Record<string, string[]>;
delete ALLOWED['//'];

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

test('imports follow the layering', () => {
  const violations: string[] = [];
  for (const file of sources(root)) {
    const layer = relative(root, file).split('/')[0];
    const allowed = ALLOWED[layer];
    if (!allowed) {
      violations.push(`${relative(root, file)}: folder "${layer}" has no entry in the layering table`);
      continue;
    }
    for (const match of readFileSync(file, 'utf8').matchAll(/from\s+'(\.[^']+)'/g)) {
      const target = relative(root, resolve(dirname(file), match[1])).split('/')[0];
      if (target !== layer && !allowed.includes(target))
        violations.push(`${relative(root, file)} imports ${match[1]} (${layer} -> ${target})`);
    }
  }
  assert.deepEqual(violations, []);
});
