/** Shape arithmetic shared by the ops: broadcasting, strides, axis normalisation. */
import { formatShape } from './tensor.js';

export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** NumPy broadcasting of two shapes; throws naming both when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new Error(`${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read `shape` broadcast up to `outShape` (0 along broadcast dimensions). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((d, i) => {
    const j = i - offset;
    return j < 0 || shape[j] === 1 ? 0 : own[j];
  });
}

export function normalizeAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank)
    throw new Error(`${op}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/**
 * Visit every index of `outShape` in row-major order, calling fn(outIndex, offsetA, offsetB) with the
 * matching offsets into two broadcast inputs. Used by the general (non fast-path) elementwise ops.
 */
export function forEachBroadcast(
  outShape: readonly number[],
  stridesA: readonly number[],
  stridesB: readonly number[],
  fn: (i: number, ia: number, ib: number) => void,
): void {
  const rank = outShape.length;
  const index = new Array<number>(rank).fill(0);
  let ia = 0,
    ib = 0;
  const total = outShape.reduce((p, d) => p * d, 1);
  for (let i = 0; i < total; i++) {
    fn(i, ia, ib);
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      ia += stridesA[d];
      ib += stridesB[d];
      if (index[d] < outShape[d]) break;
      ia -= stridesA[d] * outShape[d];
      ib -= stridesB[d] * outShape[d];
      index[d] = 0;
    }
  }
}
