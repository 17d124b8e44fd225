/**
 * Right-padded training batches: ids [B, T] with the pad id, next-token targets [B, T] (labels shifted
 * left by one, IGNORE_INDEX where there is no next token or it is padding / prompt), and the key mask.
 */
import { IGNORE_INDEX, type SupervisedExample } from './prompt-format.js';

export interface TokenBatch {
  B: number;
  T: number;
  ids: Int32Array;
  /** targets[b, t] = labels[b, t + 1]: the token position t must predict. */
  targets: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  keyMask: Float32Array;
}

export function collate(examples: readonly SupervisedExample[], padTokenId: number): TokenBatch {
  const B = examples.length;
  const T = Math.max(1, ...examples.map((e) => e.ids.length));
  const ids = new Int32Array(B * T).fill(padTokenId);
  const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
  const keyMask = new Float32Array(B * T);
  examples.forEach((e, b) => {
    for (let t = 0; t < e.ids.length; t++) {
      ids[b * T + t] = e.ids[t];
      keyMask[b * T + t] = 1;
      if (t + 1 < e.ids.length) targets[b * T + t] = e.labels[t + 1];
    }
  });
  return { B, T, ids, targets, keyMask };
}
