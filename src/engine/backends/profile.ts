/**
 * A backend wrapper that times every kernel call (wall clock, per kernel name). Used by the benchmarks
 * to report where a training step spends its time; the overhead is one performance.now() pair per call.
 */
import { performance } from 'node:perf_hooks';
import type { Backend } from './backend.js';

export interface KernelProfile {
  calls: Map<string, number>;
  ms: Map<string, number>;
  totalMs(): number;
}

export function profiledBackend(inner: Backend): { backend: Backend; profile: KernelProfile } {
  const calls = new Map<string, number>();
  const ms = new Map<string, number>();
  const profile: KernelProfile = {
    calls,
    ms,
    totalMs: () => [...ms.values()].reduce((a, b) => a + b, 0),
  };
  const wrapped: Record<string, unknown> = {};
  for (const key of Object.keys(inner) as (keyof Backend)[]) {
    const value = inner[key];
    if (typeof value !== 'function' || key === 'threads' || key === 'setThreads') {
      wrapped[key] = value;
      continue;
    }
    const fn = value as (...args: unknown[]) => unknown;
    wrapped[key] = (...args: unknown[]) => {
      const t0 = performance.now();
      const result = fn(...args);
      const dt = performance.now() - t0;
      calls.set(key, (calls.get(key) ?? 0) + 1);
      ms.set(key, (ms.get(key) ?? 0) + dt);
      return result;
    };
  }
  return { backend: wrapped as unknown as Backend, profile };
}
