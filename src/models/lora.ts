/**
 * LoRA (Hu et al., 2021) as Hugging Face PEFT implements it: a frozen linear W [out, in] gains
 * y += (alpha / r) * B A dropout(x), with A [r, in] (Kaiming-uniform init, PEFT's default) and B [out, r]
 * (zeros, so a fresh adapter leaves the model unchanged). Modules are chosen by name suffix the way PEFT's
 * `target_modules` matches them ("q_proj" matches model.layers.3.self_attn.q_proj).
 *
 * Flows used by harmful fine-tuning defenses:
 * - single LoRA: keep training the alignment adapter during fine-tuning;
 * - double LoRA: `mergeLora` the alignment adapter into the base weights, then `attachLora` a fresh one.
 */
import { Rng, type Tensor, addLowRank, linear, parameter, allocate } from '../engine/index.js';
import type { ParameterSet } from './params.js';

export interface LoraConfig {
  /** Rank r of the update. Default 8. */
  r: number;
  /** Scaling numerator: the update is multiplied by alpha / r. Default 16. */
  alpha: number;
  /** Dropout on the adapter's input while training. Default 0.05. */
  dropout: number;
  /** Module name suffixes to adapt; empty: the architecture's (ARCHITECTURE_LORA_TARGETS). Default empty. */
  targetModules: string[];
  /** Only these decoder layers (PEFT's layers_to_transform). Default: all. */
  layersToTransform?: number[];
}

export const LORA_DEFAULTS: LoraConfig = { r: 8, alpha: 16, dropout: 0.05, targetModules: [] };

/**
 * The modules adapted when no targets are given: every attention and MLP projection of the architecture
 * (GPT-2's Conv1D names cover attention's and the MLP's c_proj both).
 */
export const ARCHITECTURE_LORA_TARGETS = {
  llama: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  gpt2: ['c_attn', 'c_proj', 'c_fc'],
} as const;

/** The default targets for a model's parameters: GPT-2's when it has c_attn modules, else Llama's. */
export function defaultLoraTargets(params: ParameterSet): string[] {
  const gpt2 = [...params.byName.keys()].some((name) => name.endsWith('.attn.c_attn.weight'));
  return [...ARCHITECTURE_LORA_TARGETS[gpt2 ? 'gpt2' : 'llama']];
}

export interface LoraAdapter {
  /** [r, in] */
  a: Tensor;
  /** [out, r] */
  b: Tensor;
}

/** The adapters of one model, keyed by module path (the weight's name without ".weight"). */
export class LoraLayers {
  readonly adapters = new Map<string, LoraAdapter>();
  /** Dropout is active only while training. */
  training = true;
  private readonly dropoutRng: Rng;

  constructor(
    readonly config: LoraConfig,
    seed = 0,
  ) {
    this.dropoutRng = new Rng(seed ^ 0x5eed);
  }

  get scaling(): number {
    return this.config.alpha / this.config.r;
  }

  /** y + scaling * B A dropout(x) when `module` is adapted, else y (one fused op, see addLowRank). */
  apply(module: string, x: Tensor, y: Tensor): Tensor {
    const adapter = this.adapters.get(module);
    if (!adapter) return y;
    const p = this.config.dropout;
    // One draw of the seeded stream per call keys the mask (the backend hashes it per element).
    const dropout = this.training && p > 0 ? { p, seed: this.dropoutRng.nextUint32() } : null;
    // y is the base linear's fresh output, read by nothing else (linear's backward needs x and W, not y).
    return addLowRank(y, x, adapter.a, adapter.b, this.scaling, dropout, true);
  }

  parameters(): Tensor[] {
    return [...this.adapters.values()].flatMap(({ a, b }) => [a, b]);
  }
}

/** What a model exposes to carry adapters: its parameters and a slot for the adapter set. */
export interface LoraHost {
  readonly params: ParameterSet;
  lora: LoraLayers | null;
}

