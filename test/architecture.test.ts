/** One-way imports: each layer may import only the layers below it (see README, "Shape of the code"). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/**
 * layers.json: which top-level folders under src/ each folder may import (itself always allowed), and under a
 * key "folder/" the same table for that folder's subfolders (its own top-level files always allowed).
 */
const LAYERS = JSON.parse(readFileSync(resolve(root, '..', 'layers.json'), 'utf8'));
const ALLOWED: Record<string, string[]> = LAYERS;
const INNER = (folder: string): Record<string, string[]> | undefined => LAYERS[`${folder}/`];

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** 'engine/ops/matmul.ts' -> ['engine', 'ops']; a folder's own files ('engine/tensor.ts') have no subfolder. */
function placeOf(path: string): [string, string | null] {
  const parts = relative(root, path).split('/');
  return [parts[0], parts.length > 2 ? parts[1] : null];
}

/** The wrong-way imports of one file (tests are exempt from the subfolder tables only). */
function violationsOf(file: string, text: string): string[] {
  const name = relative(root, file);
  const [layer, sub] = placeOf(file);
  const allowed = ALLOWED[layer];
  if (!allowed) return [`${name}: folder "${layer}" has no entry in the layering table`];
  const inner = INNER(layer);
  if (inner && sub && !inner[sub]) return [`${name}: folder "${layer}/${sub}" has no entry in the "${layer}/" table`];
  const innerAllowed = inner && sub && !name.endsWith('.test.ts') ? inner[sub] : null;
  const out: string[] = [];
  for (const match of text.matchAll(/from\s+'(\.[^']+)'/g)) {
    const [target, targetSub] = placeOf(resolve(dirname(file), match[1]));
    if (target !== layer && !allowed.includes(target)) out.push(`${name} imports ${match[1]} (${layer} -> ${target})`);
    else if (target === layer && innerAllowed && targetSub && targetSub !== sub && !innerAllowed.includes(targetSub))
      out.push(`${name} imports ${match[1]} (${layer}/${sub} -> ${layer}/${targetSub})`);
  }
  return out;
}

test('imports follow the layering', () => {
  const violations = sources(root).flatMap((file) => violationsOf(file, readFileSync(file, 'utf8')));
  assert.deepEqual(violations, []);
});

test('inside the engine, ops may not import the gradient tools (grad builds on ops)', () => {
  const ops = join(root, 'engine/ops/matmul.ts');
  assert.deepEqual(violationsOf(ops, "import { x } from '../grad/per-example.js';"), [
    'engine/ops/matmul.ts imports ../grad/per-example.js (engine/ops -> engine/grad)',
  ]);
  assert.deepEqual(violationsOf(ops, "import { x } from '../autograd.js';\nimport { y } from './shape.js';"), []);
  assert.deepEqual(violationsOf(join(root, 'engine/grad/per-example.ts'), "import { x } from '../ops/matmul.js';"), []);
  assert.deepEqual(violationsOf(join(root, 'engine/ops/ops.test.ts'), "import { x } from '../grad/gradcheck.js';"), []);
});
