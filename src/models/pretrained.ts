/**
 * Models from a Hugging Face folder: config.json picks the architecture by model_type, the weights come
 * from model.safetensors (or its shards). Every parameter must be present with its exact shape; extra
 * tensors are an error too. GPT-2 checkpoints store Conv1D weights as [in, out]: transposed on load.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensorsModel, type NamedArray, type TensorSource } from '../io/safetensors.js';
import { Gpt2Model } from './gpt2.js';
import type { ParameterSet } from './params.js';
import { modelFromHfConfig, type PretrainedModel } from './registry.js';

export { modelFromHfConfig, type PretrainedModel };

const CONV1D = /\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;

function transpose2d(t: NamedArray): NamedArray {
  const [rows, cols] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c];
  return { data: out, shape: [cols, rows] };
}

/**
 * Copy checkpoint tensors into the model's parameters one at a time (peak memory: the model plus its
 * largest tensor), asserting every name and shape.
 */
export function assignWeights(params: ParameterSet, tensors: TensorSource, source: string, gpt2: boolean): void {
  const available = new Set(tensors.names);
  const remaining = new Set(tensors.names);
  for (const [name, p] of params.byName) {
    // GPT2Model checkpoints (without the LM head) drop the "transformer." prefix.
    const key = available.has(name) ? name : gpt2 && available.has(name.replace(/^transformer\./, '')) ? name.replace(/^transformer\./, '') : null;
    if (!key) throw new Error(`${source}: tensor "${name}" is missing`);
    let t = tensors.read(key);
    if (gpt2 && CONV1D.test(name)) t = transpose2d(t);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new Error(`${source}: tensor "${key}" has shape [${t.shape.join(', ')}], the model expects [${p.shape.join(', ')}]`);
    }
    p.data.set(t.data);
    remaining.delete(key);
  }
  // Tied heads are sometimes saved anyway; buffers like attn.bias masks are not weights.
  for (const name of remaining) if (/^lm_head\.weight$|\.attn\.(masked_)?bias$|rotary_emb\.inv_freq$/.test(name)) remaining.delete(name);
  if (remaining.size > 0) throw new Error(`${source}: unexpected tensors ${[...remaining].slice(0, 5).join(', ')}${remaining.size > 5 ? ', ...' : ''}`);
}

export function loadPretrained(dir: string): PretrainedModel {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new Error(`${dir}: no config.json`);
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${configPath}: not valid JSON (${(error as Error).message})`);
  }
  const model = modelFromHfConfig(cfg, configPath);
  const tensors = openSafetensorsModel(dir);
  try {
    assignWeights(model.params, tensors, dir, model instanceof Gpt2Model);
  } finally {
    tensors.close();
  }
  return model;
}