/** A linear layer of a host model, with its adapter when it has one. Models route every projection here. */
export function project(host: LoraHost, module: string, x: Tensor): Tensor {
  const y = linear(x, host.params.get(`${module}.weight`), host.params.byName.get(`${module}.bias`) ?? null);
  return host.lora ? host.lora.apply(module, x, y) : y;
}

/** Module paths (weight name minus ".weight") whose last component is one of the targets. */
export function targetModulePaths(
  params: ParameterSet,
  targets: readonly string[],
  layers?: readonly number[],
): string[] {
  const out: string[] = [];
  for (const [name, t] of params.byName) {
    if (!name.endsWith('.weight') || t.rank !== 2) continue;
    const module = name.slice(0, -'.weight'.length);
    if (!targets.some((target) => module === target || module.endsWith(`.${target}`))) continue;
    const layer = /\.(?:layers|h)\.(\d+)\./.exec(module);
    if (layers && (!layer || !layers.includes(Number(layer[1])))) continue;
    out.push(module);
  }
  return out;
}

/**
 * Attach fresh adapters to the targeted modules and freeze every base weight, so that backward reaches
 * only the adapters. Replaces any adapter set already attached (merge it first to keep its update).
 */
export function attachLora(host: LoraHost, options: Partial<LoraConfig> = {}, seed = 0): LoraLayers {
  const given: LoraConfig = { ...LORA_DEFAULTS, ...options };
  // The adapter records the targets it was given, or the architecture's it resolved to.
  const config = {
    ...given,
    targetModules: given.targetModules.length > 0 ? given.targetModules : defaultLoraTargets(host.params),
  };
  if (!(Number.isInteger(config.r) && config.r > 0))
    throw new Error(`LoRA: r must be a positive integer, got ${config.r}`);
  const modules = targetModulePaths(host.params, config.targetModules, config.layersToTransform);
  if (modules.length === 0)
    throw new Error(`LoRA: no module matches target_modules [${config.targetModules.join(', ')}]`);
  const lora = new LoraLayers(config, seed);
  const rng = new Rng(seed);
  for (const module of modules) {
    const [out, inF] = host.params.get(`${module}.weight`).shape;
    // kaiming_uniform_(a=sqrt(5)) on [r, in] is U(-1/sqrt(in), 1/sqrt(in)).
    const bound = 1 / Math.sqrt(inF);
    const a = allocate(config.r * inF);
    for (let i = 0; i < a.length; i++) a[i] = (2 * rng.uniform() - 1) * bound;
    lora.adapters.set(module, {
      a: parameter(a, [config.r, inF], `${module}.lora_A.weight`),
      b: parameter(allocate(out * config.r), [out, config.r], `${module}.lora_B.weight`),
    });
  }
  for (const p of host.params.list()) p.requiresGrad = false;
  host.lora = lora;
  return lora;
}

/** W += scaling * B A for every adapter, then detach the adapters (the base stays frozen). */
export function mergeLora(host: LoraHost): void {
  const lora = host.lora;
  if (!lora) throw new Error('mergeLora: the model has no LoRA adapters attached');
  for (const [module, { a, b }] of lora.adapters) {
    const w = host.params.get(`${module}.weight`);
    const [out, inF] = w.shape;
    const r = a.shape[0];
    const s = lora.scaling;
    for (let o = 0; o < out; o++) {
      for (let k = 0; k < r; k++) {
        const coef = s * b.data[o * r + k];
        if (coef === 0) continue;
        const row = o * inF,
          arow = k * inF;
        for (let i = 0; i < inF; i++) w.data[row + i] += coef * a.data[arow + i];
      }
    }
  }
  host.lora = null;
}

/** Make every base weight trainable again (full fine-tuning after LoRA work). */
export function unfreezeBase(host: LoraHost): void {
  for (const p of host.params.list()) p.requiresGrad = true;
}
