/**
 * The native backend: the N-API addon in native/ (our packed SGEMM kernels, OpenBLAS optionally, and OpenMP C++
 * kernels). This file is the only place that touches the addon. Kernels take Float32Array only; float64 is for
 * the ts backend.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FloatArray } from '../../tensor.js';
import { UNARY_CODES, type AttentionSpec, type Backend } from '../backend.js';

/** The addon's exports (native/src/addon.cc). */
interface NativeAddon {
  gemm(
    ta: boolean,
    tb: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    aOff: number,
    lda: number,
    B: Float32Array,
    bOff: number,
    ldb: number,
    beta: number,
    C: Float32Array,
    cOff: number,
    ldc: number,
  ): void;
  unaryForward(code: number, x: Float32Array, y: Float32Array): void;
  unaryBackward(code: number, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array): void;
  gatedForward(code: number, gate: Float32Array, up: Float32Array, out: Float32Array): void;
  gatedBackward(
    code: number,
    gate: Float32Array,
    up: Float32Array,
    dOut: Float32Array,
    dGate: Float32Array,
    dUp: Float32Array,
  ): void;
  softmaxForward(x: Float32Array, y: Float32Array, R: number, C: number, log: boolean): void;
  softmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, R: number, C: number, log: boolean): void;
  attentionSoftmaxForward(
    scores: Float32Array,
    B: number,
    H: number,
    Tq: number,
    Tk: number,
    causalOffset: number,
    keyMask: Float32Array | null,
    window: number,
  ): void;
  attentionForward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    probs: Float32Array,
    capped: Float32Array | null,
    out: Float32Array,
    B: number,
    H: number,
    Hkv: number,
    Tq: number,
    Tk: number,
    D: number,
    scale: number,
    softcap: number,
    causalOffset: number,
    keyMask: Float32Array | null,
    window: number,
  ): void;
  attentionBackward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    probs: Float32Array,
    capped: Float32Array | null,
    dOut: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    B: number,
    H: number,
    Hkv: number,
    Tq: number,
    Tk: number,
    D: number,
    scale: number,
  ): void;
  crossEntropyForward(
    logits: Float32Array,
    targets: Int32Array,
    rowLoss: Float32Array,
    R: number,
    V: number,
    ignoreIndex: number,
  ): void;
  crossEntropyBackward(
    logits: Float32Array,
    targets: Int32Array,
    rowScale: Float32Array,
    dlogits: Float32Array,
    R: number,
    V: number,
    ignoreIndex: number,
  ): void;
  layerNormForward(
    x: Float32Array,
    w: Float32Array,
    b: Float32Array | null,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    R: number,
    C: number,
    eps: number,
  ): void;
  layerNormBackward(
    x: Float32Array,
    w: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dw: Float32Array | null,
    db: Float32Array | null,
    R: number,
    C: number,
  ): void;
  rmsNormForward(
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    rstd: Float32Array,
    R: number,
    C: number,
    eps: number,
    offset: number,
  ): void;
  rmsNormBackward(
    x: Float32Array,
    w: Float32Array,
    rstd: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dw: Float32Array | null,
    R: number,
    C: number,
    offset: number,
  ): void;
  rope(
    x: Float32Array,
    y: Float32Array,
    cos: Float32Array,
    sin: Float32Array,
    positions: Int32Array,
    BT: number,
    H: number,
    D: number,
    rotaryDim: number,
    interleaved: boolean,
    inverse: boolean,
  ): void;
  sumRows(x: Float32Array, out: Float32Array, R: number, C: number): void;
  accumulate(target: Float32Array, source: Float32Array): void;
  adamw(
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    lr: number,
    b1: number,
    b2: number,
    eps: number,
    wd: number,
    bc1: number,
    bc2: number,
  ): void;
  sumSquares(x: Float32Array): number;
  dropoutMultiply(x: Float32Array, out: Float32Array, p: number, keep: number, seed: number): void;
  setThreads(n: number): void;
  getThreads(): number;
  info(): NativeInfo;
  setGemmKernel(name: string): boolean;
}

/** What the addon reports about itself. */
export interface NativeInfo {
  /** The GEMM in use: "pharmacist-avx512", "pharmacist-avx2", "pharmacist-portable" or "openblas-<core>". */
  blasCore: string;
  /** The GEMM implementations this build and CPU offer, comma-separated, e.g. "portable,avx2,avx512,openblas". */
  gemmKernels: string;
  openmp: boolean;
}

export function nativeAddonPath(): string {
  const override = process.env.PHARMACIST_NATIVE_ADDON;
  if (override) return override;
  // dist/src/engine/backends/native/index.js -> <package root>/native/build/Release/
  return fileURLToPath(new URL('../../../../../native/build/Release/pharmacist_native.node', import.meta.url));
}

