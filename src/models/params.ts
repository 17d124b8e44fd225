/** Named parameter sets: models keep their weights in a flat, ordered name -> tensor map (HF-style names). */
import { Rng, Tensor, allocate, parameter, sizeOf } from '../engine/index.js';

export class ParameterSet {
  readonly byName = new Map<string, Tensor>();

  add(name: string, t: Tensor): Tensor {
    if (this.byName.has(name)) throw new Error(`parameter "${name}" is defined twice`);
    t.name = name;
    this.byName.set(name, t);
    return t;
  }

  get(name: string): Tensor {
    const t = this.byName.get(name);
    if (!t) throw new Error(`no parameter named "${name}"`);
    return t;
  }

  list(): Tensor[] {
    return [...this.byName.values()];
  }

  count(): number {
    let n = 0;
    for (const t of this.byName.values()) n += t.size;
    return n;
  }
}

/** Normal(0, std) weights, the GPT-2 / Llama initialisation (std 0.02). */
/**
 * A parameter drawn from N(0, std^2), or zeros without an rng: a model built to be filled from a checkpoint, which
 * sets every weight (a missing one is an error), skips the draw (0.35 s of the embedded model's load).
 */
export function normalParameter(rng: Rng | null, shape: readonly number[], std: number): Tensor {
  const data = allocate(sizeOf(shape));
  if (rng) for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
  return parameter(data, shape);
}

export function constantParameter(shape: readonly number[], value: number): Tensor {
  const data = allocate(sizeOf(shape)).fill(value);
  return parameter(data, shape);
}
