/**
 * The native GEMM against the ts reference backend (float64 sums), for every implementation this build and CPU
 * offer (portable, avx2, avx512 and openblas where present): odd and prime sizes around the tile and block edges,
 * all four transpose combinations, alpha and beta, offsets and leading dimensions wider than the rows, the
 * model's tall-skinny LoRA products; and ours bit-identical on 1, 2 and 4 threads.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../rng.js';
import { availableBackends, tryBackend } from '../select.js';
import { nativeInfo, setNativeGemmKernel } from './index.js';

const skip = !availableBackends().includes('native') && 'native addon not built';
const kernels = skip ? [] : nativeInfo()!.gemmKernels.split(',');
const ours = kernels.filter((k) => k !== 'openblas');

interface Case {
  ta: boolean;
  tb: boolean;
  M: number;
  N: number;
  K: number;
  alpha: number;
  beta: number;
  /** Offsets into the arrays and extra columns of the leading dimensions. */
  aOff: number;
  bOff: number;
  cOff: number;
  pad: number;
}

/** Operands for c, uniform in [-1, 1), with room for the offsets and padded leading dimensions. */
function operands(c: Case, rng: Rng) {
  const lda = (c.ta ? c.M : c.K) + c.pad,
    ldb = (c.tb ? c.K : c.N) + c.pad,
    ldc = c.N + c.pad;
  const fill = (n: number) => Float32Array.from({ length: n }, () => 2 * rng.uniform() - 1);
  return {
    A: fill(c.aOff + (c.ta ? c.K : c.M) * lda),
    B: fill(c.bOff + (c.tb ? c.N : c.K) * ldb),
    C: fill(c.cOff + c.M * ldc),
    lda,
    ldb,
    ldc,
  };
}

type Operands = ReturnType<typeof operands>;

function runGemm(backend: 'native' | 'ts', c: Case, o: Operands, C: Float32Array): Float32Array {
  tryBackend(backend)!.gemm(
    c.ta,
    c.tb,
    c.M,
    c.N,
    c.K,
    c.alpha,
    o.A,
    c.aOff,
    o.lda,
    o.B,
    c.bOff,
    o.ldb,
    c.beta,
    C,
    c.cOff,
    o.ldc,
  );
  return C;
}

/**
 * Asserts native == reference within the float32 error bound of a K-term sum: |error| <= (K + 2) u (|alpha| sum_k
 * |a||b| + |beta c|) with u = 2^-24, doubled for margin; elements outside the C view must be untouched.
 */
function assertClose(c: Case, o: Operands, got: Float32Array, want: Float32Array, label: string): void {
  const abs: Operands = { ...o, A: o.A.map(Math.abs), B: o.B.map(Math.abs), C: o.C.map(Math.abs) };
  const bound = runGemm('ts', { ...c, alpha: Math.abs(c.alpha), beta: Math.abs(c.beta) }, abs, abs.C.slice());
  const u = 2 ** -24;
  for (let i = 0; i < got.length; i++) {
    const inView = i >= c.cOff && Math.floor((i - c.cOff) / o.ldc) < c.M && (i - c.cOff) % o.ldc < c.N;
    if (!inView) {
      assert.equal(got[i], o.C[i], `${label}: element ${i} outside C was written`);
      continue;
    }
    const tol = 2 * (c.K + 2) * u * bound[i] + 1e-30;
    if (!(Math.abs(got[i] - want[i]) <= tol))
      assert.fail(`${label}: C[${i}] = ${got[i]}, reference ${want[i]}, tolerance ${tol}`);
  }
}

const name = (c: Case) =>
  `${c.ta ? 'T' : 'N'}${c.tb ? 'T' : 'N'} ${c.M}x${c.N}x${c.K} alpha ${c.alpha} beta ${c.beta}` +
  (c.pad || c.aOff ? ` pad ${c.pad} offsets ${c.aOff},${c.bOff},${c.cOff}` : '');

const ODD = [1, 2, 3, 7, 13, 15, 16, 17, 31, 32, 33, 65, 127, 129, 257];

