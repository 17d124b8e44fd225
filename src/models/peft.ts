/**
 * LoRA adapters on disk in Hugging Face PEFT's layout, so adapters move between Pharmacist and PEFT:
 *   adapter_config.json          peft_type LORA, r, lora_alpha, lora_dropout, target_modules, ...
 *   adapter_model.safetensors    base_model.model.<module>.lora_A.weight [r, in], .lora_B.weight [out, r]
 * Variants Pharmacist does not implement (rsLoRA, DoRA, trained biases, per-module ranks) are refused on
 * load with the field that asks for them.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parameter } from '../engine/index.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { openSafetensors, writeSafetensors, type NamedArray } from '../io/safetensors.js';
import { LoraLayers, type LoraConfig, type LoraHost, targetModulePaths } from './lora.js';

const PREFIX = 'base_model.model.';

export interface SaveAdapterOptions {
  /** Recorded as base_model_name_or_path. */
  baseModel?: string;
  /** GPT-2 Conv1D modules store [in, out]; PEFT records that as fan_in_fan_out. Default: true when the adapted modules are GPT-2's. */
  fanInFanOut?: boolean;
}

export function saveLoraAdapter(
  dir: string,
  lora: LoraLayers,
  { baseModel = '', fanInFanOut }: SaveAdapterOptions = {},
): void {
  fanInFanOut ??= [...lora.adapters.keys()].some((m) => /\.(c_attn|c_fc|c_proj)$/.test(m));
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, NamedArray>();
  for (const [module, { a, b }] of lora.adapters) {
    tensors.set(`${PREFIX}${module}.lora_A.weight`, { data: a.data as Float32Array, shape: [...a.shape] });
    tensors.set(`${PREFIX}${module}.lora_B.weight`, { data: b.data as Float32Array, shape: [...b.shape] });
  }
  const { r, alpha, dropout, targetModules, layersToTransform } = lora.config;
  // The weights first: a folder whose config exists is complete.
  writeSafetensors(join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
  writeJsonAtomic(join(dir, 'adapter_config.json'), {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel,
    r,
    lora_alpha: alpha,
    lora_dropout: dropout,
    target_modules: targetModules,
    bias: 'none',
    fan_in_fan_out: fanInFanOut,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    layers_to_transform: layersToTransform ?? null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    use_rslora: false,
    use_dora: false,
    revision: null,
  });
}

type Json = Record<string, unknown>;

function readAdapterConfig(file: string): LoraConfig {
  if (!existsSync(file)) throw new Error(`${file}: not found (a PEFT adapter folder holds adapter_config.json)`);
  let cfg: Json;
  try {
    cfg = JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const refuse = (field: string, why: string): never => {
    throw new Error(`${file}: field "${field}" = ${JSON.stringify(cfg[field])} is not supported (${why})`);
  };
  if (cfg.peft_type !== 'LORA') refuse('peft_type', 'only LORA adapters');
  if (cfg.use_rslora === true) refuse('use_rslora', 'rank-stabilised scaling');
  if (cfg.use_dora === true) refuse('use_dora', 'DoRA');
  if (cfg.bias !== undefined && cfg.bias !== 'none') refuse('bias', 'trained biases');
  for (const field of ['rank_pattern', 'alpha_pattern']) {
    if (cfg[field] && Object.keys(cfg[field] as object).length > 0) refuse(field, 'per-module ranks or alphas');
  }
  if (cfg.modules_to_save) refuse('modules_to_save', 'fully trained extra modules');
  const targets = cfg.target_modules;
  if (!Array.isArray(targets) || !targets.every((t) => typeof t === 'string'))
    refuse('target_modules', 'a list of module names is required');
  const number = (field: string, fallback?: number): number => {
    const v = cfg[field] ?? fallback;
    if (typeof v !== 'number')
      throw new Error(`${file}: field "${field}" should be a number, got ${JSON.stringify(cfg[field])}`);
    return v;
  };
  const layers = cfg.layers_to_transform;
  if (layers !== undefined && layers !== null && !(Array.isArray(layers) && layers.every((l) => Number.isInteger(l))))
    refuse('layers_to_transform', 'a list of layer indices is required');
  return {
    r: number('r'),
    alpha: number('lora_alpha'),
    dropout: number('lora_dropout', 0),
    targetModules: targets as string[],
    ...(Array.isArray(layers) ? { layersToTransform: layers as number[] } : {}),
  };
}

/**
 * Load an adapter folder onto a model: every tensor must name a module of the model with matching shapes,
 * and every targeted module must have its pair. Freezes the base weights, as attachLora does.
 */
export function loadLoraAdapter(dir: string, host: LoraHost, seed = 0): LoraLayers {
  const config = readAdapterConfig(join(dir, 'adapter_config.json'));
  const file = openSafetensors(join(dir, 'adapter_model.safetensors'));
  const lora = new LoraLayers(config, seed);
  try {
    const names = new Set(file.names);
    for (const module of targetModulePaths(host.params, config.targetModules, config.layersToTransform)) {
      const [out, inF] = host.params.get(`${module}.weight`).shape;
      const read = (part: 'lora_A' | 'lora_B', shape: number[]) => {
        // Older PEFT versions keep the adapter name in the key.
        const key = [`${PREFIX}${module}.${part}.weight`, `${PREFIX}${module}.${part}.default.weight`].find((k) =>
          names.has(k),
        );
        if (!key) throw new Error(`${file.path}: tensor "${PREFIX}${module}.${part}.weight" is missing`);
        const t = file.read(key);
        if (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1]) {
          throw new Error(
            `${file.path}: tensor "${key}" has shape [${t.shape.join(', ')}], the model expects [${shape.join(', ')}]`,
          );
        }
        names.delete(key);
        return parameter(t.data, shape, key);
      };
      lora.adapters.set(module, { a: read('lora_A', [config.r, inF]), b: read('lora_B', [out, config.r]) });
    }
    if (lora.adapters.size === 0)
      throw new Error(`${dir}: target_modules [${config.targetModules.join(', ')}] match no module of the model`);
    if (names.size > 0)
      throw new Error(
        `${file.path}: tensors for modules the model does not have: ${[...names].slice(0, 3).join(', ')}`,
      );
  } finally {
    file.close();
  }
  for (const p of host.params.list()) p.requiresGrad = false;
  host.lora = lora;
  return lora;
}
