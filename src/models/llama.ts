/**
 * Llama: RMSNorm, rotary positions, grouped-query attention, SwiGLU MLP, tied or untied head.
 * Names follow Hugging Face's LlamaForCausalLM. Legend: B batch, T time, C hidden, H heads, Hkv kv heads, D head size.
 */
import { Rng, type ActivationTaps, type RopeTables, type Tensor, add, attention, embedding, linear, mul, reshape, rmsNorm, rope, ropeTables, silu } from '../engine/index.js';
import { ParameterSet, constantParameter, normalParameter } from './params.js';

export interface LlamaConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Default numHeads (plain multi-head attention). */
  numKvHeads?: number;
  /** Rotary table length. */
  maxPositions: number;
  /** Default 10000. */
  ropeTheta?: number;
  /** Default 1e-5. */
  rmsNormEps?: number;
  /** Default false. */
  tieWordEmbeddings?: boolean;
  /** Rotate channel pairs (2i, 2i+1) as llama2.c does, instead of HF's (i, i + D/2). Default false. */
  ropeInterleaved?: boolean;
}

export interface LlamaForwardOptions {
  taps?: ActivationTaps;
  keyMask?: Float32Array;
  /** [B*T] absolute positions (default 0..T-1 per sequence). */
  positions?: Int32Array;
}

export class LlamaModel {
  readonly params = new ParameterSet();
  private readonly rope: RopeTables;

  constructor(readonly config: LlamaConfig, seed = 0) {
    const { vocabSize: V, hiddenSize: C, intermediateSize: F, numLayers, numHeads: H } = config;
    const Hkv = config.numKvHeads ?? H;
    const D = C / H;
    const rng = new Rng(seed);
    const p = this.params;
    p.add('model.embed_tokens.weight', normalParameter(rng, [V, C], 0.02));
    for (let l = 0; l < numLayers; l++) {
      const L = `model.layers.${l}`;
      p.add(`${L}.input_layernorm.weight`, constantParameter([C], 1));
      p.add(`${L}.self_attn.q_proj.weight`, normalParameter(rng, [H * D, C], 0.02));
      p.add(`${L}.self_attn.k_proj.weight`, normalParameter(rng, [Hkv * D, C], 0.02));
      p.add(`${L}.self_attn.v_proj.weight`, normalParameter(rng, [Hkv * D, C], 0.02));
      p.add(`${L}.self_attn.o_proj.weight`, normalParameter(rng, [C, H * D], 0.02));
      p.add(`${L}.post_attention_layernorm.weight`, constantParameter([C], 1));
      p.add(`${L}.mlp.gate_proj.weight`, normalParameter(rng, [F, C], 0.02));
      p.add(`${L}.mlp.up_proj.weight`, normalParameter(rng, [F, C], 0.02));
      p.add(`${L}.mlp.down_proj.weight`, normalParameter(rng, [C, F], 0.02));
    }
    p.add('model.norm.weight', constantParameter([C], 1));
    if (!config.tieWordEmbeddings) p.add('lm_head.weight', normalParameter(rng, [V, C], 0.02));
    this.rope = ropeTables(config.maxPositions, D, config.ropeTheta ?? 10000, config.ropeInterleaved ?? false);
  }

  /** ids [B*T] -> logits [B, T, V]. */
  forward(ids: Int32Array, B: number, T: number, { taps, keyMask, positions }: LlamaForwardOptions = {}): Tensor {
    const { hiddenSize: C, numHeads: H, numLayers, rmsNormEps: eps = 1e-5 } = this.config;
    const Hkv = this.config.numKvHeads ?? H;
    const D = C / H;
    const p = (name: string) => this.params.get(name);
    let x = embedding(p('model.embed_tokens.weight'), ids, [B, T]);
    for (let l = 0; l < numLayers; l++) {
      const L = `model.layers.${l}`;
      const a = rmsNorm(x, p(`${L}.input_layernorm.weight`), eps);
      const q = rope(reshape(linear(a, p(`${L}.self_attn.q_proj.weight`)), [B, T, H, D]), this.rope, positions);
      const k = rope(reshape(linear(a, p(`${L}.self_attn.k_proj.weight`)), [B, T, Hkv, D]), this.rope, positions);
      const v = reshape(linear(a, p(`${L}.self_attn.v_proj.weight`)), [B, T, Hkv, D]);
      let attnOut = linear(reshape(attention(q, k, v, { keyMask }), [B, T, C]), p(`${L}.self_attn.o_proj.weight`));
      if (taps) attnOut = taps.at(`layers.${l}.attention`, attnOut);
      x = add(x, attnOut);
      const m = rmsNorm(x, p(`${L}.post_attention_layernorm.weight`), eps);
      const gated = mul(silu(linear(m, p(`${L}.mlp.gate_proj.weight`))), linear(m, p(`${L}.mlp.up_proj.weight`)));
      let mlpOut = linear(gated, p(`${L}.mlp.down_proj.weight`));
      if (taps) mlpOut = taps.at(`layers.${l}.mlp`, mlpOut);
      x = add(x, mlpOut);
    }
    x = rmsNorm(x, p('model.norm.weight'), eps);
    return linear(x, this.config.tieWordEmbeddings ? p('model.embed_tokens.weight') : p('lm_head.weight'));
  }
}
