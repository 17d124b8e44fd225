/** What every optimizer offers: a step over the trainable parameters and zeroing their gradients. */
import type { Tensor } from '../tensor.js';

export interface Optimizer {
  readonly params: readonly Tensor[];
  /** Apply one update with learning rate `lr` (schedules pass it each step). */
  step(lr: number): void;
  zeroGrad(): void;
}

/** Parameters that train and have a gradient this step (frozen ones are skipped). */
export function* trainable(params: readonly Tensor[]): Generator<Tensor & { grad: NonNullable<Tensor['grad']> }> {
  for (const p of params) if (p.requiresGrad && p.grad) yield p as Tensor & { grad: NonNullable<Tensor['grad']> };
}

/** Drop gradients (PyTorch's set_to_none): the next backward adopts its arrays instead of adding to zeros. */
export function zeroGrads(params: readonly Tensor[]): void {
  for (const p of params) p.grad = null;
}
