/**
 * The native attention kernels (attentionForward / attentionBackward: every batch x head slice in one call)
 * against the ts reference on random odd shapes: grouped-query heads, a KV cache (Tq < Tk), bidirectional,
 * sliding windows, left padding (including a fully padded row), soft-capping; and bit-identical on 1, 2 and 4
 * threads, for every GEMM implementation of ours (the kernel calls the single-threaded GEMM per slice).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../rng.js';
import type { AttentionSpec, Backend } from '../backend.js';
import { availableBackends, tryBackend } from '../select.js';
import { nativeInfo, setNativeGemmKernel } from './index.js';

const skip = !availableBackends().includes('native') && 'native addon not built';
const ours = skip
  ? []
  : nativeInfo()!
      .gemmKernels.split(',')
      .filter((k) => k !== 'openblas');

interface Case {
  B: number;
  H: number;
  Hkv: number;
  Tq: number;
  Tk: number;
  D: number;
  causal: boolean;
  window: number;
  softcap: number;
  padded: boolean;
}

function spec(c: Case, rng: Rng): AttentionSpec {
  let keyMask: Float32Array | null = null;
  if (c.padded) {
    // Left padding of a random length per row; row 0 fully padded when Tk allows (its queries see no key).
    keyMask = new Float32Array(c.B * c.Tk);
    for (let b = 0; b < c.B; b++) {
      const pad = b === 0 ? c.Tk : rng.int(c.Tk);
      for (let j = pad; j < c.Tk; j++) keyMask[b * c.Tk + j] = 1;
    }
  }
  return {
    B: c.B,
    H: c.H,
    Hkv: c.Hkv,
    Tq: c.Tq,
    Tk: c.Tk,
    D: c.D,
    scale: 1 / Math.sqrt(c.D),
    softcap: c.softcap,
    causalOffset: c.causal ? c.Tk - c.Tq : -1,
    keyMask,
    window: c.window,
  };
}

function inputs(s: AttentionSpec, rng: Rng) {
  const fill = (n: number) => Float32Array.from({ length: n }, () => 4 * rng.uniform() - 2);
  const qSize = s.B * s.Tq * s.H * s.D,
    kSize = s.B * s.Tk * s.Hkv * s.D;
  return { q: fill(qSize), k: fill(kSize), v: fill(kSize), dOut: fill(qSize) };
}

/** Forward outputs and the gradients, on one backend; the outputs start as NaN (every element must be written). */
function run(be: Backend, s: AttentionSpec, x: ReturnType<typeof inputs>): Float32Array[] {
  const pSize = s.B * s.H * s.Tq * s.Tk;
  const nan = (n: number) => new Float32Array(n).fill(NaN);
  const probs = nan(pSize),
    capped = s.softcap > 0 ? nan(pSize) : null,
    out = nan(x.q.length);
  be.attentionForward(x.q, x.k, x.v, probs, capped, out, s);
  const dq = nan(x.q.length),
    dk = nan(x.k.length),
    dv = nan(x.v.length);
  be.attentionBackward(x.q, x.k, x.v, probs, capped, x.dOut, dq, dk, dv, s);
  return [probs, ...(capped ? [capped] : []), out, dq, dk, dv];
}

const ODD = [1, 2, 3, 5, 7, 13, 17, 31, 33];

function cases(): Case[] {
  const rng = new Rng(11);
  const pick = <T>(xs: readonly T[]) => xs[rng.int(xs.length)];
  const out: Case[] = [];
  for (let n = 0; n < 24; n++) {
    const Hkv = pick([1, 2, 3]),
      H = Hkv * pick([1, 2, 4]);
    const Tk = pick(ODD),
      causal = n % 4 !== 3;
    out.push({
      B: pick([1, 2, 3]),
      H,
      Hkv,
      Tq: causal ? 1 + rng.int(Tk) : pick(ODD),
      Tk,
      D: pick([1, 3, 8, 17, 32]),
      causal,
      window: causal && n % 3 === 0 ? 1 + rng.int(4) : 0,
      softcap: n % 5 === 0 ? 1.5 : 0,
      padded: n % 2 === 1,
    });
  }
  // The embedded model's layer (8 heads over 4 KV heads, D 32) at a short length.
  out.push({ B: 2, H: 8, Hkv: 4, Tq: 37, Tk: 37, D: 32, causal: true, window: 0, softcap: 0, padded: true });
  return out;
}

const label = (c: Case) =>
  `B${c.B} H${c.H}/${c.Hkv} Tq${c.Tq} Tk${c.Tk} D${c.D}${c.causal ? ' causal' : ''}` +
  `${c.window ? ` window ${c.window}` : ''}${c.softcap ? ' softcap' : ''}${c.padded ? ' padded' : ''}`;

