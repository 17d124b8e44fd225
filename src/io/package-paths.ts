/**
 * Where the installed package keeps what it ships (data/, assets/, configs/), so that the defaults work from
 * any working directory. Outputs are not here: they default to the working directory.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The package's root folder: the nearest folder above this module holding package.json. */
export function packageRoot(): string {
  if (root === undefined) {
    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
    root = dir;
  }
  return root;
}

/** A path inside the package (e.g. packagePath('assets', 'judge')). */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}

/** The embedded base model (assets/base): the default `model` of every command and grid. */
export function embeddedModelDir(): string {
  return packagePath('assets', 'base');
}
