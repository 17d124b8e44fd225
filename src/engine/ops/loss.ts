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
  /**
   * With 'per-example': the example of each row (values 0..count-1) and the number of examples, for logits whose
   * rows are not [B, T] in order (a causal LM's logits at its supervised positions only). Default: row r belongs
   * to example floor(r / (R / B)), B = logits.shape[0].
   */
  rowExample?: { index: Int32Array; count: number };
}

export function crossEntropy(
  logits: Tensor,
  targets: Int32Array,
  { ignoreIndex = -100, reduction = 'mean', rowExample }: CrossEntropyOptions = {},
): Tensor {
  const V = logits.shape[logits.rank - 1];
  const R = logits.size / V;
  if (targets.length !== R)
    throw new Error(`crossEntropy: ${targets.length} targets for logits ${formatShape(logits.shape)} (${R} rows)`);
  const be = getBackend();
  const rowLoss = allocate(R, logits.data);
  be.crossEntropyForward(logits.data, targets, rowLoss, R, V, ignoreIndex);

  // Each row r contributes weight[r] * rowLoss[r] to output group[r].
  const perExample = reduction === 'per-example';
  if (rowExample && (!perExample || rowExample.index.length !== R))
    throw new Error(`crossEntropy: rowExample needs reduction 'per-example' and one example index per row (${R})`);
  const examples = perExample ? (rowExample?.count ?? logits.shape[0]) : 1;
  const groups = reduction === 'none' ? R : examples;
  const rowsPerGroup = R / groups;
  if (!rowExample && !Number.isInteger(rowsPerGroup))
    throw new Error(`crossEntropy: ${R} rows do not split into ${groups} examples`);
  if (rowExample?.index.some((g) => !(g >= 0 && g < examples)))
    throw new Error(`crossEntropy: rowExample indices must lie in 0..${examples - 1}`);
  const group = (r: number) => (rowExample ? rowExample.index[r] : Math.floor(r / rowsPerGroup));
  const counts = new Float64Array(groups);
  for (let r = 0; r < R; r++) if (targets[r] !== ignoreIndex) counts[group(r)]++;
  const weight = allocate(R, logits.data);
  for (let r = 0; r < R; r++) {
    const count = counts[group(r)];
    const w = reduction === 'sum' || reduction === 'none' ? 1 : count > 0 ? 1 / count : 0;
    weight[r] = targets[r] === ignoreIndex ? 0 : w;
  }
  const out = allocate(groups, logits.data);
  for (let r = 0; r < R; r++) out[group(r)] += weight[r] * rowLoss[r];
  const shape = reduction === 'none' ? logits.shape.slice(0, -1) : perExample ? [examples] : [];
  // Saves the logits (to recompute the softmax in backward) and the row weights.
  return record('crossEntropy', new Tensor(out, shape), [logits], (dOut) => {
    const rowScale = allocate(R, dOut);
    for (let r = 0; r < R; r++) rowScale[r] = weight[r] * dOut[group(r)];
    const dLogits = allocateUninitialized(logits.size, dOut);
    be.crossEntropyBackward(logits.data, targets, rowScale, dLogits, R, V, ignoreIndex);
    return [dLogits];
  });
}
