/** Reductions: sum and mean over all elements or over chosen axes (keepDims optional). */
import { record } from '../autograd.js';
import { Tensor, allocate, sizeOf } from '../tensor.js';
import { broadcastStrides, forEachBroadcast, normalizeAxis } from '../shape.js';

export interface ReduceOptions {
  /** Axes to reduce (default: all). */
  axes?: readonly number[];
  keepDims?: boolean;
}

function reduce(op: 'sum' | 'mean', x: Tensor, { axes, keepDims = false }: ReduceOptions): Tensor {
  const reduced = new Set((axes ?? x.shape.map((_, i) => i)).map((a) => normalizeAxis(a, x.rank, op)));
  const keptShape = x.shape.map((d, i) => (reduced.has(i) ? 1 : d));
  const outShape = keepDims ? keptShape : x.shape.filter((_, i) => !reduced.has(i));
  const count = x.size / sizeOf(keptShape);
  const factor = op === 'mean' ? 1 / count : 1;
  const out = allocate(sizeOf(keptShape), x.data);
  const strides = broadcastStrides(keptShape, x.shape);
  forEachBroadcast(x.shape, strides, strides, (i, io) => {
    out[io] += x.data[i];
  });
  if (factor !== 1) for (let i = 0; i < out.length; i++) out[i] *= factor;
  return record(op, new Tensor(out, outShape), [x], (dOut) => {
    const dx = allocate(x.size, dOut);
    forEachBroadcast(x.shape, strides, strides, (i, io) => {
      dx[i] = dOut[io] * factor;
    });
    return [dx];
  });
}

export const sum = (x: Tensor, options: ReduceOptions = {}): Tensor => reduce('sum', x, options);
export const mean = (x: Tensor, options: ReduceOptions = {}): Tensor => reduce('mean', x, options);
