/** Embedding lookup: gather rows of weight [V, C]; backward scatter-adds into the used rows. Also gatherRows and
 * embeddingBag (weighted sums of rows without materialising them). */
import { record } from '../autograd.js';
import { Tensor, allocate, allocateUninitialized, formatShape } from '../tensor.js';
import { reshape } from './shape.js';

/** ids: token ids laid out as `shape` (e.g. [B, T]); returns [...shape, C]. */
export function embedding(weight: Tensor, ids: Int32Array, shape: readonly number[] = [ids.length]): Tensor {
  if (weight.rank !== 2) throw new Error(`embedding: weight must be [V, C], got ${formatShape(weight.shape)}`);
  const [V, C] = weight.shape;
  const out = allocateUninitialized(ids.length * C, weight.data);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!(id >= 0 && id < V)) throw new Error(`embedding: id ${id} at position ${i} is outside the table of ${V} rows`);
    out.set(weight.data.subarray(id * C, (id + 1) * C), i * C);
  }
  // Saves the ids only.
  return record('embedding', new Tensor(out, [...shape, C]), [weight], (dOut) => {
    const dW = allocate(weight.size, dOut);
    for (let i = 0; i < ids.length; i++) {
      const o = ids[i] * C;
      for (let c = 0; c < C; c++) dW[o + c] += dOut[i * C + c];
    }
    return [dW];
  });
}

/**
 * Rows `rows` of x viewed as [R, C] (R = x.size / C) -> [K, C]; backward scatter-adds into zeros. An embedding
 * lookup whose table is x: what a causal LM uses to compute logits at a few positions only.
 */
export function gatherRows(x: Tensor, rows: Int32Array): Tensor {
  const C = x.shape[x.rank - 1];
  return embedding(x.rank === 2 ? x : reshape(x, [x.size / C, C]), rows);
}

/** embeddingBag's inputs: ids one bag after another, where each bag starts (one more offset than bags, the last
 * ids.length), and each id's weight. */
export interface Bags {
  ids: Int32Array;
  offsets: Int32Array;
  weights: Float32Array;
}

/** The bags that average each id list: 1 / length as each id's weight (float32). */
export function meanBags(lists: readonly (readonly number[])[]): Bags {
  const offsets = new Int32Array(lists.length + 1);
  lists.forEach((l, b) => (offsets[b + 1] = offsets[b] + l.length));
  return {
    ids: Int32Array.from(lists.flat()),
    offsets,
    weights: Float32Array.from(lists.flatMap((l) => l.map(() => 1 / l.length))),
  };
}

/**
 * Weighted sums of table rows, one per bag (PyTorch's EmbeddingBag with offsets and per-sample weights): bag r is
 * sum over k in [offsets[r], offsets[r + 1]) of weights[k] * weight[ids[k]], so `offsets` has R + 1 entries and
 * ends at ids.length; returns [R, C] (an empty bag gives zeros). The weights are data, not parameters: no gradient
 * flows to them. Backward scatter-adds weights[k] * dOut[r] into row ids[k].
 *
 * Why not embedding, mul and sum: bags of very different sizes padded to the longest cost that size times the batch,
 * through the generic broadcast. The sums here are taken in the same order and with the same float32 roundings as
 * sum(mul(embedding(weight, paddedIds), paddedWeights), axis 1) with zero weights on the padding (tested to the bit).
 */
export function embeddingBag(weight: Tensor, ids: Int32Array, offsets: Int32Array, weights: Float32Array): Tensor {
  if (weight.rank !== 2) throw new Error(`embeddingBag: weight must be [V, C], got ${formatShape(weight.shape)}`);
  if (weights.length !== ids.length)
    throw new Error(`embeddingBag: ${weights.length} weights for ${ids.length} ids (one each)`);
  const R = offsets.length - 1;
  if (R < 0 || offsets[0] !== 0 || offsets[R] !== ids.length)
    throw new Error(
      `embeddingBag: offsets must run from 0 to ids.length (${ids.length}), got ${offsets.length} of them`,
    );
  const [V, C] = weight.shape;
  const W = weight.data;
  const out = allocate(R * C, W);
  // A float32 product is rounded before it is added, as mul then sum would round it; a float64 one is kept.
  const f32 = !(W instanceof Float64Array);
  for (let r = 0; r < R; r++) {
    if (offsets[r + 1] < offsets[r]) throw new Error(`embeddingBag: offsets decrease at bag ${r}`);
    for (let k = offsets[r]; k < offsets[r + 1]; k++) {
      const id = ids[k];
      if (!(id >= 0 && id < V))
        throw new Error(`embeddingBag: id ${id} at position ${k} is outside the table of ${V} rows`);
      const w = weights[k];
      const o = id * C;
      for (let c = 0; c < C; c++) {
        const p = W[o + c] * w;
        out[r * C + c] += f32 ? Math.fround(p) : p;
      }
    }
  }
  // Saves the ids, offsets and weights.
  return record('embeddingBag', new Tensor(out, [R, C]), [weight], (dOut) => {
    const dW = allocate(weight.size, dOut);
    const g32 = !(dOut instanceof Float64Array);
    for (let r = 0; r < R; r++)
      for (let k = offsets[r]; k < offsets[r + 1]; k++) {
        const o = ids[k] * C;
        const w = weights[k];
        for (let c = 0; c < C; c++) {
          const p = dOut[r * C + c] * w;
          dW[o + c] += g32 ? Math.fround(p) : p;
        }
      }
    return [dW];
  });
}
