/** Losses over LoRA parameters that the model-based selectors share (their gradients: the engine's gradientOf). */
import { Tensor, scale, sum } from '../engine/index.js';
import type { ForwardOptions } from '../models/forward.js';
import { causalLmLoss } from '../models/lm-loss.js';
import { collate } from '../data/batch.js';
import type { SupervisedExample } from '../data/prompt-format.js';

/** A causal LM whose trainable (LoRA) parameters the selector moves. */
export interface SelectableModel {
  forward(ids: Int32Array, B: number, T: number, options?: ForwardOptions): Tensor;
}

/** Per-example mean response losses, [B]. */
export function perExampleLoss(
  model: SelectableModel,
  examples: readonly SupervisedExample[],
  padTokenId: number,
): Tensor {
  const batch = collate(examples, padTokenId);
  return causalLmLoss(model, batch, 'per-example');
}

/** Mean of per-example mean losses: L_v and L_h as defined (each sample counts once, not per token). */
export function meanLoss(model: SelectableModel, examples: readonly SupervisedExample[], padTokenId: number): Tensor {
  const per = perExampleLoss(model, examples, padTokenId);
  return scale(sum(per), 1 / per.size);
}
