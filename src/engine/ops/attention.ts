/**
 * Scaled dot-product attention with a causal mask, key padding mask and grouped-query heads.
 * q [B, Tq, H, D], k and v [B, Tk, Hkv, D] (H a multiple of Hkv) -> out [B, Tq, H, D].
 * The per-head GEMMs read q/k/v in place through leading dimensions (no transposes are materialised);
 * the forward saves the probabilities P [B, H, Tq, Tk].
 * Causal: query i sits at key position i + (Tk - Tq), so a KV cache works with Tq < Tk.
 * Options used by model families: a sliding window (Mistral, Gemma-2 local layers) and logit soft-capping
 * s -> cap * tanh(s / cap) before the softmax (Gemma-2); with soft-capping the forward also saves tanh(s / cap).
 */
import { record } from '../autograd.js';
import { getBackend } from '../backends/select.js';
import type { AttentionMaskSpec } from '../backends/backend.js';
import { Tensor, allocate, formatShape, type FloatArray } from '../tensor.js';

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
  const group = H / Hkv;
  const s = scale ?? 1 / Math.sqrt(D);
  const ldq = H * D,
    ldk = Hkv * D;
  const be = getBackend();
  const qOff = (b: number, h: number) => b * Tq * ldq + h * D;
  const kOff = (b: number, h: number) => b * Tk * ldk + Math.floor(h / group) * D;
  const pOff = (b: number, h: number) => (b * H + h) * Tq * Tk;

  const P = allocate(B * H * Tq * Tk, q.data);
  const out = allocate(q.size, q.data);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      be.gemm(false, true, Tq, Tk, D, s, q.data, qOff(b, h), ldq, k.data, kOff(b, h), ldk, 0, P, pOff(b, h), Tk);
    }
  // capped holds tanh(s / cap), needed by the backward.
  const capped = softcap > 0 ? allocate(P.length, P) : null;
  if (capped) {
    for (let i = 0; i < P.length; i++) {
      const t = Math.tanh(P[i] / softcap);
      capped[i] = t;
      P[i] = softcap * t;
    }
  }
  const mask: AttentionMaskSpec = { B, H, Tq, Tk, causalOffset: causal ? Tk - Tq : -1, keyMask, window };
  be.attentionSoftmaxForward(P, mask);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      be.gemm(false, false, Tq, D, Tk, 1, P, pOff(b, h), Tk, v.data, kOff(b, h), ldk, 0, out, qOff(b, h), ldq);
    }

  return record('attention', new Tensor(out, q.shape), [q, k, v], (dOut) => {
    const dq = allocate(q.size, dOut),
      dk = allocate(k.size, dOut),
      dv = allocate(v.size, dOut);
    const dP = allocate(Tq * Tk, dOut),
      dS = allocate(Tq * Tk, dOut);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const po = pOff(b, h),
          qo = qOff(b, h),
          ko = kOff(b, h);
        be.gemm(false, true, Tq, Tk, D, 1, dOut, qo, ldq, v.data, ko, ldk, 0, dP, 0, Tk); // dP = dO V^T
        be.gemm(true, false, Tk, D, Tq, 1, P, po, Tk, dOut, qo, ldq, 1, dv, ko, ldk); // dV += P^T dO
        be.softmaxBackward(P.subarray(po, po + Tq * Tk), dP, dS, Tq, Tk, false); // masked P = 0 -> dS = 0
        if (capped) for (let i = 0; i < dS.length; i++) dS[i] *= 1 - capped[po + i] * capped[po + i];
        be.gemm(false, false, Tq, D, Tk, s, dS, 0, Tk, k.data, ko, ldk, 0, dq, qo, ldq); // dQ = s dS K
        be.gemm(true, false, Tk, D, Tq, s, dS, 0, Tk, q.data, qo, ldq, 1, dk, ko, ldk); // dK += s dS^T Q
      }
    return [dq, dk, dv] as (FloatArray | null)[];
  });
}