function cases(): Case[] {
  const rng = new Rng(7);
  const pick = <T>(xs: T[]) => xs[rng.int(xs.length)];
  const out: Case[] = [];
  const transposes = [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const;
  for (const [ta, tb] of transposes) {
    // Random odd shapes, small enough for the reference, with every alpha / beta kind.
    for (let n = 0; n < 12; n++) {
      let M: number, N: number, K: number;
      do [M, N, K] = [pick(ODD), pick(ODD), pick(ODD)];
      while (M * N * K > 2_000_000);
      const [alpha, beta] = pick([
        [1, 0],
        [1, 1],
        [0.5, 0],
        [-1.5, 0.25],
        [2, -1],
      ]);
      const padded = n % 3 === 0;
      out.push({
        ta,
        tb,
        M,
        N,
        K,
        alpha,
        beta,
        aOff: padded ? 5 : 0,
        bOff: padded ? 3 : 0,
        cOff: padded ? 7 : 0,
        pad: padded ? 9 : 0,
      });
    }
    // Several blocks of k (KC is 256) with a ragged last one, and a product big enough to be threaded.
    out.push({ ta, tb, M: 45, N: 70, K: 700, alpha: 1, beta: 0.5, aOff: 1, bOff: 2, cOff: 3, pad: 4 });
    out.push({ ta, tb, M: 150, N: 97, K: 300, alpha: 1, beta: 0, aOff: 0, bOff: 0, cOff: 0, pad: 0 });
  }
  // The model's LoRA products at rank 8 (as in ops/matmul.ts addLowRank, 2048 tokens, d 256 / 704).
  const lora: [boolean, boolean, number, number, number, number][] = [
    [false, true, 2048, 8, 256, 2], // h = scale x A^T
    [false, true, 2048, 256, 8, 1], // out = y + h B^T (beta 1)
    [false, false, 2048, 8, 704, 2], // dh = scale dOut B
    [true, false, 704, 8, 2048, 0], // dB = dOut^T h
    [true, false, 8, 256, 2048, 0], // dA = dh^T x
    [false, false, 2048, 256, 8, 0], // dx = dh A
  ];
  for (const [ta, tb, M, N, K, beta] of lora) {
    const alpha = beta === 2 ? 2 : 1;
    out.push({ ta, tb, M, N, K, alpha, beta: beta === 1 ? 1 : 0, aOff: 0, bOff: 0, cOff: 0, pad: 0 });
  }
  return out;
}

describe('native gemm against the ts reference', { skip }, () => {
  after(() => setNativeGemmKernel('auto'));
  const rng = new Rng(11);
  for (const c of cases()) {
    test(name(c), () => {
      const o = operands(c, rng);
      const want = runGemm('ts', c, o, o.C.slice());
      for (const kernel of kernels) {
        setNativeGemmKernel(kernel);
        assertClose(c, o, runGemm('native', c, o, o.C.slice()), want, kernel);
      }
    });
  }

  test('beta 0 overwrites C without reading it (NaN in C does not leak); alpha 0 or K 0 only scales C', () => {
    for (const kernel of ours) {
      setNativeGemmKernel(kernel);
      for (const [M, N, K] of [
        [3, 5, 7],
        [33, 40, 300],
      ]) {
        const c: Case = { ta: false, tb: false, M, N, K, alpha: 1, beta: 0, aOff: 0, bOff: 0, cOff: 0, pad: 0 };
        const o = operands(c, rng);
        const C = new Float32Array(M * N).fill(NaN);
        runGemm('native', c, o, C);
        assert.ok(
          C.every((v) => Number.isFinite(v)),
          `${kernel} ${M}x${N}x${K}: NaN leaked`,
        );
        // alpha 0: A and B are not read (a NaN there stays out), C = beta C.
        const nanA = o.A.slice().fill(NaN);
        const C2 = o.C.slice();
        tryBackend('native')!.gemm(false, false, M, N, K, 0, nanA, 0, K, o.B, 0, N, 0.5, C2, 0, N);
        assert.deepEqual(
          C2,
          o.C.map((v) => Math.fround(v * 0.5)),
        );
        const C3 = o.C.slice();
        tryBackend('native')!.gemm(false, false, M, N, 0, 1, nanA, 0, 1, o.B, 0, N, 0, C3, 0, N);
        assert.ok(C3.every((v) => v === 0));
      }
    }
  });
});

describe('native gemm: bit-identical on 1, 2 and 4 threads', { skip }, () => {
  const native = skip ? null : tryBackend('native')!;
  const before = native?.threads() ?? 1;
  after(() => {
    native?.setThreads(before);
    setNativeGemmKernel('auto');
  });
  const rng = new Rng(3);
  const shapes: Case[] = [
    { ta: false, tb: true, M: 2048, N: 256, K: 256, alpha: 1, beta: 0, aOff: 0, bOff: 0, cOff: 0, pad: 0 },
    { ta: true, tb: false, M: 256, N: 704, K: 2048, alpha: 1, beta: 0, aOff: 0, bOff: 0, cOff: 0, pad: 0 },
    { ta: false, tb: false, M: 301, N: 259, K: 777, alpha: 0.75, beta: 1, aOff: 3, bOff: 1, cOff: 2, pad: 5 },
    { ta: true, tb: true, M: 129, N: 65, K: 513, alpha: 1, beta: -0.5, aOff: 0, bOff: 0, cOff: 0, pad: 0 },
    { ta: false, tb: true, M: 2048, N: 8, K: 704, alpha: 2, beta: 0, aOff: 0, bOff: 0, cOff: 0, pad: 0 },
    { ta: true, tb: false, M: 8, N: 256, K: 2048, alpha: 1, beta: 0, aOff: 0, bOff: 0, cOff: 0, pad: 0 },
    { ta: false, tb: true, M: 128, N: 128, K: 32, alpha: 0.17, beta: 0, aOff: 0, bOff: 0, cOff: 0, pad: 0 },
  ];
  for (const kernel of ours) {
    for (const c of shapes) {
      test(`${kernel}: ${name(c)}`, () => {
        setNativeGemmKernel(kernel);
        const o = operands(c, rng);
        const results = [1, 2, 4].map((t) => {
          native!.setThreads(t);
          return runGemm('native', c, o, o.C.slice());
        });
        assert.ok(Buffer.from(results[0].buffer).equals(Buffer.from(results[1].buffer)), '1 vs 2 threads');
        assert.ok(Buffer.from(results[0].buffer).equals(Buffer.from(results[2].buffer)), '1 vs 4 threads');
      });
    }
  }
});
