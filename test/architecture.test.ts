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
/** Folders whose non-test files may import only types from the listed folders. */
const TYPES_ONLY: Record<string, string[]> = LAYERS['types only'];

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
  const typesOnly = name.endsWith('.test.ts') ? [] : (TYPES_ONLY[layer] ?? []);
  // An import or export statement up to its source; group 1 is `type` when the whole statement is type-only.
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'/g)) {
    const [, typeOnly, path] = match;
    const [target, targetSub] = placeOf(resolve(dirname(file), path));
    if (target !== layer && !allowed.includes(target)) out.push(`${name} imports ${path} (${layer} -> ${target})`);
    else if (typesOnly.includes(target) && !typeOnly)
      out.push(`${name} imports values from ${path} (${layer} -> ${target} is types only)`);
    else if (target === layer && innerAllowed && targetSub && targetSub !== sub && !innerAllowed.includes(targetSub))
      out.push(`${name} imports ${path} (${layer}/${sub} -> ${layer}/${targetSub})`);
  }
  return out;
}

test('imports follow the layering', () => {
  const violations = sources(root).flatMap((file) => violationsOf(file, readFileSync(file, 'utf8')));
  assert.deepEqual(violations, []);
});

test('the report imports only types from the pipeline (its tests may import values)', () => {
  const report = join(root, 'report/report.ts');
  assert.deepEqual(violationsOf(report, "import { summarize } from '../pipeline/results.js';"), [
    'report/report.ts imports values from ../pipeline/results.js (report -> pipeline is types only)',
  ]);
  assert.deepEqual(violationsOf(report, "import type { ArmSummary } from '../pipeline/results.js';"), []);
  assert.deepEqual(violationsOf(report, "export type { ResultsStore } from '../pipeline/records.js';"), []);
  assert.deepEqual(
    violationsOf(join(root, 'report/report.test.ts'), "import { summarize } from '../pipeline/results.js';"),
    [],
  );
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
