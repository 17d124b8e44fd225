/** LayerNorm and RMSNorm over the last dimension C (rows R = size / C). */
import { record } from '../autograd.js';
import { getBackend } from '../backends/select.js';
import { Tensor, allocate, allocateUninitialized, formatShape } from '../tensor.js';

function checkWeight(op: string, x: Tensor, w: Tensor): number {
  const C = x.shape[x.rank - 1];
  if (w.rank !== 1 || w.shape[0] !== C)
    throw new Error(`${op}: weight ${formatShape(w.shape)} does not match last dim of ${formatShape(x.shape)}`);
  return C;
}

export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor | null, eps = 1e-5): Tensor {
  const C = checkWeight('layerNorm', x, weight);
  if (bias) checkWeight('layerNorm', x, bias);
  const R = x.size / C;
  const be = getBackend();
  const y = allocateUninitialized(x.size, x.data);
  const mean = allocate(R, x.data),
    rstd = allocate(R, x.data);
  be.layerNormForward(x.data, weight.data, bias?.data ?? null, y, mean, rstd, R, C, eps);
  // Saves x, mean and rstd [R].
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record('layerNorm', new Tensor(y, x.shape), inputs, (dy) => {
    const dx = allocateUninitialized(x.size, dy);
    const dw = weight.requiresGrad ? allocate(C, dy) : null;
    const db = bias?.requiresGrad ? allocate(C, dy) : null;
    be.layerNormBackward(x.data, weight.data, mean, rstd, dy, dx, dw, db, R, C);
    return [x.requiresGrad ? dx : null, dw, db];
  });
}

/** y = x / rms(x) * (weightOffset + weight); Gemma stores weights around 0 and uses weightOffset 1. */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6, weightOffset = 0): Tensor {
  const C = checkWeight('rmsNorm', x, weight);
  const R = x.size / C;
  const be = getBackend();
  const y = allocateUninitialized(x.size, x.data);
  const rstd = allocate(R, x.data);
  be.rmsNormForward(x.data, weight.data, y, rstd, R, C, eps, weightOffset);
  // Saves x and rstd [R].
  return record('rmsNorm', new Tensor(y, x.shape), [x, weight], (dy) => {
    const dx = allocateUninitialized(x.size, dy);
    const dw = weight.requiresGrad ? allocate(C, dy) : null;
    be.rmsNormBackward(x.data, weight.data, rstd, dy, dx, dw, R, C, weightOffset);
    return [x.requiresGrad ? dx : null, dw];
  });
}
