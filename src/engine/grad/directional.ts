/**
 * Directional derivative of per-example losses along a parameter direction v, by central differences:
 * (L(theta + h v) - L(theta - h v)) / 2h per example. The parameters are restored bit-exactly afterwards.
 * The step is relative: h = relativeStep / ||v||, so theta moves by relativeStep in norm.
 */
import { noGrad } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { gradNorm, stepAlong, type ReadonlyGradMap } from './grad-map.js';
import { restoreParameters, snapshotParameters } from './snapshot.js';

export interface DirectionalOptions {
  /** Norm of the parameter displacement on each side (default 1e-2, float32-friendly). */
  relativeStep?: number;
}

export function directionalDerivative(
  direction: ReadonlyGradMap,
  perExampleLoss: () => Tensor,
  { relativeStep = 1e-2 }: DirectionalOptions = {},
): Float64Array {
  const norm = gradNorm(direction);
  const params = [...direction.keys()];
  if (norm === 0) return new Float64Array(perExampleLossSize(perExampleLoss));
  const h = relativeStep / norm;
  const snapshot = snapshotParameters(params);
  const evaluate = (sign: number): Float64Array =>
    noGrad(() => {
      restoreParameters(snapshot); // theta exactly, then + (sign h) d: the same sums as base + sign * h * d
      stepAlong(params, direction, sign * h);
      return Float64Array.from(perExampleLoss().data);
    });
  try {
    const plus = evaluate(1);
    const minus = evaluate(-1);
    return plus.map((v, i) => (v - minus[i]) / (2 * h));
  } finally {
    restoreParameters(snapshot);
  }
}

function perExampleLossSize(perExampleLoss: () => Tensor): number {
  return noGrad(() => perExampleLoss().size);
}