let addon: NativeAddon | null | undefined;

export function loadNativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  const path = nativeAddonPath();
  addon = null;
  if (existsSync(path)) {
    // libgomp reads this when the addon loads it. Its default (spin, then sleep) keeps idle kernel threads
    // spinning on the cores OpenBLAS's threads need between kernels; passive measured 2.2x faster per step. With
    // our GEMM on the same OpenMP threads, spinning (ACTIVE) measured 10x slower per LoRA step while another
    // process used the cores; products too small to repay a wake-up run on one thread (native/src/kernels/gemm.cc).
    process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
    try {
      addon = createRequire(import.meta.url)(path) as NativeAddon;
    } catch (error) {
      process.stderr.write(`pharmacist: native addon at ${path} failed to load: ${(error as Error).message}\n`);
    }
    const wanted = process.env.PHARMACIST_GEMM;
    if (addon && wanted && !addon.setGemmKernel(wanted)) {
      process.stderr.write(
        `pharmacist: PHARMACIST_GEMM=${wanted} is not available in this build on this CPU ` +
          `(available: ${addon.info().gemmKernels}; openblas needs libopenblas-dev when the addon is built); ` +
          `using ${addon.info().blasCore}\n`,
      );
    }
  }
  return addon;
}

/**
 * Selects the native GEMM implementation: "auto" (ours, the widest this CPU runs), "portable", "avx2", "avx512"
 * or "openblas" (see NativeInfo.gemmKernels). For tests and benchmarks; PHARMACIST_GEMM sets it at load.
 */
export function setNativeGemmKernel(name: string): void {
  const n = loadNativeAddon();
  if (!n) throw new Error('the native addon is not built');
  if (!n.setGemmKernel(name))
    throw new Error(`GEMM kernel ${name} is not available here (available: ${n.info().gemmKernels})`);
}

function f32(a: FloatArray): Float32Array {
  if (a instanceof Float32Array) return a;
  throw new Error('the native backend computes in float32 only; use the ts backend for float64');
}

function f32OrNull(a: FloatArray | null): Float32Array | null {
  return a === null ? null : f32(a);
}

/** The gated kernels take their length from the first array. */
function sameLength(kernel: string, ...arrays: FloatArray[]): void {
  if (arrays.some((a) => a.length !== arrays[0].length))
    throw new Error(`${kernel}: arrays of lengths ${arrays.map((a) => a.length).join(', ')} differ`);
}

/**
 * The attention kernels index their arrays from the shapes alone: check the sizes here, as the addon checks
 * the GEMM's extents (arrays: q, k, v, probs, capped, then [B, Tq, H, D] ones: out or dOut, dq; then dk, dv).
 */
function checkAttention(a: AttentionSpec, q: FloatArray, k: FloatArray, v: FloatArray, ...rest: (FloatArray | null)[]) {
  const qSize = a.B * a.Tq * a.H * a.D,
    kSize = a.B * a.Tk * a.Hkv * a.D,
    pSize = a.B * a.H * a.Tq * a.Tk;
  const [probs, capped, ...outs] = rest;
  const expected = [qSize, kSize, kSize, pSize, a.softcap > 0 ? pSize : 0, qSize, qSize, kSize, kSize];
  const sizes = [q, k, v, probs, capped, ...outs].map((x) => x?.length ?? 0);
  if (!(a.Hkv > 0 && a.H % a.Hkv === 0) || sizes.some((n, i) => n !== expected[i]))
    throw new Error(
      `attention kernel: sizes ${sizes.join(', ')} do not match ${JSON.stringify({ ...a, keyMask: undefined })}`,
    );
  if (a.keyMask && a.keyMask.length !== a.B * a.Tk) throw new Error('attention kernel: keyMask must have B*Tk entries');
}

