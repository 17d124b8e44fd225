/**
 * What a run's stages are computed with, so that every worker of a run computes them alike: the code version
 * (the package version and a hash of the built code that runs, dist/src) and the base model's weights hash. A
 * worker whose either differs from the run's refuses its jobs, with a message naming both.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageVersion } from '../pipeline/environment.js';

function jsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) jsFiles(path, out);
    else if (name.endsWith('.js') && !name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

let cached: string | undefined;

/** "<package version>+<12 hex of the built code>", e.g. "0.1.0+3f2a9c01b7de". */
export function codeVersion(): string {
  if (cached === undefined) {
    // This file is dist/src/queue/version.js: the built code is the folder above.
    const root = fileURLToPath(new URL('..', import.meta.url));
    const hash = createHash('sha256');
    for (const file of jsFiles(root)) hash.update(relative(root, file)).update('\0').update(readFileSync(file));
    cached = `${packageVersion()}+${hash.digest('hex').slice(0, 12)}`;
  }
  return cached;
}

/** A run's identity as its jobs carry it. */
export interface RunIdentity {
  codeVersion: string;
  modelHash: string;
  model: string;
}

/** Why this worker may not compute the run's stages (null: it may). */
export function incompatibility(run: RunIdentity, worker: RunIdentity, host: string): string | null {
  if (run.codeVersion !== worker.codeVersion)
    return (
      `the run was planned with pharmacist ${run.codeVersion}, this worker (${host}) runs ${worker.codeVersion}: ` +
      'install the same build on every machine'
    );
  if (run.modelHash !== worker.modelHash)
    return (
      `the model ${run.model} has weights sha256 ${run.modelHash} for the run, ` +
      `${worker.modelHash} on this worker (${host}): give every machine the same model files`
    );
  return null;
}
