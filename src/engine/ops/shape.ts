/** Shape ops: reshape (shares data), permute/transpose, slice and concat along one axis. */
import { record } from '../autograd.js';
import { Tensor, allocate, allocateUninitialized, formatShape, sizeOf, type FloatArray } from '../tensor.js';
import { normalizeAxis, stridesOf } from '../shape.js';

/** Same values, new shape; one dimension may be -1. The result shares the input's data. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const resolved = shape.map((d) => (d === -1 ? x.size / known : d));
  if (sizeOf(resolved) !== x.size)
    throw new Error(`reshape: cannot view ${formatShape(x.shape)} as ${formatShape(shape)}`);
  return record('reshape', new Tensor(x.data, resolved), [x], (dOut) => [dOut]);
}

function permuteData(data: FloatArray, shape: readonly number[], perm: readonly number[]): FloatArray {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = stridesOf(shape);
  const strides = perm.map((p) => inStrides[p]);
  const out = allocateUninitialized(data.length, data); // every element written below
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  // Innermost dimension as a strided copy; outer dimensions as an odometer.
  const inner = outShape[rank - 1] ?? 1,
    innerStride = strides[rank - 1] ?? 1;
  for (let o = 0; o < out.length; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = data[src + j * innerStride];
    for (let d = rank - 2; d >= 0; d--) {
      index[d]++;
      src += strides[d];
      if (index[d] < outShape[d]) break;
      src -= strides[d] * outShape[d];
      index[d] = 0;
    }
  }
  return out;
}

/** Reorder dimensions: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new Error(
      `permute: [${perm.join(', ')}] is not a permutation of the ${x.rank} dims of ${formatShape(x.shape)}`,
    );
  }
  const outShape = perm.map((p) => x.shape[p]);
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  const out = new Tensor(permuteData(x.data, x.shape, perm), outShape);
  return record('permute', out, [x], (dOut) => [permuteData(dOut, outShape, inverse)]);
}

export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const a = normalizeAxis(dim0, x.rank, 'transpose'),
    b = normalizeAxis(dim1, x.rank, 'transpose');
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/** x[..., start:end, ...] along `axis`. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = normalizeAxis(axis, x.rank, 'slice');
  const dim = x.shape[ax];
  if (!(0 <= start && start <= end && end <= dim))
    throw new Error(`slice: [${start}, ${end}) is outside dimension ${ax} of size ${dim}`);
  const outer = sizeOf(x.shape.slice(0, ax)),
    inner = sizeOf(x.shape.slice(ax + 1));
  const len = end - start;
  const out = allocateUninitialized(outer * len * inner, x.data); // every element copied below
  for (let o = 0; o < outer; o++)
    out.set(x.data.subarray((o * dim + start) * inner, (o * dim + end) * inner), o * len * inner);
  const shape = [...x.shape];
  shape[ax] = len;
  return record('slice', new Tensor(out, shape), [x], (dOut) => {
    const dx = allocate(x.size, dOut);
    for (let o = 0; o < outer; o++)
      dx.set(dOut.subarray(o * len * inner, (o + 1) * len * inner), (o * dim + start) * inner);
    return [dx];
  });
}

/** Join tensors along `axis`; all other dims must match. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error('concat: no tensors');
  const ax = normalizeAxis(axis, xs[0].rank, 'concat');
  for (const t of xs) {
    if (t.rank !== xs[0].rank || t.shape.some((d, i) => i !== ax && d !== xs[0].shape[i])) {
      throw new Error(`concat: ${formatShape(t.shape)} does not match ${formatShape(xs[0].shape)} outside axis ${ax}`);
    }
  }
  const outer = sizeOf(xs[0].shape.slice(0, ax)),
    inner = sizeOf(xs[0].shape.slice(ax + 1));
  const total = xs.reduce((s, t) => s + t.shape[ax], 0);
  // Every element is copied below: no zero fill (a KV cache's append copies the whole cache each decoding step).
  const out = allocateUninitialized(outer * total * inner, xs[0].data);
  const starts: number[] = [];
  let at = 0;
  for (const t of xs) {
    starts.push(at);
    const len = t.shape[ax];
    for (let o = 0; o < outer; o++)
      out.set(t.data.subarray(o * len * inner, (o + 1) * len * inner), (o * total + at) * inner);
    at += len;
  }
  const shape = [...xs[0].shape];
  shape[ax] = total;
  return record('concat', new Tensor(out, shape), xs, (dOut) =>
    xs.map((t, k) => {
      if (!t.requiresGrad) return null;
      const len = t.shape[ax];
      const dx = allocateUninitialized(t.size, dOut);
      for (let o = 0; o < outer; o++)
        dx.set(dOut.subarray((o * total + starts[k]) * inner, (o * total + starts[k] + len) * inner), o * len * inner);
      return dx;
    }),
  );
}
