/** Elementwise functions (exp, log, sqrt, tanh, sigmoid, SiLU, GELU in erf and tanh forms, ReLU) on the backend. */
import { record } from '../autograd.js';
import { getBackend } from '../backends/select.js';
import type { UnaryKind } from '../backends/backend.js';
import { Tensor, allocateUninitialized, formatShape } from '../tensor.js';

function unary(kind: UnaryKind, x: Tensor): Tensor {
  const be = getBackend();
  const y = allocateUninitialized(x.size, x.data);
  be.unaryForward(kind, x.data, y);
  // Saves x and y: each derivative is cheapest from one or the other.
  return record(kind, new Tensor(y, x.shape), [x], (dy) => {
    const dx = allocateUninitialized(x.size, dy);
    be.unaryBackward(kind, x.data, y, dy, dx);
    return [dx];
  });
}

export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const silu = (x: Tensor): Tensor => unary('silu', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** GELU; approximate 'tanh' is the GPT-2 / gelu_pytorch_tanh form. */
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor =>
  unary(approximate === 'tanh' ? 'gelu_tanh' : 'gelu', x);

/**
 * f(gate) * up in one op, f one of the activations above: the gated MLP of the Llama family (SwiGLU with silu,
 * GeGLU with gelu / gelu_tanh), without the activation's output as a tensor of its own. Saves gate and up only
 * (the backward recomputes f(gate)).
 */
export function gated(kind: UnaryKind, gate: Tensor, up: Tensor): Tensor {
  if (gate.size !== up.size || gate.shape.some((d, i) => d !== up.shape[i]))
    throw new Error(`gated: gate ${formatShape(gate.shape)} and up ${formatShape(up.shape)} differ`);
  const be = getBackend();
  const out = allocateUninitialized(gate.size, gate.data);
  be.gatedForward(kind, gate.data, up.data, out);
  return record(`gated ${kind}`, new Tensor(out, gate.shape), [gate, up], (dOut) => {
    const dGate = allocateUninitialized(gate.size, dOut),
      dUp = allocateUninitialized(up.size, dOut);
    be.gatedBackward(kind, gate.data, up.data, dOut, dGate, dUp);
    return [dGate, dUp];
  });
}