describe('native attention kernels against the ts reference', { skip }, () => {
  const rng = new Rng(5);
  const names = ['probs', 'capped', 'out', 'dq', 'dk', 'dv'];
  for (const c of cases()) {
    test(label(c), () => {
      const s = spec(c, rng);
      const x = inputs(s, rng);
      const got = run(tryBackend('native')!, s, x);
      const want = run(tryBackend('ts')!, s, x);
      const which = c.softcap > 0 ? names : names.filter((n) => n !== 'capped');
      got.forEach((g, a) => {
        const w = want[a];
        const scale = w.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
        for (let i = 0; i < g.length; i++)
          if (!(Math.abs(g[i] - w[i]) <= 1e-4 * scale))
            assert.fail(`${which[a]}[${i}]: native ${g[i]}, reference ${w[i]} (scale ${scale})`);
      });
    });
  }
});

describe('native attention kernels: bit-identical on 1, 2 and 4 threads', { skip }, () => {
  const native = skip ? null : tryBackend('native')!;
  const before = native?.threads() ?? 1;
  after(() => {
    native?.setThreads(before);
    setNativeGemmKernel('auto');
  });
  const rng = new Rng(9);
  const shapes: Case[] = [
    { B: 3, H: 8, Hkv: 4, Tq: 128, Tk: 128, D: 32, causal: true, window: 0, softcap: 0, padded: true },
    { B: 5, H: 6, Hkv: 2, Tq: 7, Tk: 61, D: 17, causal: true, window: 9, softcap: 2, padded: false },
    { B: 1, H: 3, Hkv: 3, Tq: 33, Tk: 33, D: 64, causal: false, window: 0, softcap: 0, padded: true },
  ];
  for (const kernel of ours)
    for (const c of shapes) {
      test(`${kernel}: ${label(c)}`, () => {
        setNativeGemmKernel(kernel);
        const s = spec(c, rng);
        const x = inputs(s, rng);
        const results = [1, 2, 4].map((t) => {
          native!.setThreads(t);
          return run(native!, s, x);
        });
        for (const t of [1, 2])
          results[t].forEach((r, a) =>
            assert.ok(
              Buffer.from(r.buffer).equals(Buffer.from(results[0][a].buffer)),
              `array ${a}: 1 vs ${[2, 4][t - 1]} threads`,
            ),
          );
      });
    }
});

// A few query rows (decoding: one per step) take a direct score loop instead of the GEMM, which would pack K^T for
// every slice; it must repeat the GEMM's arithmetic exactly, so that generation gives the same tokens either way.
// Bidirectional, so that a query row's output depends on that row and the keys alone: row i computed among 9
// rows (the GEMM path) and alone (the direct path) must be the same bits. For each GEMM of ours that uses fused
// multiply-adds like the row kernels compiled for this CPU (the portable GEMM is paired with them only by a
// PHARMACIST_GEMM override on a CPU with FMA, where the two may differ in the last bit).
describe('native attention: decoding rows score exactly as the GEMM path', { skip }, () => {
  after(() => setNativeGemmKernel('auto'));
  const fused = ours.filter((k) => k !== 'portable');
  const rng = new Rng(21);
  for (const kernel of fused.length > 0 ? fused : ours)
    for (const [Tk, D, padded] of [
      [150, 32, true],
      [13, 17, false],
      [40, 256, true],
    ] as const)
      test(`${kernel}: Tk ${Tk}, D ${D}${padded ? ', padded' : ''}`, () => {
        setNativeGemmKernel(kernel);
        const native = tryBackend('native')!;
        const c: Case = { B: 3, H: 4, Hkv: 2, Tq: 9, Tk, D, causal: false, window: 0, softcap: 0, padded };
        const s = spec(c, rng);
        const x = inputs(s, rng);
        const all = new Float32Array(x.q.length);
        native.attentionForward(x.q, x.k, x.v, new Float32Array(s.B * s.H * s.Tq * Tk), null, all, s);
        const row = { ...s, Tq: 1 };
        const rowSize = s.H * D;
        for (let b = 0; b < s.B; b++)
          for (let i = 0; i < s.Tq; i++) {
            const q = new Float32Array(s.B * rowSize);
            for (let bb = 0; bb < s.B; bb++)
              q.set(x.q.subarray((bb * s.Tq + i) * rowSize, (bb * s.Tq + i + 1) * rowSize), bb * rowSize);
            const out = new Float32Array(q.length);
            native.attentionForward(q, x.k, x.v, new Float32Array(s.B * s.H * Tk), null, out, row);
            const want = all.subarray((b * s.Tq + i) * rowSize, (b * s.Tq + i + 1) * rowSize);
            const got = out.subarray(b * rowSize, (b + 1) * rowSize);
            assert.ok(Buffer.from(got.slice().buffer).equals(Buffer.from(want.slice().buffer)), `batch ${b}, row ${i}`);
          }
      });
});
