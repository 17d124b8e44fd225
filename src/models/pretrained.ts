/**
 * Models from a Hugging Face folder: config.json picks the architecture by model_type, the weights come
 * from model.safetensors (or its shards). Every parameter must be present with its exact shape; extra
 * tensors are an error too. GPT-2 checkpoints store Conv1D weights as [in, out]: transposed on load.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic.js';
import { openSafetensorsModel, writeSafetensors, type NamedArray, type TensorSource } from '../io/safetensors.js';
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
    const key = available.has(name)
      ? name
      : gpt2 && available.has(name.replace(/^transformer\./, ''))
        ? name.replace(/^transformer\./, '')
        : null;
    if (!key) throw new Error(`${source}: tensor "${name}" is missing`);
    let t = tensors.read(key);
    if (gpt2 && CONV1D.test(name)) t = transpose2d(t);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new Error(
        `${source}: tensor "${key}" has shape [${t.shape.join(', ')}], the model expects [${p.shape.join(', ')}]`,
      );
    }
    p.data.set(t.data);
    remaining.delete(key);
  }
  // Tied heads are sometimes saved anyway; buffers like attn.bias masks are not weights.
  for (const name of remaining)
    if (/^lm_head\.weight$|\.attn\.(masked_)?bias$|rotary_emb\.inv_freq$/.test(name)) remaining.delete(name);
  if (remaining.size > 0)
    throw new Error(
      `${source}: unexpected tensors ${[...remaining].slice(0, 5).join(', ')}${remaining.size > 5 ? ', ...' : ''}`,
    );
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
  // No random draw: assignWeights sets every parameter from the file (or names the one missing).
  const model = modelFromHfConfig(cfg, configPath, null);
  const tensors = openSafetensorsModel(dir);
  try {
    assignWeights(model.params, tensors, dir, model instanceof Gpt2Model);
  } finally {
    tensors.close();
  }
  return model;
}

/** config.json fields (transformers' names) describing a model built here. */
export function hfConfigOf(model: PretrainedModel): Record<string, unknown> {
  if (model instanceof Gpt2Model) {
    const c = model.config;
    return {
      model_type: 'gpt2',
      architectures: ['GPT2LMHeadModel'],
      vocab_size: c.vocabSize,
      n_positions: c.nPositions,
      n_embd: c.nEmbd,
      n_layer: c.nLayer,
      n_head: c.nHead,
      n_inner: c.nInner ?? 4 * c.nEmbd,
      layer_norm_epsilon: c.layerNormEps ?? 1e-5,
      activation_function: c.activation ?? 'gelu_new',
      tie_word_embeddings: c.tieWordEmbeddings !== false,
    };
  }
  const c = model.config;
  const variant =
    c.attentionBias || c.scaleEmbeddings || c.sandwichNorms || c.slidingWindow || c.ropeInterleaved || c.ropeScaling;
  if (variant)
    throw new Error(
      'hfConfigOf: only plain Llama configurations are written (no family variants, no rope scaling, HF rotary layout)',
    );
  return {
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads ?? c.numHeads,
    head_dim: model.headDim,
    max_position_embeddings: c.maxPositions,
    rope_theta: c.ropeTheta ?? 10000,
    rms_norm_eps: c.rmsNormEps ?? 1e-5,
    tie_word_embeddings: c.tieWordEmbeddings ?? false,
    hidden_act: c.hiddenAct ?? 'silu',
    torch_dtype: 'float32',
  };
}

/** Write config.json and model.safetensors (float32, HF names; GPT-2 Conv1D weights transposed back). */
export function savePretrained(dir: string, model: PretrainedModel, extraConfig: Record<string, unknown> = {}): void {
  mkdirSync(dir, { recursive: true });
  const gpt2 = model instanceof Gpt2Model;
  const tensors = new Map<string, NamedArray>();
  for (const [name, p] of model.params.byName) {
    const t = { data: p.data as Float32Array, shape: [...p.shape] };
    tensors.set(name, gpt2 && CONV1D.test(name) ? transpose2d(t) : t);
  }
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  writeJsonAtomic(join(dir, 'config.json'), { ...hfConfigOf(model), ...extraConfig });
}
