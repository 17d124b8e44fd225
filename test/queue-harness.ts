/**
 * What the queue tests, the soak script and the queue bench share: a private redis-server (Debian's) on a free
 * loopback port with its own folder, `pharmacist worker` and `pharmacist run --queue` processes with their
 * output kept, and the comparison of two results.json files up to what may differ between runs (timings, the
 * folders' parent).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
export const REDIS_SERVER = '/usr/bin/redis-server';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  url: string;
  port: number;
  /** Stop it (SHUTDOWN semantics: SIGTERM, it writes its append-only file and exits). */
  stop(): Promise<void>;
  /** Start it again on the same port and folder. */
  start(): Promise<void>;
}

/** A redis-server on a free port, persisting to `dir` in an fsync'd append-only file (unless `extra` says else). */
export async function startRedis(dir: string, extra: string[] = ['--appendonly', 'yes', '--appendfsync', 'always']) {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...extra];
      proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.stdout!.on('data', (chunk: Buffer) => {
        out += chunk;
        if (out.includes('Ready to accept connections')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready: ${out}`)));
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!proc || proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  await start();
  const server: RedisServer = { url: `redis://127.0.0.1:${port}/0`, port, stop, start };
  return server;
}

/** A pharmacist process whose output lines are kept (and its exit awaited). */
export interface Proc {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number>;
}

export function pharmacist(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, PHARMACIST_THREADS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop()!;
      lines.push(...parts);
    });
  }
  const exited = new Promise<number>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))),
  );
  return { child, lines, exited };
}

export function startWorker(url: string, env: Record<string, string> = {}, lockSeconds = 2): Proc {
  return pharmacist(['worker', '--queue', url, '--threads', '1', '--lock-seconds', String(lockSeconds)], env);
}

/** results.json's rows without what may differ between two runs of the same grid: timings and the store's path. */
export function comparableResults(runDir: string): unknown[] {
  const record = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as {
    results: Record<string, unknown>[];
  };
  return record.results.map((row) => {
    const copy: Record<string, unknown> = { ...row };
    for (const key of Object.keys(copy)) if (key.endsWith('_seconds')) delete copy[key];
    copy.stages = Object.fromEntries(
      Object.entries(row.stages as Record<string, string>).map(([stage, dir]) => [stage, basename(dir)]),
    );
    return copy;
  });
}

/** Every file name under `dir` (recursively) that a finished store must not hold: leases, temp files. */
export function leftovers(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (/\.lease$|\.tmp$|\.lapsed$|write-probe/.test(entry.name)) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

/** The stage folders of a store by kind, and the ones without done.json (unfinished or corrupt). */
export function storeCensus(stagesDir: string): { counts: Record<string, number>; unfinished: string[] } {
  const counts: Record<string, number> = {};
  const unfinished: string[] = [];
  for (const entry of readdirSync(stagesDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const kind = entry.name.split('-')[0];
    counts[kind] = (counts[kind] ?? 0) + 1;
    try {
      JSON.parse(readFileSync(join(stagesDir, entry.name, 'done.json'), 'utf8'));
    } catch {
      unfinished.push(entry.name);
    }
  }
  return { counts, unfinished };
}

export async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
