/** Losses and gradients over LoRA parameters that the model-based selectors and the defenses share. */
import { Tensor, allocate, backward, crossEntropy, scale, sum, type FloatArray } from '../engine/index.js';
import { collate } from '../data/batch.js';
import type { SupervisedExample } from '../data/prompt-format.js';

/** A causal LM whose trainable (LoRA) parameters the selector moves. */
export interface SelectableModel {
  forward(ids: Int32Array, B: number, T: number): Tensor;
}

/** Per-example mean response losses, [B]. */
export function perExampleLoss(
  model: SelectableModel,
  examples: readonly SupervisedExample[],
  padTokenId: number,
): Tensor {
  const batch = collate(examples, padTokenId);
  return crossEntropy(model.forward(batch.ids, batch.B, batch.T), batch.targets, { reduction: 'per-example' });
}

/** Mean of per-example mean losses: L_v and L_h as defined (each sample counts once, not per token). */
export function meanLoss(model: SelectableModel, examples: readonly SupervisedExample[], padTokenId: number): Tensor {
  const per = perExampleLoss(model, examples, padTokenId);
  return scale(sum(per), 1 / per.size);
}

/** Gradient of a scalar loss for `params`, returned as copies; the params' .grad are left null. */
export function gradientOf(
  params: readonly Tensor[],
  loss: () => Tensor,
): { value: number; grad: Map<Tensor, FloatArray> } {
  for (const p of params) p.grad = null;
  const l = loss();
  backward(l);
  const grad = new Map<Tensor, FloatArray>();
  for (const p of params) grad.set(p, p.grad ? p.grad.slice() : allocate(p.size, p.data));
  for (const p of params) p.grad = null;
  return { value: l.item(), grad };
}

export function norm(g: ReadonlyMap<Tensor, FloatArray>): number {
  let s = 0;
  for (const d of g.values()) for (let i = 0; i < d.length; i++) s += d[i] * d[i];
  return Math.sqrt(s);
}

export function addScaled(params: readonly Tensor[], dir: ReadonlyMap<Tensor, FloatArray>, factor: number): void {
  for (const p of params) {
    const d = dir.get(p)!;
    for (let i = 0; i < d.length; i++) p.data[i] += factor * d[i];
  }
}
