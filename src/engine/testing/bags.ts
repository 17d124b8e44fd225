/** The zero-padded form of embeddingBag's bags, for tests and benchmarks that check it against the reference. */
import { Tensor } from '../tensor.js';

/**
 * The same bags as one [R, L] id table padded with id 0 and weights [R, L, 1] padded with 0 (L the longest bag, at
 * least 1): sum(mul(embedding(table, ids, [R, L]), weights), axis 1) is what embeddingBag computes, to the bit.
 */
export function paddedBags({
  ids,
  offsets,
  weights,
}: {
  // embeddingBag's Bags (ops/embedding.ts), which this folder may not import.
  ids: Int32Array;
  offsets: Int32Array;
  weights: Float32Array;
}): { ids: Int32Array; L: number; weights: Tensor } {
  const R = offsets.length - 1;
  let L = 1;
  for (let r = 0; r < R; r++) L = Math.max(L, offsets[r + 1] - offsets[r]);
  const paddedIds = new Int32Array(R * L);
  const paddedWeights = new Float32Array(R * L);
  for (let r = 0; r < R; r++)
    for (let k = offsets[r]; k < offsets[r + 1]; k++) {
      paddedIds[r * L + k - offsets[r]] = ids[k];
      paddedWeights[r * L + k - offsets[r]] = weights[k];
    }
  return { ids: paddedIds, L, weights: new Tensor(paddedWeights, [R, L, 1]) };
}
