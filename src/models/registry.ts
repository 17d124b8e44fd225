/**
 * model_type -> model builder, reading Hugging Face `config.json` fields. Each entry states which fields
 * it reads and their defaults as the transformers config classes define them; a missing required field,
 * a wrong type or an unsupported option is an error that names the file and the field.
 */
import { Gpt2Model, type Gpt2Config } from './gpt2.js';
import { LlamaModel, type LlamaConfig } from './llama.js';
import type { RopeScaling } from './rope-scaling.js';

export type PretrainedModel = Gpt2Model | LlamaModel;
type Json = Record<string, unknown>;

/** Typed access to one config file's fields. */
class ConfigFields {
  constructor(
    readonly cfg: Json,
    readonly file: string,
  ) {}

  private get<T>(name: string, kind: 'number' | 'boolean' | 'string', fallback?: T): T {
    const v = this.cfg[name];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new Error(`${this.file}: required field "${name}" is missing`);
    }
    if (typeof v !== kind)
      throw new Error(`${this.file}: field "${name}" should be a ${kind}, got ${JSON.stringify(v)}`);
    return v as T;
  }

  num = (name: string, fallback?: number): number => this.get<number>(name, 'number', fallback);
  bool = (name: string, fallback: boolean): boolean => this.get<boolean>(name, 'boolean', fallback);
  str = (name: string, fallback?: string): string => this.get<string>(name, 'string', fallback);
  optionalNum = (name: string): number | undefined =>
    this.cfg[name] === undefined || this.cfg[name] === null ? undefined : this.num(name);

  unsupported(name: string, why: string): never {
    throw new Error(`${this.file}: field "${name}" = ${JSON.stringify(this.cfg[name])} is not supported (${why})`);
  }
}

function ropeScaling(f: ConfigFields): RopeScaling | undefined {
  const raw = f.cfg.rope_scaling as Json | null | undefined;
  if (!raw) return undefined;
  const type = raw.rope_type ?? raw.type;
  const sub = new ConfigFields(raw, `${f.file} (rope_scaling)`);
  if (type === 'default') return undefined;
  if (type === 'linear') return { type, factor: sub.num('factor') };
  if (type === 'llama3') {
    return {
      type,
      factor: sub.num('factor'),
      lowFreqFactor: sub.num('low_freq_factor'),
      highFreqFactor: sub.num('high_freq_factor'),
      originalMaxPositions: sub.num('original_max_position_embeddings'),
    };
  }
  return f.unsupported('rope_scaling', 'rope types: default, linear, llama3');
}

const ACTIVATIONS: Record<string, LlamaConfig['hiddenAct']> = {
  silu: 'silu',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_new: 'gelu_tanh',
  gelu: 'gelu',
};

function activation(f: ConfigFields, field: string, fallback: string): LlamaConfig['hiddenAct'] {
  const name = f.str(field, fallback);
  return ACTIVATIONS[name] ?? f.unsupported(field, `activations: ${Object.keys(ACTIVATIONS).join(', ')}`);
}

/** Fields shared by every Llama-family config. */
function llamaBase(f: ConfigFields, rmsEpsDefault: number, tieDefault: boolean): LlamaConfig {
  const heads = f.num('num_attention_heads');
  return {
    vocabSize: f.num('vocab_size'),
    hiddenSize: f.num('hidden_size'),
    intermediateSize: f.num('intermediate_size'),
    numLayers: f.num('num_hidden_layers'),
    numHeads: heads,
    numKvHeads: f.num('num_key_value_heads', heads),
    headDim: f.optionalNum('head_dim'),
    maxPositions: f.num('max_position_embeddings'),
    ropeTheta: f.num('rope_theta', 10000),
    ropeScaling: ropeScaling(f),
    rmsNormEps: f.num('rms_norm_eps', rmsEpsDefault),
    tieWordEmbeddings: f.bool('tie_word_embeddings', tieDefault),
  };
}

// Gemma ignores `hidden_act` (old configs say "gelu") and uses hidden_activation, default GELU-tanh.
const BUILDERS: Record<string, (f: ConfigFields, seed: number | null) => PretrainedModel> = {
  llama: (f, seed) => {
    if (f.bool('attention_bias', false)) f.unsupported('attention_bias', 'Llama with biased projections');
    if (f.bool('mlp_bias', false)) f.unsupported('mlp_bias', 'Llama with biased MLP');
    return new LlamaModel({ ...llamaBase(f, 1e-6, false), hiddenAct: activation(f, 'hidden_act', 'silu') }, seed);
  },
  mistral: (f, seed) =>
    new LlamaModel(
      {
        ...llamaBase(f, 1e-6, false),
        hiddenAct: activation(f, 'hidden_act', 'silu'),
        slidingWindow: f.optionalNum('sliding_window'),
      },
      seed,
    ),
  qwen2: (f, seed) => {
    if (f.bool('use_sliding_window', false)) f.unsupported('use_sliding_window', 'Qwen2 sliding-window layers');
    return new LlamaModel(
      { ...llamaBase(f, 1e-6, false), hiddenAct: activation(f, 'hidden_act', 'silu'), attentionBias: true },
      seed,
    );
  },
  gemma: (f, seed) =>
    new LlamaModel(
      {
        ...llamaBase(f, 1e-6, true),
        headDim: f.num('head_dim', 256),
        hiddenAct: activation(f, 'hidden_activation', 'gelu_pytorch_tanh'),
        scaleEmbeddings: true,
        normWeightOffset: 1,
      },
      seed,
    ),
  gemma2: (f, seed) =>
    new LlamaModel(
      {
        ...llamaBase(f, 1e-6, true),
        headDim: f.num('head_dim', 256),
        hiddenAct: activation(f, 'hidden_activation', 'gelu_pytorch_tanh'),
        scaleEmbeddings: true,
        normWeightOffset: 1,
        sandwichNorms: true,
        queryPreAttnScalar: f.num('query_pre_attn_scalar', 256),
        attnLogitSoftcap: f.optionalNum('attn_logit_softcapping'),
        finalLogitSoftcap: f.optionalNum('final_logit_softcapping'),
        slidingWindow: f.optionalNum('sliding_window'),
        slidingWindowLayers: 'even',
      },
      seed,
    ),
  gpt2: (f, seed) => {
    const act = f.str('activation_function', 'gelu_new');
    if (act !== 'gelu_new' && act !== 'gelu') f.unsupported('activation_function', 'gelu_new, gelu');
    const config: Gpt2Config = {
      vocabSize: f.num('vocab_size'),
      nPositions: f.num('n_positions'),
      nEmbd: f.num('n_embd'),
      nLayer: f.num('n_layer'),
      nHead: f.num('n_head'),
      nInner: f.num('n_inner', 4 * f.num('n_embd')),
      layerNormEps: f.num('layer_norm_epsilon', 1e-5),
      tieWordEmbeddings: f.bool('tie_word_embeddings', true),
      activation: act as Gpt2Config['activation'],
    };
    return new Gpt2Model(config, seed);
  },
};

export const MODEL_TYPES = Object.keys(BUILDERS);

export function modelFromHfConfig(cfg: Json, file = 'config.json', seed: number | null = 0): PretrainedModel {
  const type = cfg.model_type;
  if (typeof type !== 'string') throw new Error(`${file}: required field "model_type" is missing`);
  const build = BUILDERS[type];
  if (!build) throw new Error(`${file}: unknown model_type "${type}" (supported: ${MODEL_TYPES.join(', ')})`);
  return build(new ConfigFields(cfg, file), seed);
}
