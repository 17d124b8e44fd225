/**
 * The kernel interface every backend implements: flat loops over typed arrays, no Tensor, no autodiff.
 * Shapes are passed as plain integers; row-major everywhere. The `ts` backend defines what each kernel
 * means (and accepts Float64Array for gradient checks); `native` must agree with it.
 *
 * Legend: R rows, C columns (feature size), V vocabulary, B batch, H query heads, T time, D head size.
 */
import type { FloatArray } from '../tensor.js';

export type UnaryKind = 'exp' | 'log' | 'sqrt' | 'tanh' | 'sigmoid' | 'silu' | 'gelu' | 'gelu_tanh' | 'relu';

/** Stable numeric codes shared with the native addon (native/src/kernels/activation.cc). */
export const UNARY_CODES: Record<UnaryKind, number> = {
  exp: 0,
  log: 1,
  sqrt: 2,
  tanh: 3,
  sigmoid: 4,
  silu: 5,
  gelu: 6,
  gelu_tanh: 7,
  relu: 8,
};

export interface AttentionMaskSpec {
  B: number;
  H: number;
  Tq: number;
  Tk: number;
  /** Query i sits at key position i + causalOffset; keys after it are masked. Negative: no causal mask. */
  causalOffset: number;
  /** [B, Tk], nonzero = key may be attended; null = all keys valid. */
  keyMask: Float32Array | null;
  /** Sliding window (causal only): query i sees keys (i + causalOffset - window, i + causalOffset]. 0 or absent: unlimited. */
  window?: number;
}

/** Attention's shapes and options (ops/attention.ts): q [B, Tq, H, D], k and v [B, Tk, Hkv, D], H a multiple of Hkv. */
export interface AttentionSpec extends AttentionMaskSpec {
  Hkv: number;
  D: number;
  /** Multiplies the scores Q K^T. */
  scale: number;
  /** Soft-capping of the scaled scores, cap * tanh(s / cap); 0 = off. */
  softcap: number;
}

export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1 - beta1^t and 1 - beta2^t for bias correction at step t. */
  biasCorrection1: number;
  biasCorrection2: number;
}

export interface Backend {
  readonly name: 'ts' | 'native';
  threads(): number;
  setThreads(n: number): void;

