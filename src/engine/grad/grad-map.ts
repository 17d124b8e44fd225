/**
 * Gradient maps: one flat array per parameter (or per named activation), the currency of the gradient-based
 * selectors and defenses. The helpers accumulate in the same order the callers' loops always did (map order,
 * then element order, in float64), so swapping a loop for a call changes no bit of a result.
 */
import { backward } from '../autograd.js';
import { allocate, type FloatArray, type Tensor } from '../tensor.js';

/** Keyed by parameter (or by activation name), in a fixed insertion order; each array is flat, the key's size. */
export type GradMap<K = Tensor> = Map<K, FloatArray>;
export type ReadonlyGradMap<K = Tensor> = ReadonlyMap<K, FloatArray>;

/** Gradient of a scalar loss for `params`, returned as copies (zeros where unused); the params' .grad are left null. */
export function gradientOf(params: readonly Tensor[], loss: () => Tensor): { value: number; grad: GradMap } {
  for (const p of params) p.grad = null;
  const l = loss();
  backward(l);
  const grad: GradMap = new Map();
  for (const p of params) grad.set(p, p.grad ? p.grad.slice() : allocate(p.size, p.data));
  for (const p of params) p.grad = null;
  return { value: l.item(), grad };
}

/** L2 norm over a whole map (or one array): a single float64 running sum, map order then element order. */
export function gradNorm(g: ReadonlyGradMap<unknown> | FloatArray): number {
  let s = 0;
  for (const d of ArrayBuffer.isView(g) ? [g] : g.values()) for (let i = 0; i < d.length; i++) s += d[i] * d[i];
  return Math.sqrt(s);
}

/** target += factor * source, key by key (source must hold every key of target). */
export function addScaled<K>(target: GradMap<K>, source: ReadonlyGradMap<K>, factor: number): void {
  for (const [k, t] of target) {
    const d = source.get(k)!;
    for (let i = 0; i < t.length; i++) t[i] += factor * d[i];
  }
}

/** Move the parameters along a direction in place: p.data += factor * direction(p). */
export function stepAlong(params: readonly Tensor[], direction: ReadonlyGradMap, factor: number): void {
  for (const p of params) {
    const d = direction.get(p)!;
    for (let i = 0; i < d.length; i++) p.data[i] += factor * d[i];
  }
}
