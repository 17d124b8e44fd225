/**
 * Binary elementwise ops with NumPy broadcasting (add, sub, mul, div), scalar scale/shift, and the
 * reduction of a broadcast gradient back to an input's shape. Same-shape and trailing-suffix broadcasts
 * (bias add, per-channel scale) take flat fast paths; anything else walks broadcast strides.
 */
import { record } from '../autograd.js';
import { Tensor, allocate, allocateUninitialized, shapeEquals, sizeOf, type FloatArray } from '../tensor.js';
import { broadcastShapes, broadcastStrides, forEachBroadcast } from '../shape.js';

type BinaryKind = 'add' | 'sub' | 'mul' | 'div';

function isSuffix(small: readonly number[], big: readonly number[]): boolean {
  if (small.length > big.length) return false;
  const off = big.length - small.length;
  return small.every((d, i) => d === big[off + i]);
}

function apply(kind: BinaryKind, a: number, b: number): number {
  switch (kind) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'div':
      return a / b;
  }
}

/** out[r*m + j] = a[r*m + j] (op) b[j] (or b (op) a when `swapped`), for m = b.length. Monomorphic per kind. */
function rowBroadcast(kind: BinaryKind, A: FloatArray, B: FloatArray, out: FloatArray, swapped: boolean): void {
  const m = B.length,
    rows = A.length / m;
  for (let r = 0; r < rows; r++) {
    const o = r * m;
    switch (kind) {
      case 'add':
        for (let j = 0; j < m; j++) out[o + j] = A[o + j] + B[j];
        break;
      case 'mul':
        for (let j = 0; j < m; j++) out[o + j] = A[o + j] * B[j];
        break;
      case 'sub':
        if (swapped) for (let j = 0; j < m; j++) out[o + j] = B[j] - A[o + j];
        else for (let j = 0; j < m; j++) out[o + j] = A[o + j] - B[j];
        break;
      case 'div':
        if (swapped) for (let j = 0; j < m; j++) out[o + j] = B[j] / A[o + j];
        else for (let j = 0; j < m; j++) out[o + j] = A[o + j] / B[j];
        break;
    }
  }
}

function binaryForward(kind: BinaryKind, a: Tensor, b: Tensor, outShape: number[]): FloatArray {
  const out = allocateUninitialized(sizeOf(outShape), a.data);
  const A = a.data,
    B = b.data;
  // Same shape is the trailing-suffix case with one row.
  if (shapeEquals(a.shape, outShape) && isSuffix(b.shape, outShape)) {
    rowBroadcast(kind, A, B, out, false);
    return out;
  }
  if (shapeEquals(b.shape, outShape) && isSuffix(a.shape, outShape)) {
    rowBroadcast(kind, B, A, out, true);
    return out;
  }
  forEachBroadcast(outShape, broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape), (i, ia, ib) => {
    out[i] = apply(kind, A[ia], B[ib]);
  });
  return out;
}

/** Sum a gradient of `outShape` down to `shape` (the inverse of broadcasting). */
export function reduceToShape(grad: FloatArray, outShape: readonly number[], shape: readonly number[]): FloatArray {
  if (shapeEquals(outShape, shape)) return grad;
  const out = allocate(sizeOf(shape), grad);
  if (isSuffix(shape, outShape)) {
    const m = out.length;
    for (let i = 0; i < grad.length; i++) out[i % m] += grad[i];
    return out;
  }
  const strides = broadcastStrides(shape, outShape);
  forEachBroadcast(outShape, strides, strides, (i, io) => {
    out[io] += grad[i];
  });
  return out;
}

/** Gather `values` (of `shape`) broadcast to `outShape`, materialised. */
function expandTo(values: FloatArray, shape: readonly number[], outShape: readonly number[]): FloatArray {
  if (shapeEquals(shape, outShape)) return values;
  const out = allocate(sizeOf(outShape), values);
  const strides = broadcastStrides(shape, outShape);
  forEachBroadcast(outShape, strides, strides, (i, io) => {
    out[i] = values[io];
  });
  return out;
}

function binary(kind: BinaryKind, a: Tensor, b: Tensor): Tensor {
  const outShape = broadcastShapes(a.shape, b.shape, kind);
  const out = new Tensor(binaryForward(kind, a, b, outShape), outShape);
  return record(kind, out, [a, b], (dOut) => {
    const n = dOut.length;
    let dA: FloatArray | null = null;
    let dB: FloatArray | null = null;
    if (kind === 'add' || kind === 'sub') {
      if (a.requiresGrad) dA = reduceToShape(dOut, outShape, a.shape);
      if (b.requiresGrad) {
        if (kind === 'add') dB = reduceToShape(dOut, outShape, b.shape);
        else {
          const neg = allocateUninitialized(n, dOut);
          for (let i = 0; i < n; i++) neg[i] = -dOut[i];
          dB = reduceToShape(neg, outShape, b.shape);
        }
      }
      return [dA, dB];
    }
    const A = expandTo(a.data, a.shape, outShape);
    const B = expandTo(b.data, b.shape, outShape);
    if (a.requiresGrad) {
      const g = allocateUninitialized(n, dOut);
      if (kind === 'mul') for (let i = 0; i < n; i++) g[i] = dOut[i] * B[i];
      else for (let i = 0; i < n; i++) g[i] = dOut[i] / B[i];
      dA = reduceToShape(g, outShape, a.shape);
    }
    if (b.requiresGrad) {
      const g = allocateUninitialized(n, dOut);
      if (kind === 'mul') for (let i = 0; i < n; i++) g[i] = dOut[i] * A[i];
      else for (let i = 0; i < n; i++) g[i] = (-dOut[i] * A[i]) / (B[i] * B[i]);
      dB = reduceToShape(g, outShape, b.shape);
    }
    return [dA, dB];
  });
}

export const add = (a: Tensor, b: Tensor): Tensor => binary('add', a, b);
export const sub = (a: Tensor, b: Tensor): Tensor => binary('sub', a, b);
export const mul = (a: Tensor, b: Tensor): Tensor => binary('mul', a, b);
export const div = (a: Tensor, b: Tensor): Tensor => binary('div', a, b);

/** y = x * factor + shift for constants factor and shift. */
export function scale(x: Tensor, factor: number, shift = 0): Tensor {
  const out = allocateUninitialized(x.size, x.data);
  const X = x.data;
  for (let i = 0; i < out.length; i++) out[i] = X[i] * factor + shift;
  return record('scale', new Tensor(out, x.shape), [x], (dOut) => {
    const dx = allocateUninitialized(dOut.length, dOut);
    for (let i = 0; i < dx.length; i++) dx[i] = dOut[i] * factor;
    return [dx];
  });
}

export const neg = (x: Tensor): Tensor => scale(x, -1);
