/**
 * Models from a Hugging Face folder: config.json picks the architecture by model_type, the weights come
 * from model.safetensors (or its shards). Every parameter must be present with its exact shape; extra
 * tensors are an error too. GPT-2 checkpoints store Conv1D weights as [in, out]: transposed on load.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsModel, type NamedArray } from '../io/safetensors.js';
import { Gpt2Model, type Gpt2Config } from './gpt2.js';
import { LlamaModel, type LlamaConfig } from './llama.js';
import type { ParameterSet } from './params.js';

export type PretrainedModel = Gpt2Model | LlamaModel;

const BUILT = ['llama', 'mistral', 'gpt2'];
const PLANNED = ['qwen2', 'gemma', 'gemma2'];

type Json = Record<string, unknown>;

function field<T>(cfg: Json, file: string, name: string, kind: 'number' | 'boolean' | 'string', fallback?: T): T {
  const v = cfg[name];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new Error(`${file}: required field "${name}" is missing`);
  }
  if (typeof v !== kind) throw new Error(`${file}: field "${name}" should be a ${kind}, got ${JSON.stringify(v)}`);
  return v as T;
}

export function modelFromHfConfig(cfg: Json, file = 'config.json', seed = 0): PretrainedModel {
  const type = cfg.model_type;
  if (typeof type !== 'string') throw new Error(`${file}: required field "model_type" is missing`);
  const num = (name: string, fallback?: number) => field<number>(cfg, file, name, 'number', fallback);
  const bool = (name: string, fallback: boolean) => field<boolean>(cfg, file, name, 'boolean', fallback);
  switch (type) {
    case 'llama':
    case 'mistral': {
      if (cfg.rope_scaling) throw new Error(`${file}: field "rope_scaling" is not supported yet`);
      const config: LlamaConfig = {
        vocabSize: num('vocab_size'), hiddenSize: num('hidden_size'), intermediateSize: num('intermediate_size'),
        numLayers: num('num_hidden_layers'), numHeads: num('num_attention_heads'),
        numKvHeads: num('num_key_value_heads', num('num_attention_heads')), maxPositions: num('max_position_embeddings'),
        ropeTheta: num('rope_theta', 10000), rmsNormEps: num('rms_norm_eps', 1e-6), tieWordEmbeddings: bool('tie_word_embeddings', false),
      };
      return new LlamaModel(config, seed);
    }
    case 'gpt2': {
      const act = field<string>(cfg, file, 'activation_function', 'string', 'gelu_new');
      if (act !== 'gelu_new' && act !== 'gelu') throw new Error(`${file}: field "activation_function" = "${act}" is not supported (gelu_new, gelu)`);
      const config: Gpt2Config = {
        vocabSize: num('vocab_size'), nPositions: num('n_positions'), nEmbd: num('n_embd'), nLayer: num('n_layer'), nHead: num('n_head'),
        nInner: num('n_inner', 4 * num('n_embd')), layerNormEps: num('layer_norm_epsilon', 1e-5),
        tieWordEmbeddings: bool('tie_word_embeddings', true), activation: act,
      };
      return new Gpt2Model(config, seed);
    }
    default:
      throw new Error(PLANNED.includes(type)
        ? `${file}: model_type "${type}" is not implemented yet (built: ${BUILT.join(', ')})`
        : `${file}: unknown model_type "${type}" (built: ${BUILT.join(', ')}; planned: ${PLANNED.join(', ')})`);
  }
}

const CONV1D = /\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;

function transpose2d(t: NamedArray): NamedArray {
  const [rows, cols] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c];
  return { data: out, shape: [cols, rows] };
}

/** Copy checkpoint tensors into the model's parameters, asserting every name and shape. */
export function assignWeights(params: ParameterSet, tensors: Map<string, NamedArray>, source: string, gpt2: boolean): void {
  const remaining = new Set(tensors.keys());
  for (const [name, p] of params.byName) {
    // GPT2Model checkpoints (without the LM head) drop the "transformer." prefix.
    const key = tensors.has(name) ? name : gpt2 && tensors.has(name.replace(/^transformer\./, '')) ? name.replace(/^transformer\./, '') : null;
    if (!key) throw new Error(`${source}: tensor "${name}" is missing`);
    let t = tensors.get(key)!;
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
  let cfg: Json;
  try {
    cfg = JSON.parse(readFileSync(configPath, 'utf8')) as Json;
  } catch (error) {
    throw new Error(`${configPath}: not valid JSON (${(error as Error).message})`);
  }
  const model = modelFromHfConfig(cfg, configPath);
  assignWeights(model.params, readSafetensorsModel(dir), dir, model instanceof Gpt2Model);
  return model;
}
