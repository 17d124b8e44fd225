/** Inverted dropout: zero each element with probability p and scale survivors by 1/(1-p). */
import { record } from '../autograd.js';
import type { Rng } from '../rng.js';
import { Tensor, allocate } from '../tensor.js';

export function dropout(x: Tensor, p: number, rng: Rng, training = true): Tensor {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: probability ${p} must be in [0, 1)`);
  if (!training || p === 0) return x;
  const keep = 1 / (1 - p);
  // The mask comes from the seeded RNG in TypeScript, so both backends drop the same elements.
  const mask = allocate(x.size, x.data);
  rng.fillBernoulli(mask, p, keep);
  const y = allocate(x.size, x.data);
  for (let i = 0; i < y.length; i++) y[i] = x.data[i] * mask[i];
  return record('dropout', new Tensor(y, x.shape), [x], (dy) => {
    const dx = allocate(x.size, dy);
    for (let i = 0; i < dx.length; i++) dx[i] = dy[i] * mask[i];
    return [dx];
  });
}
