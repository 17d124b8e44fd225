/** What the benchmarks share: medians, the PyTorch reference's availability, a kernel profile of some steps. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Backend } from '../src/engine/backends/backend.js';
import { profiledBackend } from '../src/engine/backends/profile.js';
import { installBackend } from '../src/engine/backends/select.js';
import { nativeInfo, type NativeInfo } from '../src/engine/backends/native/index.js';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * The native addon's description when the steps run on it, else null: under PHARMACIST_BACKEND=ts the addon may be
 * built all the same, and its GEMM is then not what was timed.
 */
export function nativeInUse(backend: Backend): NativeInfo | null {
  return backend.name === 'native' ? nativeInfo() : null;
}

/** Debian's Python, which the references run in. */
export const PYTHON = '/usr/bin/python3';

/** Whether the PyTorch reference can run (PYTHON imports torch), unless the run opted out. */
export function torchAvailable(optedOut: boolean | undefined): boolean {
  return !optedOut && existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

/**
 * `steps` more steps with every kernel call timed (the timers slow them, so shares are indicative), printed by
 * kernel and outside kernels with `print`; returns the profiled ms per step and the kernels' and GEMM's shares.
 */
export function profileSteps(
  backend: Backend,
  step: () => number,
  print: (line: string) => void,
  steps = 3,
): { msPerStep: number; kernelFraction: number; gemmFraction: number } {
  const { backend: profiled, profile } = profiledBackend(backend);
  installBackend(profiled);
  let total = 0;
  for (let i = 0; i < steps; i++) total += step();
  installBackend(backend);
  /** One profile line: the name, ms per step and its share of the profiled time. */
  const line = (name: string, ms: number) =>
    `  ${name.padEnd(26)} ${(ms / steps).toFixed(2).padStart(8)} ms/step  ` +
    `${((100 * ms) / total).toFixed(1).padStart(5)}%`;
  print(`profile over ${steps} steps (${(total / steps).toFixed(1)} ms/step):`);
  for (const [name, ms] of [...profile.ms].sort((a, b) => b[1] - a[1]))
    print(`${line(name, ms)}  ${profile.calls.get(name)! / steps} calls/step`);
  print(line('outside kernels (JS)', total - profile.totalMs()));
  return {
    msPerStep: total / steps,
    kernelFraction: profile.totalMs() / total,
    gemmFraction: (profile.ms.get('gemm') ?? 0) / total,
  };
}
