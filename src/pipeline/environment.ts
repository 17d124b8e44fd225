/** What a run record says about where it ran: versions, backend, threads, BLAS core. */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { getBackend } from '../engine/index.js';
import { nativeInfo } from '../engine/backends/native/index.js';

export interface EnvironmentRecord {
  pharmacist: string;
  node: string;
  platform: string;
  cpu: string;
  backend: string;
  threads: number;
  blasCore: string | null;
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function describeEnvironment(): EnvironmentRecord {
  const backend = getBackend();
  return {
    pharmacist: packageVersion(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    backend: backend.name,
    threads: backend.threads(),
    blasCore: nativeInfo()?.blasCore ?? null,
  };
}
