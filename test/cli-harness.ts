/** Running the built CLI in a test: from a given working directory, one thread, output captured. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const cliPath = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** `pharmacist ...args` run in `cwd`: exit status, stdout and stderr. */
export function runCli(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [cliPath, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, PHARMACIST_THREADS: '1' },
  });
}

export const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
/** Rows as JSON Lines. */
export const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
