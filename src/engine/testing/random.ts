/** Seeded random tensors for tests and benchmarks. */
import { Rng } from '../rng.js';
import { Tensor, allocate, sizeOf } from '../tensor.js';

export function randomTensor(
  rng: Rng,
  shape: readonly number[],
  { requiresGrad = true, scale = 1, offset = 0 } = {},
): Tensor {
  const data = allocate(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = offset + scale * rng.normal();
  return new Tensor(data, shape, requiresGrad);
}

/** Uniform in [lo, hi). */
export function uniformTensor(rng: Rng, shape: readonly number[], lo: number, hi: number, requiresGrad = true): Tensor {
  const data = allocate(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * rng.uniform();
  return new Tensor(data, shape, requiresGrad);
}
