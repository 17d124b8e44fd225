/**
 * Keys and values of earlier positions, per layer, for incremental decoding. Each step appends the new
 * [B, T, Hkv, D] keys/values along time; attention then runs the new queries against all cached keys.
 * Appending copies (the attention GEMMs want one contiguous [B, Tk, Hkv, D] block); at decode time that
 * copy costs about as much as reading the cache once, which attention does anyway.
 */
import { concat, gatherRows, reshape, type Tensor } from '../engine/index.js';

export class KvCache {
  private readonly keys: Tensor[] = [];
  private readonly values: Tensor[] = [];
  /** Positions already cached. */
  length = 0;

  /** Append this step's k, v for one layer; returns the full cached k, v (past + new). */
  append(layer: number, k: Tensor, v: Tensor): [Tensor, Tensor] {
    const pastK = this.keys[layer],
      pastV = this.values[layer];
    const fullK = pastK ? concat([pastK, k], 1) : k;
    const fullV = pastV ? concat([pastV, v], 1) : v;
    this.keys[layer] = fullK;
    this.values[layer] = fullV;
    return [fullK, fullV];
  }

  /**
   * Keep only these batch rows, in this order, in every layer: rows that have finished decoding leave the
   * batch, so later steps do not compute them (each row's attention reads its own keys only).
   */
  keepRows(rows: Int32Array): void {
    const keep = (t: Tensor) => {
      const [B, ...rest] = t.shape;
      return reshape(gatherRows(reshape(t, [B, t.size / B]), rows), [rows.length, ...rest]);
    };
    for (let l = 0; l < this.keys.length; l++) {
      if (!this.keys[l]) continue;
      this.keys[l] = keep(this.keys[l]);
      this.values[l] = keep(this.values[l]);
    }
  }

  /** Called by the model after the last layer of a step. */
  advance(steps: number): void {
    this.length += steps;
  }
}
