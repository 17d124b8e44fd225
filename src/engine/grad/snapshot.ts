/** Exact copies of parameter values, and restoring them (Booster steps the weights and steps back). */
import type { Tensor, FloatArray } from '../tensor.js';

export type ParameterSnapshot = Map<Tensor, FloatArray>;

export function snapshotParameters(params: Iterable<Tensor>): ParameterSnapshot {
  const out: ParameterSnapshot = new Map();
  for (const p of params) out.set(p, p.data.slice());
  return out;
}

export function restoreParameters(snapshot: ParameterSnapshot): void {
  for (const [p, values] of snapshot) p.data.set(values);
}
