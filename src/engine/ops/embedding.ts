/** Embedding lookup: gather rows of weight [V, C]; backward scatter-adds into the used rows. Also gatherRows. */
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