  /** C[M,N] = alpha * op(A) op(B) + beta * C, row-major with leading dimensions and offsets. */
  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: FloatArray,
    aOff: number,
    lda: number,
    B: FloatArray,
    bOff: number,
    ldb: number,
    beta: number,
    C: FloatArray,
    cOff: number,
    ldc: number,
  ): void;

  /** y = f(x) elementwise. */
  unaryForward(kind: UnaryKind, x: FloatArray, y: FloatArray): void;
  /** dx = dy * f'(x), with y = f(x) available to kernels that prefer it. */
  unaryBackward(kind: UnaryKind, x: FloatArray, y: FloatArray, dy: FloatArray, dx: FloatArray): void;

  /** out = f(gate) * up elementwise, f(gate) rounded to the working precision first (the gated MLP: SwiGLU, GeGLU). */
  gatedForward(kind: UnaryKind, gate: FloatArray, up: FloatArray, out: FloatArray): void;
  /** dUp = dOut * f(gate), dGate = (dOut * up) * f'(gate), each product rounded as in the unfused ops. */
  gatedBackward(
    kind: UnaryKind,
    gate: FloatArray,
    up: FloatArray,
    dOut: FloatArray,
    dGate: FloatArray,
    dUp: FloatArray,
  ): void;

  /** Row-wise softmax (log = false) or log-softmax over [R, C]. */
  softmaxForward(x: FloatArray, y: FloatArray, R: number, C: number, log: boolean): void;
  /** Backward of the above from its output y. */
  softmaxBackward(y: FloatArray, dy: FloatArray, dx: FloatArray, R: number, C: number, log: boolean): void;

  /**
   * In place over scores [B, H, Tq, Tk]: masked entries become probability 0; rows with no visible key
   * become all zeros (a left-padded query position), never NaN.
   */
  attentionSoftmaxForward(scores: FloatArray, mask: AttentionMaskSpec): void;

  /**
   * Attention over every (batch, head) slice: for query head h, KV head h / (H / Hkv),
   * probs = masked softmax(softcap(scale Q K^T)) [B, H, Tq, Tk] (masked as attentionSoftmaxForward), out = probs V
   * [B, Tq, H, D]. `capped` [B, H, Tq, Tk] receives tanh(scale Q K^T / softcap) when softcap > 0 (null otherwise).
   * probs and out are overwritten.
   */
  attentionForward(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    probs: FloatArray,
    capped: FloatArray | null,
    out: FloatArray,
    spec: AttentionSpec,
  ): void;
  /** The gradients of attentionForward from its saved probs (and capped); dq, dk, dv are overwritten. */
  attentionBackward(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    probs: FloatArray,
    capped: FloatArray | null,
    dOut: FloatArray,
    dq: FloatArray,
    dk: FloatArray,
    dv: FloatArray,
    spec: AttentionSpec,
  ): void;

  /** rowLoss[r] = logsumexp(logits[r]) - logits[r, target[r]]; 0 where target == ignoreIndex. */
  crossEntropyForward(
    logits: FloatArray,
    targets: Int32Array,
    rowLoss: FloatArray,
    R: number,
    V: number,
    ignoreIndex: number,
  ): void;
  /** dlogits[r] = rowScale[r] * (softmax(logits[r]) - onehot(target[r])); 0 rows where ignored. */
  crossEntropyBackward(
    logits: FloatArray,
    targets: Int32Array,
    rowScale: FloatArray,
    dlogits: FloatArray,
    R: number,
    V: number,
    ignoreIndex: number,
  ): void;

  /** LayerNorm over the last dim C; saves mean and rstd [R]. bias may be null. */
  layerNormForward(
    x: FloatArray,
    weight: FloatArray,
    bias: FloatArray | null,
    y: FloatArray,
    mean: FloatArray,
    rstd: FloatArray,
    R: number,
    C: number,
    eps: number,
  ): void;
  /** dx is overwritten; dweight/dbias are accumulated (+=) when non-null. */
  layerNormBackward(
    x: FloatArray,
    weight: FloatArray,
    mean: FloatArray,
    rstd: FloatArray,
    dy: FloatArray,
    dx: FloatArray,
    dweight: FloatArray | null,
    dbias: FloatArray | null,
    R: number,
    C: number,
  ): void;

  /** RMSNorm: y = x * rstd * (weightOffset + weight); saves rstd [R]. */
  rmsNormForward(
    x: FloatArray,
    weight: FloatArray,
    y: FloatArray,
    rstd: FloatArray,
    R: number,
    C: number,
    eps: number,
    weightOffset: number,
  ): void;
  rmsNormBackward(
    x: FloatArray,
    weight: FloatArray,
    rstd: FloatArray,
    dy: FloatArray,
    dx: FloatArray,
    dweight: FloatArray | null,
    R: number,
    C: number,
    weightOffset: number,
  ): void;

  /**
   * Rotary embedding over x [B, T, H, D] (rotating the first `rotaryDim` of D). cos/sin are [P, rotaryDim/2]
   * tables; positions [B*T] index them. Pairs are (i, i + rotaryDim/2) or, interleaved, (2i, 2i+1).
   * inverse = true rotates by the negative angle (the backward).
   */
  rope(
    x: FloatArray,
    y: FloatArray,
    cos: FloatArray,
    sin: FloatArray,
    positions: Int32Array,
    BT: number,
    H: number,
    D: number,
    rotaryDim: number,
    interleaved: boolean,
    inverse: boolean,
  ): void;

  /** target[i] += source[i] (gradient accumulation). */
  accumulate(target: FloatArray, source: FloatArray): void;

  /** out[c] += sum_r x[r, c] (bias gradients). */
  sumRows(x: FloatArray, out: FloatArray, R: number, C: number): void;

  /** AdamW with decoupled weight decay, in place on param, m, v. */
  adamw(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, step: AdamWStep): void;

  /** sum of x[i]^2, accumulated in double. */
  sumSquares(x: FloatArray): number;

  /**
   * Inverted dropout by a counter-based hash: out[i] = x[i] * keep if dropoutDraw(seed, i) >= p * 2^32, else 0
   * (out may be x). The same (seed, i) gives the same draw on every backend and thread count, so backward
   * regenerates the mask instead of storing it.
   */
  dropoutMultiply(x: FloatArray, out: FloatArray, p: number, keep: number, seed: number): void;
}

/** The uint32 draw behind dropoutMultiply: two rounds of MurmurHash3's finalizer over (i, seed). */
export function dropoutDraw(seed: number, i: number): number {
  return fmix32((fmix32((Math.imul(i, 0x9e3779b9) ^ seed) >>> 0) + seed) >>> 0);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
