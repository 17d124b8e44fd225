/** What every causal LM's forward takes besides ids: taps, padding, positions and the KV cache. */
import type { ActivationTaps } from '../engine/index.js';
import type { KvCache } from './kv-cache.js';

export interface ForwardOptions {
  taps?: ActivationTaps;
  /** [B, Tk] key padding mask over cached + new positions, 1 = token, 0 = padding. */
  keyMask?: Float32Array;
  /** [B*T] absolute positions (default: continue from the cache, 0..T-1 without one). */
  positions?: Int32Array;
  /** Keys/values of earlier positions; this call appends its own. */
  cache?: KvCache;
  /**
   * Compute logits only at these rows of the flattened [B*T] positions: the result is [K, V] instead of [B, T, V]
   * (Hugging Face's logits_to_keep, for any set of positions). Training on responses needs them at the supervised
   * positions only, generation's prefill at the last one.
   */
  logitRows?: Int32Array;
}

/** Positions start .. start+T-1 for every sequence. */
export function continuingPositions(B: number, T: number, start: number): Int32Array {
  return Int32Array.from({ length: B * T }, (_, i) => start + (i % T));
}
