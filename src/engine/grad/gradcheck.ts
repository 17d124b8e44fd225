/**
 * Finite-difference gradient check. The output is projected on a fixed random tensor R (loss = <f(x), R>),
 * so every output element's gradient is exercised; each input element is perturbed by ±h and the central
 * difference compared with the analytic gradient. Run in float64 (withDType) for a tight check.
 */
import { backward, noGrad } from '../autograd.js';
import { Rng } from '../rng.js';
import { Tensor, allocate, type FloatArray } from '../tensor.js';

export interface GradcheckOptions {
  /** Perturbation size (default 1e-6 in float64, 1e-2 in float32). */
  step?: number;
  seed?: number;
  /** Check at most this many elements per input (chosen at random), default all. */
  maxElementsPerInput?: number;
}

export interface GradcheckReport {
  /** max |analytic - numeric| / max(max |numeric|, 1e-3), per input (NaN for inputs without grad). */
  relativeErrors: number[];
  maxRelativeError: number;
}

export function gradcheck(
  fn: (inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  const double = inputs.some((t) => t.data instanceof Float64Array);
  const h = options.step ?? (double ? 1e-6 : 1e-2);
  const rng = new Rng(options.seed ?? 1234);
  const probe = noGrad(() => fn(inputs));
  const projection = allocate(probe.size, probe.data);
  for (let i = 0; i < projection.length; i++) projection[i] = rng.normal();
  const objective = (): number => {
    const out = noGrad(() => fn(inputs));
    let s = 0;
    for (let i = 0; i < out.size; i++) s += out.data[i] * projection[i];
    return s;
  };

  for (const t of inputs) t.grad = null;
  const out = fn(inputs);
  backward(out, { gradient: projection });

  const relativeErrors = inputs.map((t) => {
    if (!t.requiresGrad) return Number.NaN;
    const analytic: FloatArray = t.grad ?? allocate(t.size, t.data);
    const indices = pickIndices(t.size, options.maxElementsPerInput, rng);
    let maxDiff = 0,
      maxNumeric = 0;
    for (const i of indices) {
      const original = t.data[i];
      t.data[i] = original + h;
      const plus = objective();
      t.data[i] = original - h;
      const minus = objective();
      t.data[i] = original;
      const numeric = (plus - minus) / (2 * h);
      maxDiff = Math.max(maxDiff, Math.abs(numeric - analytic[i]));
      maxNumeric = Math.max(maxNumeric, Math.abs(numeric));
    }
    return maxDiff / Math.max(maxNumeric, 1e-3);
  });
  const finite = relativeErrors.filter((e) => !Number.isNaN(e));
  return { relativeErrors, maxRelativeError: finite.length ? Math.max(...finite) : 0 };
}

function pickIndices(size: number, max: number | undefined, rng: Rng): number[] {
  const all = Array.from({ length: size }, (_, i) => i);
  if (max === undefined || size <= max) return all;
  return rng.shuffle(all).slice(0, max);
}
