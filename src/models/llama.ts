/**
 * The Llama family: RMSNorm, rotary positions, grouped-query attention, gated MLP, tied or untied head.
 * One decoder covers Llama, Mistral (sliding window), Qwen2 (q/k/v biases), Gemma (scaled embeddings,
 * GELU-tanh, (1 + w) norms, explicit head size) and Gemma-2 (plus attention and final logit soft-capping,
 * sandwich norms around attention and MLP, a query scale of its own, sliding window on even layers).
 * Names follow Hugging Face's *ForCausalLM modules. Legend: B batch, T time, C hidden, H heads,
 * Hkv kv heads, D head size, F MLP width, V vocabulary.
 */
import {
  Rng,
  type RopeTables,
  type Tensor,
  add,
  attention,
  embedding,
  gatherRows,
  gated,
  reshape,
  rmsNorm,
  rope,
  ropeTablesFromFrequencies,
  scale,
  tanh,
} from '../engine/index.js';
import { continuingPositions, type ForwardOptions } from './forward.js';
import { type LoraHost, type LoraLayers, project } from './lora.js';
import { ParameterSet, constantParameter, normalParameter } from './params.js';
import { scaledInverseFrequencies, type RopeScaling } from './rope-scaling.js';

export interface LlamaConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Default numHeads (plain multi-head attention). */
  numKvHeads?: number;
  /** Default hiddenSize / numHeads (Gemma sets its own). */
  headDim?: number;
  /** Rotary table length. */
  maxPositions: number;
  /** Default 10000. */
  ropeTheta?: number;
  /** Default none. */
  ropeScaling?: RopeScaling;
  /** Default 1e-5. */
  rmsNormEps?: number;
  /** Default false. */
  tieWordEmbeddings?: boolean;
  /** Rotate channel pairs (2i, 2i+1) as llama2.c does, instead of HF's (i, i + D/2). Default false. */
  ropeInterleaved?: boolean;
  /** Biases on q, k, v projections (Qwen2). Default false. */
  attentionBias?: boolean;
  /** MLP gate activation. Default 'silu'; Gemma uses 'gelu_tanh'. */
  hiddenAct?: 'silu' | 'gelu_tanh' | 'gelu';
  /** Multiply token embeddings by sqrt(hiddenSize) (Gemma). Default false. */
  scaleEmbeddings?: boolean;
  /** RMSNorm multiplies by (offset + w): Gemma stores w around 0 and uses offset 1. Default 0. */
  normWeightOffset?: number;
  /** Gemma-2's extra norms: after attention, before and after the MLP. Default false. */
  sandwichNorms?: boolean;
  /** Attention scale is queryPreAttnScalar^-0.5 (Gemma-2) instead of D^-0.5. */
  queryPreAttnScalar?: number;
  /** cap * tanh(score / cap) on attention scores (Gemma-2). Default off. */
  attnLogitSoftcap?: number;
  /** cap * tanh(logit / cap) on output logits (Gemma-2). Default off. */
  finalLogitSoftcap?: number;
  /** Sliding-window attention size (Mistral, Gemma-2). Default unlimited. */
  slidingWindow?: number;
  /** Which layers use the window: all (Mistral) or even-numbered ones (Gemma-2). Default 'all'. */
  slidingWindowLayers?: 'all' | 'even';
}

export class LlamaModel implements LoraHost {
  readonly params = new ParameterSet();
  lora: LoraLayers | null = null;
  private readonly rope: RopeTables;
  readonly headDim: number;

  /** The positions it has (generation keeps prompt and new tokens within them). */
  get maxPositions(): number {
    return this.config.maxPositions;
  }

  constructor(
    readonly config: LlamaConfig,
    /** The random initialisation's seed; null: none (zeros), for a model whose every weight a checkpoint sets. */
    seed: number | null = 0,
  ) {
    const { vocabSize: V, hiddenSize: C, intermediateSize: F, numLayers, numHeads: H } = config;
    const Hkv = config.numKvHeads ?? H;
    const D = (this.headDim = config.headDim ?? C / H);
    const normInit = config.normWeightOffset ? 0 : 1;
    const rng = seed === null ? null : new Rng(seed);
    const p = this.params;
    const norm = (name: string) => p.add(name, constantParameter([C], normInit));
    p.add('model.embed_tokens.weight', normalParameter(rng, [V, C], 0.02));
    for (let l = 0; l < numLayers; l++) {
      const L = `model.layers.${l}`;
      norm(`${L}.input_layernorm.weight`);
      for (const [proj, rows] of [
        ['q_proj', H * D],
        ['k_proj', Hkv * D],
        ['v_proj', Hkv * D],
      ] as const) {
        p.add(`${L}.self_attn.${proj}.weight`, normalParameter(rng, [rows, C], 0.02));
        if (config.attentionBias) p.add(`${L}.self_attn.${proj}.bias`, constantParameter([rows], 0));
      }
      p.add(`${L}.self_attn.o_proj.weight`, normalParameter(rng, [C, H * D], 0.02));
      norm(`${L}.post_attention_layernorm.weight`);
      if (config.sandwichNorms) {
        norm(`${L}.pre_feedforward_layernorm.weight`);
        norm(`${L}.post_feedforward_layernorm.weight`);
      }
      p.add(`${L}.mlp.gate_proj.weight`, normalParameter(rng, [F, C], 0.02));
      p.add(`${L}.mlp.up_proj.weight`, normalParameter(rng, [F, C], 0.02));
      p.add(`${L}.mlp.down_proj.weight`, normalParameter(rng, [C, F], 0.02));
    }
    norm('model.norm.weight');
    if (!config.tieWordEmbeddings) p.add('lm_head.weight', normalParameter(rng, [V, C], 0.02));
    const invFreq = scaledInverseFrequencies(D, config.ropeTheta ?? 10000, config.ropeScaling);
    this.rope = ropeTablesFromFrequencies(config.maxPositions, invFreq, config.ropeInterleaved ?? false);
  }