export function loadNativeBackend(): Backend | null {
  const n = loadNativeAddon();
  if (!n) return null;
  return {
    name: 'native',
    threads: () => n.getThreads(),
    setThreads: (t) => n.setThreads(t),
    gemm: (ta, tb, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) =>
      n.gemm(ta, tb, M, N, K, alpha, f32(A), aOff, lda, f32(B), bOff, ldb, beta, f32(C), cOff, ldc),
    unaryForward: (kind, x, y) => n.unaryForward(UNARY_CODES[kind], f32(x), f32(y)),
    unaryBackward: (kind, x, y, dy, dx) => n.unaryBackward(UNARY_CODES[kind], f32(x), f32(y), f32(dy), f32(dx)),
    gatedForward: (kind, gate, up, out) => {
      sameLength('gatedForward', gate, up, out);
      n.gatedForward(UNARY_CODES[kind], f32(gate), f32(up), f32(out));
    },
    gatedBackward: (kind, gate, up, dOut, dGate, dUp) => {
      sameLength('gatedBackward', gate, up, dOut, dGate, dUp);
      n.gatedBackward(UNARY_CODES[kind], f32(gate), f32(up), f32(dOut), f32(dGate), f32(dUp));
    },
    softmaxForward: (x, y, R, C, log) => n.softmaxForward(f32(x), f32(y), R, C, log),
    softmaxBackward: (y, dy, dx, R, C, log) => n.softmaxBackward(f32(y), f32(dy), f32(dx), R, C, log),
    attentionSoftmaxForward: (scores, m) =>
      n.attentionSoftmaxForward(f32(scores), m.B, m.H, m.Tq, m.Tk, m.causalOffset, m.keyMask, m.window ?? 0),
    attentionForward: (q, k, v, probs, capped, out, a) => {
      checkAttention(a, q, k, v, probs, capped, out);
      n.attentionForward(
        f32(q),
        f32(k),
        f32(v),
        f32(probs),
        f32OrNull(capped),
        f32(out),
        a.B,
        a.H,
        a.Hkv,
        a.Tq,
        a.Tk,
        a.D,
        a.scale,
        a.softcap,
        a.causalOffset,
        a.keyMask,
        a.window ?? 0,
      );
    },
    attentionBackward: (q, k, v, probs, capped, dOut, dq, dk, dv, a) => {
      checkAttention(a, q, k, v, probs, capped, dOut, dq, dk, dv);
      n.attentionBackward(
        f32(q),
        f32(k),
        f32(v),
        f32(probs),
        f32OrNull(capped),
        f32(dOut),
        f32(dq),
        f32(dk),
        f32(dv),
        a.B,
        a.H,
        a.Hkv,
        a.Tq,
        a.Tk,
        a.D,
        a.scale,
      );
    },
    crossEntropyForward: (logits, targets, rowLoss, R, V, ignore) => {
      for (let r = 0; r < R; r++) {
        const t = targets[r];
        if (t !== ignore && (t < 0 || t >= V))
          throw new Error(`cross-entropy target ${t} at row ${r} is outside the vocabulary (${V})`);
      }
      n.crossEntropyForward(f32(logits), targets, f32(rowLoss), R, V, ignore);
    },
    crossEntropyBackward: (logits, targets, rowScale, dlogits, R, V, ignore) =>
      n.crossEntropyBackward(f32(logits), targets, f32(rowScale), f32(dlogits), R, V, ignore),
    layerNormForward: (x, w, b, y, mean, rstd, R, C, eps) =>
      n.layerNormForward(f32(x), f32(w), f32OrNull(b), f32(y), f32(mean), f32(rstd), R, C, eps),
    layerNormBackward: (x, w, mean, rstd, dy, dx, dw, db, R, C) =>
      n.layerNormBackward(f32(x), f32(w), f32(mean), f32(rstd), f32(dy), f32(dx), f32OrNull(dw), f32OrNull(db), R, C),
    rmsNormForward: (x, w, y, rstd, R, C, eps, off) =>
      n.rmsNormForward(f32(x), f32(w), f32(y), f32(rstd), R, C, eps, off),
    rmsNormBackward: (x, w, rstd, dy, dx, dw, R, C, off) =>
      n.rmsNormBackward(f32(x), f32(w), f32(rstd), f32(dy), f32(dx), f32OrNull(dw), R, C, off),
    rope: (x, y, cos, sin, pos, BT, H, D, rd, inter, inv) =>
      n.rope(f32(x), f32(y), f32(cos), f32(sin), pos, BT, H, D, rd, inter, inv),
    sumRows: (x, out, R, C) => n.sumRows(f32(x), f32(out), R, C),
    accumulate: (target, source) => n.accumulate(f32(target), f32(source)),
    adamw: (p, g, m, v, s) =>
      n.adamw(
        f32(p),
        f32(g),
        f32(m),
        f32(v),
        s.lr,
        s.beta1,
        s.beta2,
        s.eps,
        s.weightDecay,
        s.biasCorrection1,
        s.biasCorrection2,
      ),
    sumSquares: (x) => n.sumSquares(f32(x)),
    dropoutMultiply: (x, out, p, keep, seed) => n.dropoutMultiply(f32(x), f32(out), p, keep, seed >>> 0),
  };
}

export function nativeInfo(): NativeInfo | null {
  return loadNativeAddon()?.info() ?? null;
}
