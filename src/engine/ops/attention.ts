/**
 * Scaled dot-product attention with a causal mask, key padding mask and grouped-query heads.
 * q [B, Tq, H, D], k and v [B, Tk, Hkv, D] (H a multiple of Hkv) -> out [B, Tq, H, D].
 * The backend's attentionForward / attentionBackward run every (batch, head) slice in one call, reading q/k/v in
 * place through leading dimensions (no transposes are materialised); the forward saves the probabilities
 * P [B, H, Tq, Tk].
 * Causal: query i sits at key position i + (Tk - Tq), so a KV cache works with Tq < Tk.
 * Options used by model families: a sliding window (Mistral, Gemma-2 local layers) and logit soft-capping
 * s -> cap * tanh(s / cap) before the softmax (Gemma-2); with soft-capping the forward also saves tanh(s / cap).
 */
import { record } from '../autograd.js';
import { getBackend } from '../backends/select.js';
import type { AttentionSpec } from '../backends/backend.js';
import { Tensor, allocateUninitialized, formatShape, type FloatArray } from '../tensor.js';

export interface AttentionOptions {
  causal?: boolean;
  /** [B, Tk]: nonzero where the key is a real token, 0 where it is padding. */
  keyMask?: Float32Array | null;
  /** Defaults to 1/sqrt(D). */
  scale?: number;
  /** Causal sliding window: each query sees at most this many keys, itself included. 0 = unlimited. */
  window?: number;
  /** Soft-cap the scaled scores: cap * tanh(s / cap). 0 = off. */
  softcap?: number;
}

export function attention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  { causal = true, keyMask = null, scale, window = 0, softcap = 0 }: AttentionOptions = {},
): Tensor {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) throw new Error('attention: q, k, v must be [B, T, heads, D]');
  const [B, Tq, H, D] = q.shape;
  const [Bk, Tk, Hkv, Dk] = k.shape;
  if (Bk !== B || Dk !== D || H % Hkv !== 0 || v.shape.some((d, i) => d !== k.shape[i])) {
    throw new Error(
      `attention: q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)} are inconsistent`,
    );
  }
  if (keyMask && keyMask.length !== B * Tk)
    throw new Error(`attention: keyMask has ${keyMask.length} entries, expected B*Tk = ${B * Tk}`);
  const spec: AttentionSpec = {
    B,
    H,
    Hkv,
    Tq,
    Tk,
    D,
    scale: scale ?? 1 / Math.sqrt(D),
    softcap,
    causalOffset: causal ? Tk - Tq : -1,
    keyMask,
    window,
  };
  const be = getBackend();
  // One backend call for all batch x head slices (the native kernel threads over them).
  const P = allocateUninitialized(B * H * Tq * Tk, q.data);
  // capped holds tanh(s / cap), needed by the backward.
  const capped = softcap > 0 ? allocateUninitialized(P.length, P) : null;
  const out = allocateUninitialized(q.size, q.data);
  be.attentionForward(q.data, k.data, v.data, P, capped, out, spec);

  return record('attention', new Tensor(out, q.shape), [q, k, v], (dOut) => {
    const dq = allocateUninitialized(q.size, dOut),
      dk = allocateUninitialized(k.size, dOut),
      dv = allocateUninitialized(v.size, dOut);
    be.attentionBackward(q.data, k.data, v.data, P, capped, dOut, dq, dk, dv, spec);
    return [dq, dk, dv] as (FloatArray | null)[];
  });
}