  /** ids [B*T] -> logits [B, T, V]. */
  forward(
    ids: Int32Array,
    B: number,
    T: number,
    { taps, keyMask, positions, cache, logitRows }: ForwardOptions = {},
  ): Tensor {
    const cfg = this.config;
    const { hiddenSize: C, numHeads: H, numLayers, rmsNormEps: eps = 1e-5, normWeightOffset: offset = 0 } = cfg;
    const Hkv = cfg.numKvHeads ?? H;
    const D = this.headDim;
    const p = (name: string) => this.params.get(name);
    const norm = (x: Tensor, name: string) => rmsNorm(x, p(name), eps, offset);
    const pos = positions ?? continuingPositions(B, T, cache?.length ?? 0);
    const attnScale = cfg.queryPreAttnScalar ? 1 / Math.sqrt(cfg.queryPreAttnScalar) : 1 / Math.sqrt(D);

    let x = embedding(p('model.embed_tokens.weight'), ids, [B, T]);
    if (cfg.scaleEmbeddings) x = scale(x, Math.fround(Math.sqrt(C)));
    if (taps) x = taps.at('embeddings', x);
    for (let l = 0; l < numLayers; l++) {
      const L = `model.layers.${l}`;
      const a = norm(x, `${L}.input_layernorm.weight`);
      const q = rope(reshape(project(this, `${L}.self_attn.q_proj`, a), [B, T, H, D]), this.rope, pos);
      let k = rope(reshape(project(this, `${L}.self_attn.k_proj`, a), [B, T, Hkv, D]), this.rope, pos);
      let v = reshape(project(this, `${L}.self_attn.v_proj`, a), [B, T, Hkv, D]);
      if (cache) [k, v] = cache.append(l, k, v);
      const windowed = cfg.slidingWindow && (cfg.slidingWindowLayers !== 'even' || l % 2 === 0);
      const y = attention(q, k, v, {
        keyMask,
        scale: attnScale,
        window: windowed ? cfg.slidingWindow : 0,
        softcap: cfg.attnLogitSoftcap ?? 0,
      });
      let attnOut = project(this, `${L}.self_attn.o_proj`, reshape(y, [B, T, H * D]));
      if (cfg.sandwichNorms) attnOut = norm(attnOut, `${L}.post_attention_layernorm.weight`);
      if (taps) attnOut = taps.at(`layers.${l}.attention`, attnOut);
      x = add(x, attnOut);
      const m = norm(
        x,
        cfg.sandwichNorms ? `${L}.pre_feedforward_layernorm.weight` : `${L}.post_attention_layernorm.weight`,
      );
      const gate = project(this, `${L}.mlp.gate_proj`, m);
      const gatedUp = gated(cfg.hiddenAct ?? 'silu', gate, project(this, `${L}.mlp.up_proj`, m)); // act(gate) * up
      let mlpOut = project(this, `${L}.mlp.down_proj`, gatedUp);
      if (cfg.sandwichNorms) mlpOut = norm(mlpOut, `${L}.post_feedforward_layernorm.weight`);
      if (taps) mlpOut = taps.at(`layers.${l}.mlp`, mlpOut);
      x = add(x, mlpOut);
      if (taps) x = taps.at(`layers.${l}.output`, x);
    }
    cache?.advance(T);
    return this.head(logitRows ? gatherRows(x, logitRows) : x);
  }

  get layerCount(): number {
    return this.config.numLayers;
  }

  /** Final norm and LM head: residual stream [B, T, C] -> logits (the logit lens when x is an inner layer's). */
  head(x: Tensor): Tensor {
    const cfg = this.config;
    const h = rmsNorm(x, this.params.get('model.norm.weight'), cfg.rmsNormEps ?? 1e-5, cfg.normWeightOffset ?? 0);
    const logits = project(this, cfg.tieWordEmbeddings ? 'model.embed_tokens' : 'lm_head', h);
    return cfg.finalLogitSoftcap ? softcap(logits, cfg.finalLogitSoftcap) : logits;
  }
}

function softcap(x: Tensor, cap: number): Tensor {
  return scale(tanh(scale(x, 1 / cap)), cap);
}
