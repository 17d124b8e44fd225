/**
 * The native gated activation kernels (gatedForward / gatedBackward: f(gate) * up, the Llama-family MLP) against
 * the ts reference for every activation on odd lengths, below and above the threading threshold, and
 * bit-identical on 1, 2 and 4 threads.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../rng.js';
import { UNARY_CODES, type Backend, type UnaryKind } from '../backend.js';
import { availableBackends, tryBackend } from '../select.js';

const skip = !availableBackends().includes('native') && 'native addon not built';
const KINDS = Object.keys(UNARY_CODES) as UnaryKind[];

/** Inputs in each activation's domain (log and sqrt want positive gates). */
function inputs(kind: UnaryKind, n: number, rng: Rng) {
  const positive = kind === 'log' || kind === 'sqrt';
  const fill = (lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
  return { gate: positive ? fill(0.1, 4) : fill(-4, 4), up: fill(-2, 2), dOut: fill(-1, 1) };
}

function run(be: Backend, kind: UnaryKind, x: ReturnType<typeof inputs>): Float32Array[] {
  const n = x.gate.length;
  const out = new Float32Array(n).fill(NaN),
    dGate = new Float32Array(n).fill(NaN),
    dUp = new Float32Array(n).fill(NaN);
  be.gatedForward(kind, x.gate, x.up, out);
  be.gatedBackward(kind, x.gate, x.up, x.dOut, dGate, dUp);
  return [out, dGate, dUp];
}

describe('native gated kernels against the ts reference', { skip }, () => {
  const rng = new Rng(3);
  for (const kind of KINDS)
    for (const n of [1, 7, 33, 1001, 20_011]) {
      test(`${kind}, ${n} elements`, () => {
        const x = inputs(kind, n, rng);
        const got = run(tryBackend('native')!, kind, x);
        const want = run(tryBackend('ts')!, kind, x);
        ['out', 'dGate', 'dUp'].forEach((name, a) => {
          for (let i = 0; i < n; i++) {
            const tol = 2e-6 * Math.max(1, Math.abs(want[a][i]));
            if (!(Math.abs(got[a][i] - want[a][i]) <= tol))
              assert.fail(`${name}[${i}]: native ${got[a][i]}, reference ${want[a][i]}`);
          }
        });
      });
    }
});

describe('native gated kernels: bit-identical on 1, 2 and 4 threads', { skip }, () => {
  const native = skip ? null : tryBackend('native')!;
  const before = native?.threads() ?? 1;
  after(() => native?.setThreads(before));
  const rng = new Rng(4);
  for (const kind of ['silu', 'gelu', 'gelu_tanh'] as UnaryKind[]) {
    test(kind, () => {
      const x = inputs(kind, 100_003, rng);
      const results = [1, 2, 4].map((t) => {
        native!.setThreads(t);
        return run(native!, kind, x);
      });
      for (const r of results.slice(1))
        r.forEach((a, i) => assert.ok(Buffer.from(a.buffer).equals(Buffer.from(results[0][i].buffer))));
    });
  }
});
