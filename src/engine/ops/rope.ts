/**
 * Rotary position embedding on x [B, T, H, D]. The caller supplies cos/sin tables [P, rotaryDim/2]
 * (so theta, scaling schemes and partial rotary stay in model code) and a position per (b, t).
 */
import { record } from '../autograd.js';
import { getBackend } from '../backends/select.js';
import { Tensor, allocate, allocateUninitialized, formatShape, type FloatArray } from '../tensor.js';

export interface RopeTables {
  cos: FloatArray;
  sin: FloatArray;
  /** Number of leading channels of each head that rotate (even, <= D). */
  rotaryDim: number;
  /** Rotate pairs (2i, 2i+1) as in llama2.c / GPT-J, instead of (i, i + rotaryDim/2) as in HF Llama. */
  interleaved: boolean;
}

/** Standard inverse frequencies theta^(-2i/rotaryDim), i < rotaryDim/2. */
export function ropeInverseFrequencies(rotaryDim: number, theta = 10000): Float64Array {
  return Float64Array.from({ length: rotaryDim / 2 }, (_, i) => Math.pow(theta, (-2 * i) / rotaryDim));
}

/** Standard tables: inverse frequency theta^(-2i/rotaryDim), positions 0..maxPositions-1. */
export function ropeTables(
  maxPositions: number,
  rotaryDim: number,
  theta = 10000,
  interleaved = false,
  like?: FloatArray,
): RopeTables {
  return ropeTablesFromFrequencies(maxPositions, ropeInverseFrequencies(rotaryDim, theta), interleaved, like);
}

/** Tables from explicit inverse frequencies (rotaryDim = 2 * invFreq.length): scaled-RoPE schemes supply their own. */
export function ropeTablesFromFrequencies(
  maxPositions: number,
  invFreq: ArrayLike<number>,
  interleaved = false,
  like?: FloatArray,
): RopeTables {
  const half = invFreq.length;
  const rotaryDim = 2 * half;
  const cos = allocate(maxPositions * half, like),
    sin = allocate(maxPositions * half, like);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * invFreq[i];
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin, rotaryDim, interleaved };
}

/** positions: [B*T] absolute positions (defaults to 0..T-1 for every sequence). */
export function rope(x: Tensor, tables: RopeTables, positions?: Int32Array): Tensor {
  if (x.rank !== 4) throw new Error(`rope: expected [B, T, H, D], got ${formatShape(x.shape)}`);
  const [B, T, H, D] = x.shape;
  if (tables.rotaryDim > D || tables.rotaryDim % 2 !== 0)
    throw new Error(`rope: rotaryDim ${tables.rotaryDim} must be even and <= head size ${D}`);
  const maxP = tables.cos.length / (tables.rotaryDim / 2);
  const pos = positions ?? Int32Array.from({ length: B * T }, (_, i) => i % T);
  for (let i = 0; i < pos.length; i++)
    if (pos[i] < 0 || pos[i] >= maxP) throw new Error(`rope: position ${pos[i]} is outside the ${maxP}-position table`);
  const be = getBackend();
  const y = allocateUninitialized(x.size, x.data);
  be.rope(x.data, y, tables.cos, tables.sin, pos, B * T, H, D, tables.rotaryDim, tables.interleaved, false);
  // Saves nothing but the positions: the backward is the inverse rotation.
  return record('rope', new Tensor(y, x.shape), [x], (dy) => {
    const dx = allocateUninitialized(x.size, dy);
    be.rope(dy, dx, tables.cos, tables.sin, pos, B * T, H, D, tables.rotaryDim, tables.interleaved, true);
    return [dx];
  });
}
