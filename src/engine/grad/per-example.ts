/**
 * Per-example gradients of chosen parameters, from one batched backward pass (no batch-1 loops).
 * For a linear layer y = x W^T the gradient of example b is dY_b^T X_b, a GEMM over that example's rows;
 * linear() reports its inputs and output gradient to the observer a capture sets (ops/matmul.ts). From the captured
 * [B, ...shape] gradients come dot products with any direction, norms and the Gram matrix.
 *
 * Exact when examples do not interact inside the model (true for transformers: attention and norms act
 * within a sequence) and the per-example losses are summed; parameters must enter only through linear().
 */
import { backward } from '../autograd.js';
import { getBackend } from '../backends/select.js';
import { observeLinearBackward, type LinearBackwardObserver } from '../ops/matmul.js';
import { Tensor, allocate, formatShape, type FloatArray } from '../tensor.js';
import type { ReadonlyGradMap } from './grad-map.js';

interface Capture {
  readonly batch: number;
  readonly params: ReadonlySet<Tensor>;
  readonly grads: Map<Tensor, FloatArray>;
}

let active: Capture | null = null;

function slotFor(capture: Capture, p: Tensor, like: FloatArray): FloatArray {
  let g = capture.grads.get(p);
  if (!g) {
    g = allocate(capture.batch * p.size, like);
    capture.grads.set(p, g);
  }
  return g;
}

/** linear()'s backward observer during a capture: x [N, in], dy [N, out] with N = batch * rowsPerExample. */
const recordLinearPerExample: LinearBackwardObserver = (weight, bias, x, dy, N, inF, outF) => {
  const capture = active;
  if (!capture) return;
  const wanted = capture.params.has(weight);
  const wantBias = bias !== null && capture.params.has(bias);
  if (!wanted && !wantBias) return;
  if (N % capture.batch !== 0)
    throw new Error(`per-example gradients: ${N} rows do not split into ${capture.batch} examples`);
  const rows = N / capture.batch;
  const be = getBackend();
  if (wanted) {
    const g = slotFor(capture, weight, dy);
    for (let b = 0; b < capture.batch; b++) {
      be.gemm(
        true,
        false,
        outF,
        inF,
        rows,
        1,
        dy,
        b * rows * outF,
        outF,
        x,
        b * rows * inF,
        inF,
        1,
        g,
        b * outF * inF,
        inF,
      );
    }
  }
  if (wantBias) {
    const g = slotFor(capture, bias!, dy);
    for (let b = 0; b < capture.batch; b++)
      be.sumRows(dy.subarray(b * rows * outF, (b + 1) * rows * outF), g.subarray(b * outF, (b + 1) * outF), rows, outF);
  }
};

export class PerExampleGrads {
  constructor(
    readonly batch: number,
    /** For each parameter: [batch, ...param.shape], example-major. */
    readonly grads: ReadonlyMap<Tensor, FloatArray>,
  ) {}

  /** <g_b, direction> for each example b; direction maps each captured parameter to a same-shape array. */
  dot(direction: ReadonlyGradMap): Float64Array {
    const out = new Float64Array(this.batch);
    for (const [p, g] of this.grads) {
      const d = direction.get(p);
      if (!d) throw new Error(`per-example dot: direction lacks parameter ${p.name ?? formatShape(p.shape)}`);
      const n = p.size;
      for (let b = 0; b < this.batch; b++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += g[b * n + i] * d[i];
        out[b] += s;
      }
    }
    return out;
  }

  /** [B, B] matrix of <g_b, g_c>. */
  gram(): Float64Array {
    const B = this.batch;
    const out = new Float64Array(B * B);
    for (const [p, g] of this.grads) {
      const n = p.size;
      for (let b = 0; b < B; b++) {
        for (let c = b; c < B; c++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += g[b * n + i] * g[c * n + i];
          out[b * B + c] += s;
          if (c !== b) out[c * B + b] += s;
        }
      }
    }
    return out;
  }

  norms(): Float64Array {
    const B = this.batch;
    const gram = this.gram();
    const out = new Float64Array(B);
    for (let b = 0; b < B; b++) out[b] = Math.sqrt(gram[b * B + b]);
    return out;
  }

  /** The gradient of example b for parameter p (a view, [...p.shape] flattened). */
  of(p: Tensor, b: number): FloatArray {
    const g = this.grads.get(p);
    if (!g) throw new Error(`per-example grads: parameter ${p.name ?? formatShape(p.shape)} was not captured`);
    return g.subarray(b * p.size, (b + 1) * p.size);
  }
}

/**
 * Run `perExampleLoss` (which must return a [batch] tensor of per-example losses), backpropagate their
 * sum, and return each example's gradient for `params`. Parameters' `.grad` are left as they were.
 */
export function perExampleGradients(
  params: readonly Tensor[],
  batch: number,
  perExampleLoss: () => Tensor,
): PerExampleGrads {
  if (active) throw new Error('per-example gradients: captures do not nest');
  const saved = params.map((p) => (p.grad ? p.grad.slice() : null));
  const capture: Capture = { batch, params: new Set(params), grads: new Map() };
  active = capture;
  observeLinearBackward(recordLinearPerExample);
  try {
    const losses = perExampleLoss();
    if (losses.size !== batch)
      throw new Error(`per-example gradients: loss has shape ${formatShape(losses.shape)}, expected [${batch}]`);
    const ones = allocate(batch, losses.data).fill(1);
    backward(losses, { gradient: ones });
  } finally {
    active = null;
    observeLinearBackward(null);
    params.forEach((p, i) => {
      p.grad = saved[i];
    });
  }
  for (const p of params) {
    if (!capture.grads.has(p) && p.requiresGrad) {
      // Either unused by this loss (gradient zero) or used by an op other than linear().
      capture.grads.set(p, allocate(batch * p.size, p.data));
    }
  }
  return new PerExampleGrads(batch, capture.grads);
}
