/**
 * matmul (batched, with transposes) and linear (x W^T + b, the layer every model is built from).
 * Legend: M, N, K the GEMM sizes; batch dims lead. Everything runs through backend.gemm.
 */
import { record } from '../autograd.js';
import { getBackend } from '../backends/select.js';
import { Tensor, allocate, allocateUninitialized, formatShape, sizeOf, type FloatArray } from '../tensor.js';

/**
 * Sees each linear weight's input rows x [N, in] and output-gradient rows dy [N, out] in backward, while set.
 * Per-example gradients (engine/grad/per-example.ts) set it during a capture; ops stay unaware of grad tools.
 */
export type LinearBackwardObserver = (
  weight: Tensor,
  bias: Tensor | null,
  x: FloatArray,
  dy: FloatArray,
  N: number,
  inF: number,
  outF: number,
) => void;

let linearObserver: LinearBackwardObserver | null = null;

export function observeLinearBackward(observer: LinearBackwardObserver | null): void {
  linearObserver = observer;
}

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

/**
 * a [...batch, M, K] (or [..., K, M] with transA) times b [...batch, K, N] (or [..., N, K] with transB).
 * Batch dims must be equal, or one operand is 2-D and shared across the other's batch.
 */
export function matmul(a: Tensor, b: Tensor, { transA = false, transB = false }: MatmulOptions = {}): Tensor {
  if (a.rank < 2 || b.rank < 2)
    throw new Error(`matmul: operands need rank >= 2, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = transA ? ac : ar,
    K = transA ? ar : ac;
  const Kb = transB ? bc : br,
    N = transB ? br : bc;
  const batchA = a.shape.slice(0, -2),
    batchB = b.shape.slice(0, -2);
  const sameBatch = batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]);
  if (K !== Kb || !(sameBatch || a.rank === 2 || b.rank === 2)) {
    throw new Error(
      `matmul: shapes ${formatShape(a.shape)}${transA ? 'ᵀ' : ''} and ${formatShape(b.shape)}${transB ? 'ᵀ' : ''} do not multiply`,
    );
  }
  const batchShape = batchA.length >= batchB.length ? batchA : batchB;
  const batch = sizeOf(batchShape);
  const strideA = a.rank === 2 ? 0 : M * K,
    strideB = b.rank === 2 ? 0 : K * N;
  const be = getBackend();
  const out = allocateUninitialized(batch * M * N, a.data);
  if (strideB === 0 && !transA) {
    be.gemm(false, transB, batch * M, N, K, 1, a.data, 0, ac, b.data, 0, bc, 0, out, 0, N);
  } else {
    for (let i = 0; i < batch; i++)
      be.gemm(transA, transB, M, N, K, 1, a.data, i * strideA, ac, b.data, i * strideB, bc, 0, out, i * M * N, N);
  }
  const result = new Tensor(out, [...batchShape, M, N]);
  return record('matmul', result, [a, b], (dC) => {
    let dA: FloatArray | null = null;
    let dB: FloatArray | null = null;
    if (a.requiresGrad) {
      dA = allocate(a.size, dC);
      for (let i = 0; i < batch; i++) {
        const cOff = i * M * N,
          aOff = i * strideA,
          bOff = i * strideB;
        // op(A) = dC op(B)^T; stored A is op(A) or its transpose. Shared A (stride 0) accumulates.
        if (!transA) be.gemm(false, !transB, M, K, N, 1, dC, cOff, N, b.data, bOff, bc, 1, dA, aOff, ac);
        else be.gemm(transB, true, K, M, N, 1, b.data, bOff, bc, dC, cOff, N, 1, dA, aOff, ac);
      }
    }
    if (b.requiresGrad) {
      dB = allocate(b.size, dC);
      if (strideB === 0 && !transA) {
        if (!transB) be.gemm(true, false, K, N, batch * M, 1, a.data, 0, ac, dC, 0, N, 0, dB, 0, bc);
        else be.gemm(true, false, N, K, batch * M, 1, dC, 0, N, a.data, 0, ac, 0, dB, 0, bc);
      } else {
        for (let i = 0; i < batch; i++) {
          const cOff = i * M * N,
            aOff = i * strideA,
            bOff = i * strideB;
          if (!transB) be.gemm(!transA, false, K, N, M, 1, a.data, aOff, ac, dC, cOff, N, 1, dB, bOff, bc);
          else be.gemm(true, transA, N, K, M, 1, dC, cOff, N, a.data, aOff, ac, 1, dB, bOff, bc);
        }
      }
    }
    return [dA, dB];
  });
}

/** y = x W^T (+ b) for x [..., in], W [out, in], b [out]. Supports per-example gradient capture of W and b. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const [outF, inF] = weight.shape;
  if (weight.rank !== 2 || x.shape[x.rank - 1] !== inF) {
    throw new Error(
      `linear: input ${formatShape(x.shape)} does not match weight ${formatShape(weight.shape)} ` +
        '(expected [out, in] with in = last input dim)',
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outF))
    throw new Error(`linear: bias ${formatShape(bias.shape)} does not match ${outF} outputs`);
  const N = x.size / inF;
  const be = getBackend();
  const y = allocateUninitialized(N * outF, x.data);
  if (bias) for (let r = 0; r < N; r++) y.set(bias.data, r * outF);
  be.gemm(false, true, N, outF, inF, 1, x.data, 0, inF, weight.data, 0, inF, bias ? 1 : 0, y, 0, outF);
  const out = new Tensor(y, [...x.shape.slice(0, -1), outF]);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record('linear', out, inputs, (dy) => {
    let dx: FloatArray | null = null,
      dW: FloatArray | null = null,
      db: FloatArray | null = null;
    if (x.requiresGrad) {
      dx = allocateUninitialized(x.size, dy);
      be.gemm(false, false, N, inF, outF, 1, dy, 0, outF, weight.data, 0, inF, 0, dx, 0, inF);
    }
    if (weight.requiresGrad) {
      dW = allocateUninitialized(weight.size, dy);
      be.gemm(true, false, outF, inF, N, 1, dy, 0, outF, x.data, 0, inF, 0, dW, 0, inF);
    }
    if (bias && bias.requiresGrad) {
      db = allocate(outF, dy);
      be.sumRows(dy, db, N, outF);
    }
    linearObserver?.(weight, bias ?? null, x.data, dy, N, inF, outF);
    return [dx, dW, db];
  });
}

/**
 * y + (scale * dropout(x) A^T) B^T in one op: a low-rank update added to a layer's output (LoRA), without
 * separate dropout, scale and add tensors. A [r, in], B [out, r], x [..., in], y [..., out]; `dropout` (optional)
 * is inverted dropout with probability p, its mask drawn by the backend's counter-based hash from `seed` (and
 * redrawn in backward rather than stored). Saves the dropped-out input and h = scale dropout(x) A^T.
 * Per-example gradient captures see A and B as the linear layers they are.
 */
export function addLowRank(
  y: Tensor,
  x: Tensor,
  a: Tensor,
  b: Tensor,
  scale: number,
  dropout: { p: number; seed: number } | null = null,
  /** Write the sum into y's buffer instead of a copy: only for a y that nothing else reads (a fresh linear output). */
  inPlace = false,
): Tensor {
  const [r, inF] = a.shape;
  const outF = b.shape[0];
  if (a.rank !== 2 || b.rank !== 2 || b.shape[1] !== r || x.shape[x.rank - 1] !== inF || y.shape[y.rank - 1] !== outF) {
    throw new Error(
      `addLowRank: x ${formatShape(x.shape)}, A ${formatShape(a.shape)}, B ${formatShape(b.shape)}, ` +
        `y ${formatShape(y.shape)} are inconsistent`,
    );
  }
  const N = x.size / inF;
  if (y.size !== N * outF)
    throw new Error(`addLowRank: y ${formatShape(y.shape)} has ${y.size / outF} rows, x has ${N}`);
  if (dropout && !(dropout.p >= 0 && dropout.p < 1))
    throw new Error(`addLowRank: dropout probability ${dropout.p} must be in [0, 1)`);
  const be = getBackend();
  const drop = dropout && dropout.p > 0 ? { p: dropout.p, keep: 1 / (1 - dropout.p), seed: dropout.seed >>> 0 } : null;
  let xd = x.data;
  if (drop) {
    xd = allocateUninitialized(x.size, x.data);
    be.dropoutMultiply(x.data, xd, drop.p, drop.keep, drop.seed);
  }
  const h = allocateUninitialized(N * r, x.data);
  be.gemm(false, true, N, r, inF, scale, xd, 0, inF, a.data, 0, inF, 0, h, 0, r); // h = scale xd A^T
  const out = inPlace ? y.data : y.data.slice();
  be.gemm(false, true, N, outF, r, 1, h, 0, r, b.data, 0, r, 1, out, 0, outF); // out = y + h B^T
  return record('addLowRank', new Tensor(out, y.shape), [y, x, a, b], (dOut) => {
    const dh = allocateUninitialized(N * r, dOut);
    be.gemm(false, false, N, r, outF, scale, dOut, 0, outF, b.data, 0, r, 0, dh, 0, r); // d(xd A^T) = scale dOut B
    let dx: FloatArray | null = null,
      dA: FloatArray | null = null,
      dB: FloatArray | null = null;
    if (b.requiresGrad) {
      dB = allocateUninitialized(b.size, dOut);
      be.gemm(true, false, outF, r, N, 1, dOut, 0, outF, h, 0, r, 0, dB, 0, r);
    }
    if (a.requiresGrad) {
      dA = allocateUninitialized(a.size, dOut);
      be.gemm(true, false, r, inF, N, 1, dh, 0, r, xd, 0, inF, 0, dA, 0, inF);
    }
    if (x.requiresGrad) {
      dx = allocateUninitialized(x.size, dOut);
      be.gemm(false, false, N, inF, r, 1, dh, 0, r, a.data, 0, inF, 0, dx, 0, inF);
      if (drop) be.dropoutMultiply(dx, dx, drop.p, drop.keep, drop.seed);
    }
    linearObserver?.(b, null, h, dOut, N, r, outF);
    linearObserver?.(a, null, xd, dh, N, inF, r);
    return [y.requiresGrad ? dOut : null, dx, dA, dB];
  });
}
