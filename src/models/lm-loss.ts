/**
 * The causal-LM loss of a token batch, with logits computed only where a target is supervised. On alignment and
 * fine-tuning data the prompt and the padding are most positions (an AG News sample: a long article, a one-word
 * label), and each skipped position saves the LM head's products and its softmax over the vocabulary. The value
 * and every gradient are the same, bit for bit, as crossEntropy over all positions (lm-loss.test.ts).
 */
import { crossEntropy, type Tensor } from '../engine/index.js';
import type { ForwardOptions } from './forward.js';

/** ids and targets [B*T]; a target of -100 is not supervised (the prompt, padding). */
export interface SupervisedBatch {
  ids: Int32Array;
  targets: Int32Array;
  B: number;
  T: number;
}

export interface ForwardingLm {
  forward(ids: Int32Array, B: number, T: number, options?: ForwardOptions): Tensor;
}

const IGNORE = -100;

/** The rows of [B*T] whose target is supervised, in order. */
export function supervisedRows(targets: Int32Array): Int32Array {
  let n = 0;
  for (const t of targets) if (t !== IGNORE) n++;
  const rows = new Int32Array(n);
  n = 0;
  targets.forEach((t, r) => {
    if (t !== IGNORE) rows[n++] = r;
  });
  return rows;
}

/**
 * Mean cross-entropy over the supervised targets ('mean'), or each example's mean ('per-example', [B]).
 * `options` go to the forward (taps, for the defenses).
 */
export function causalLmLoss(
  model: ForwardingLm,
  batch: SupervisedBatch,
  reduction: 'mean' | 'per-example' = 'mean',
  options: ForwardOptions = {},
): Tensor {
  const { ids, targets, B, T } = batch;
  const rows = supervisedRows(targets);
  if (rows.length === 0 || rows.length === B * T)
    return crossEntropy(model.forward(ids, B, T, options), targets, { reduction });
  const logits = model.forward(ids, B, T, { ...options, logitRows: rows });
  // A model that does not implement logitRows returns every position: the loss is the same, only slower.
  if (logits.size / logits.shape[logits.rank - 1] !== rows.length) return crossEntropy(logits, targets, { reduction });
  const kept = rows.map((r) => targets[r]);
  if (reduction === 'mean') return crossEntropy(logits, kept);
  return crossEntropy(logits, kept, { reduction, rowExample: { index: rows.map((r) => Math.floor(r / T)), count: B } });
}
