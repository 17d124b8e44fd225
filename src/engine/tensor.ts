/**
 * Tensors: a flat typed array with a row-major shape, plus the autodiff links (the op node that made it).
 * Float32 is the working dtype; Float64 exists so that gradient checks on the reference backend can
 * measure an op's backward without float32 round-off drowning the finite differences.
 */

import { Buffer } from 'node:buffer';

export type FloatArray = Float32Array | Float64Array;
export type DType = 'float32' | 'float64';

let currentDType: DType = 'float32';

/** Run `fn` with newly created tensors in `dtype` (float64 is meant for gradient checks on the ts backend). */
export function withDType<T>(dtype: DType, fn: () => T): T {
  const previous = currentDType;
  currentDType = dtype;
  try {
    return fn();
  } finally {
    currentDType = previous;
  }
}

export function defaultDType(): DType {
  return currentDType;
}

export function allocate(size: number, like?: FloatArray): FloatArray {
  if (like) return like instanceof Float64Array ? new Float64Array(size) : new Float32Array(size);
  return currentDType === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

/**
 * Like allocate, but the contents are unspecified rather than zero: only for a buffer its caller overwrites in full
 * before anything reads it (a GEMM output with beta 0, a kernel's output). Zero-filling the fresh buffers of a LoRA
 * training step took about a tenth of it (bench:lora); Node's unsafe buffers skip that fill. Float64 (gradient
 * checks) and small buffers are zeroed as usual. PHARMACIST_POISON_UNINITIALIZED=1 fills them with NaN instead,
 * so that a caller that reads before writing shows up in the tests.
 */
export function allocateUninitialized(size: number, like?: FloatArray): FloatArray {
  const float64 = like ? like instanceof Float64Array : currentDType === 'float64';
  if (float64 || size < 1024) return allocate(size, like);
  const out = new Float32Array(Buffer.allocUnsafeSlow(size * 4).buffer, 0, size);
  if (POISON) out.fill(NaN);
  return out;
}

const POISON = process.env.PHARMACIST_POISON_UNINITIALIZED === '1';

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid dimension ${d} in shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

/** A recorded op: how to push the output gradient back to its inputs. */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Returns one gradient per input (null where the input needs none); may return views it allocated. */
  backward(dOut: FloatArray): (FloatArray | null)[];
}

export class Tensor {
  readonly data: FloatArray;
  readonly shape: readonly number[];
  /** True for parameters that train and for every value computed from them while grad is enabled. */
  requiresGrad: boolean;
  /** Accumulated gradient: parameters (leaves) always; intermediates only after `retainGrad()`. */
  grad: FloatArray | null = null;
  /** The op that produced this tensor; cleared by backward() so saved activations can be freed. */
  node: GradNode | null = null;
  retainsGrad = false;
  name: string | undefined;

  constructor(data: FloatArray, shape: readonly number[], requiresGrad = false, name?: string) {
    const n = sizeOf(shape);
    if (data.length !== n)
      throw new Error(`tensor data has ${data.length} values but shape [${shape.join(', ')}] needs ${n}`);
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = requiresGrad;
    this.name = name;
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Keep this intermediate's gradient after backward (read it from `.grad`). */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  item(): number {
    if (this.data.length !== 1)
      throw new Error(`item() needs a single value, tensor has shape [${this.shape.join(', ')}]`);
    return this.data[0];
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  /** A new leaf holding the same values, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, false, this.name);
  }

  zeroGrad(): void {
    this.grad = null;
  }
}

export function tensor(values: ArrayLike<number>, shape?: readonly number[], requiresGrad = false): Tensor {
  const data = allocate(values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i];
  return new Tensor(data, shape ?? [values.length], requiresGrad);
}

export function zeros(shape: readonly number[], requiresGrad = false): Tensor {
  return new Tensor(allocate(sizeOf(shape)), shape, requiresGrad);
}

export function full(shape: readonly number[], value: number, requiresGrad = false): Tensor {
  const t = zeros(shape, requiresGrad);
  t.data.fill(value);
  return t;
}

/** A trainable leaf. Freeze it with `p.requiresGrad = false`. */
export function parameter(data: FloatArray, shape: readonly number[], name?: string): Tensor {
  return new Tensor(data, shape, true, name);
}

export function shapeEquals(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
