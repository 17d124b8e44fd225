/** Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_. */
import { getBackend } from '../backends/select.js';
import type { Tensor } from '../tensor.js';
import { trainable } from './optimizer.js';

export function globalGradNorm(params: readonly Tensor[]): number {
  const be = getBackend();
  let s = 0;
  for (const p of trainable(params)) s += be.sumSquares(p.grad);
  return Math.sqrt(s);
}

/** Scales all gradients so their global norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  const norm = globalGradNorm(params);
  const factor = maxNorm / (norm + 1e-6);
  if (factor < 1) {
    for (const p of trainable(params)) {
      const g = p.grad;
      for (let i = 0; i < g.length; i++) g[i] *= factor;
    }
  }
  return norm;
}
