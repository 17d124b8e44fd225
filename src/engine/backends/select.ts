/**
 * Which backend the engine uses. PHARMACIST_BACKEND=native|ts picks one; unset, the native addon is used
 * when it is built and the ts reference backend otherwise, with one warning line on stderr.
 * PHARMACIST_THREADS sets the kernel thread count (default: the machine's available cores).
 */
import { availableParallelism } from 'node:os';
import type { Backend } from './backend.js';
import { createTsBackend } from './ts/index.js';
import { loadNativeBackend } from './native/index.js';

/** A registered backend: what it is and how to load it (null: it cannot load here). */
export interface BackendEntry {
  description: string;
  load(): Backend | null;
}

/** Every backend by name, the preferred one first (the default when it loads). */
export const BACKENDS = {
  native: {
    description: 'the N-API addon in native/ (packed SGEMM kernels, OpenMP kernels), once built (npm run build:native)',
    load: loadNativeBackend,
  },
  ts: {
    description: 'the TypeScript reference: defines each kernel, runs anywhere, float64 too',
    load: createTsBackend,
  },
} satisfies Record<Backend['name'], BackendEntry>;

export type BackendName = keyof typeof BACKENDS;
export const BACKEND_NAMES = Object.keys(BACKENDS) as readonly BackendName[];

const cache = new Map<BackendName, Backend>();
let current: Backend | null = null;
let warned = false;

function defaultThreads(): number {
  const env = process.env.PHARMACIST_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`PHARMACIST_THREADS must be a positive integer, got "${env}"`);
    return n;
  }
  return availableParallelism();
}

/** The backend by name, or null when it cannot load here (the native addon is not built). */
export function tryBackend(name: BackendName): Backend | null {
  const cached = cache.get(name);
  if (cached) return cached;
  const backend = BACKENDS[name].load();
  if (!backend) return null;
  backend.setThreads(defaultThreads());
  cache.set(name, backend);
  return backend;
}

export function availableBackends(): BackendName[] {
  return BACKEND_NAMES.filter((n) => tryBackend(n) !== null);
}

export function getBackend(): Backend {
  if (current) return current;
  const requested = process.env.PHARMACIST_BACKEND;
  if (requested !== undefined && requested !== '') {
    if (!BACKEND_NAMES.includes(requested as BackendName)) {
      throw new Error(`PHARMACIST_BACKEND="${requested}" is not a backend; choose one of: ${BACKEND_NAMES.join(', ')}`);
    }
    const chosen = tryBackend(requested as BackendName);
    if (!chosen)
      throw new Error(`PHARMACIST_BACKEND=${requested} but the native addon is not built (run: npm run build:native)`);
    current = chosen;
    return current;
  }
  const native = tryBackend('native');
  if (native) {
    current = native;
  } else {
    if (!warned) {
      process.stderr.write(
        'pharmacist: native addon not built, using the slow TypeScript backend (npm run build:native for details)\n',
      );
      warned = true;
    }
    current = tryBackend('ts')!;
  }
  return current;
}

/** Switch backends (tests run the same suite on each). */
export function setBackend(name: BackendName): Backend {
  const b = tryBackend(name);
  if (!b) throw new Error(`backend "${name}" is not available here`);
  current = b;
  return b;
}

/** Use a backend object directly (a profiling wrapper, for instance). */
export function installBackend(backend: Backend): void {
  current = backend;
}

/** Run `fn` on the given backend, restoring the previous choice afterwards. */
export function withBackend<T>(name: BackendName, fn: () => T): T {
  const previous = current;
  setBackend(name);
  try {
    return fn();
  } finally {
    current = previous;
  }
}

export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`thread count must be a positive integer, got ${n}`);
  getBackend().setThreads(n);
}
