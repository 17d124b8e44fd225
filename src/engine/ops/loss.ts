/**
 * Cross-entropy over the vocabulary, fused with its softmax (the logits never get a softmax tensor).
 * Reductions: 'mean' over non-ignored rows, 'sum', 'none' (one loss per row), and 'per-example'
 * (mean over each example's non-ignored rows, shape [B], B = logits.shape[0]).
 * Legend: R rows (= B*T), V vocabulary.
 */
import { record } from '../autograd.js';
import { getBackend } from '../backends/select.js';
import { Tensor, allocate, allocateUninitialized, formatShape } from '../tensor.js';

export type CrossEntropyReduction = 'mean' | 'sum' | 'none' | 'per-example';

export interface CrossEntropyOptions {
  /** Targets equal to this contribute nothing (default -100, as in PyTorch and Hugging Face). */
  ignoreIndex?: number;
  reduction?: CrossEntropyReduction;
}

export function crossEntropy(
  logits: Tensor,
  targets: Int32Array,
  { ignoreIndex = -100, reduction = 'mean' }: CrossEntropyOptions = {},
): Tensor {
  const V = logits.shape[logits.rank - 1];
  const R = logits.size / V;
  if (targets.length !== R)
    throw new Error(`crossEntropy: ${targets.length} targets for logits ${formatShape(logits.shape)} (${R} rows)`);
  const be = getBackend();
  const rowLoss = allocate(R, logits.data);
  be.crossEntropyForward(logits.data, targets, rowLoss, R, V, ignoreIndex);

  // Each row r contributes weight[r] * rowLoss[r] to output group[r].
  const examples = reduction === 'per-example' ? logits.shape[0] : 1;
  const groups = reduction === 'none' ? R : examples;
  const rowsPerGroup = R / groups;
  if (!Number.isInteger(rowsPerGroup)) throw new Error(`crossEntropy: ${R} rows do not split into ${groups} examples`);
  const weight = allocate(R, logits.data);
  for (let g = 0; g < groups; g++) {
    let count = 0;
    for (let r = g * rowsPerGroup; r < (g + 1) * rowsPerGroup; r++) if (targets[r] !== ignoreIndex) count++;
    const w = reduction === 'sum' || reduction === 'none' ? 1 : count > 0 ? 1 / count : 0;
    for (let r = g * rowsPerGroup; r < (g + 1) * rowsPerGroup; r++) weight[r] = targets[r] === ignoreIndex ? 0 : w;
  }
  const out = allocate(groups, logits.data);
  for (let r = 0; r < R; r++) out[Math.floor(r / rowsPerGroup)] += weight[r] * rowLoss[r];
  const shape = reduction === 'none' ? logits.shape.slice(0, -1) : reduction === 'per-example' ? [examples] : [];
  // Saves the logits (to recompute the softmax in backward) and the row weights.
  return record('crossEntropy', new Tensor(out, shape), [logits], (dOut) => {
    const rowScale = allocate(R, dOut);
    for (let r = 0; r < R; r++) rowScale[r] = weight[r] * dOut[Math.floor(r / rowsPerGroup)];
    const dLogits = allocateUninitialized(logits.size, dOut);
    be.crossEntropyBackward(logits.data, targets, rowScale, dLogits, R, V, ignoreIndex);
    return [dLogits];
  });
}
