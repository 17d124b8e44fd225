/**
 * GPT-2: learned positions, pre-LayerNorm blocks, GELU MLP, causal attention, tied or untied head.
 * Weights are [out, in] (nn.Linear layout); names follow Hugging Face's GPT2LMHeadModel.
 * Legend: B batch, T time, C model width, H heads, D = C / H, V vocabulary.
 */
import {
  Rng,
  type Tensor,
  attention,
  add,
  embedding,
  gatherRows,
  gelu,
  layerNorm,
  reshape,
  slice,
} from '../engine/index.js';
import { continuingPositions, type ForwardOptions } from './forward.js';
import { type LoraHost, type LoraLayers, project } from './lora.js';
import { ParameterSet, constantParameter, normalParameter } from './params.js';

export interface Gpt2Config {
  vocabSize: number;
  /** Maximum sequence length (learned position table size). */
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** MLP width, default 4 * nEmbd. */
  nInner?: number;
  /** Default 1e-5. */
  layerNormEps?: number;
  /** Share the token embedding with the output head (GPT-2 does), default true. */
  tieWordEmbeddings?: boolean;
  /** 'gelu_new' (tanh form, GPT-2's) or 'gelu' (erf), default 'gelu_new'. */
  activation?: 'gelu_new' | 'gelu';
}

export class Gpt2Model implements LoraHost {
  readonly params = new ParameterSet();
  lora: LoraLayers | null = null;

  /** The positions it has (generation keeps prompt and new tokens within them). */
  get maxPositions(): number {
    return this.config.nPositions;
  }

  constructor(
    readonly config: Gpt2Config,
    /** The random initialisation's seed; null: none (zeros), for a model whose every weight a checkpoint sets. */
    seed: number | null = 0,
  ) {
    const { vocabSize: V, nPositions, nEmbd: C, nLayer, nInner = 4 * C } = config;
    const rng = seed === null ? null : new Rng(seed);
    const p = this.params;
    p.add('transformer.wte.weight', normalParameter(rng, [V, C], 0.02));
    p.add('transformer.wpe.weight', normalParameter(rng, [nPositions, C], 0.01));
    for (let l = 0; l < nLayer; l++) {
      const h = `transformer.h.${l}`;
      p.add(`${h}.ln_1.weight`, constantParameter([C], 1));
      p.add(`${h}.ln_1.bias`, constantParameter([C], 0));
      p.add(`${h}.attn.c_attn.weight`, normalParameter(rng, [3 * C, C], 0.02));
      p.add(`${h}.attn.c_attn.bias`, constantParameter([3 * C], 0));
      p.add(`${h}.attn.c_proj.weight`, normalParameter(rng, [C, C], 0.02 / Math.sqrt(2 * nLayer)));
      p.add(`${h}.attn.c_proj.bias`, constantParameter([C], 0));
      p.add(`${h}.ln_2.weight`, constantParameter([C], 1));
      p.add(`${h}.ln_2.bias`, constantParameter([C], 0));
      p.add(`${h}.mlp.c_fc.weight`, normalParameter(rng, [nInner, C], 0.02));
      p.add(`${h}.mlp.c_fc.bias`, constantParameter([nInner], 0));
      p.add(`${h}.mlp.c_proj.weight`, normalParameter(rng, [C, nInner], 0.02 / Math.sqrt(2 * nLayer)));
      p.add(`${h}.mlp.c_proj.bias`, constantParameter([C], 0));
    }
    p.add('transformer.ln_f.weight', constantParameter([C], 1));
    p.add('transformer.ln_f.bias', constantParameter([C], 0));
    if (config.tieWordEmbeddings === false) p.add('lm_head.weight', normalParameter(rng, [V, C], 0.02));
  }

  /** ids [B*T] -> logits [B, T, V]. */
  forward(
    ids: Int32Array,
    B: number,
    T: number,
    { taps, keyMask, positions: given, cache, logitRows }: ForwardOptions = {},
  ): Tensor {
    const { nEmbd: C, nHead: H, nLayer, layerNormEps: eps = 1e-5 } = this.config;
    const positions = given ?? continuingPositions(B, T, cache?.length ?? 0);
    for (const t of positions)
      if (t >= this.config.nPositions) throw new Error(`position ${t} exceeds nPositions ${this.config.nPositions}`);
    const p = (name: string) => this.params.get(name);
    const act = this.config.activation === 'gelu' ? 'none' : 'tanh';
    let x = add(
      embedding(p('transformer.wte.weight'), ids, [B, T]),
      embedding(p('transformer.wpe.weight'), positions, [B, T]),
    );
    if (taps) x = taps.at('embeddings', x);
    for (let l = 0; l < nLayer; l++) {
      const h = `transformer.h.${l}`;
      const a = layerNorm(x, p(`${h}.ln_1.weight`), p(`${h}.ln_1.bias`), eps);
      const qkv = project(this, `${h}.attn.c_attn`, a); // [B, T, 3C]
      let [q, k, v] = splitQkv(reshape(qkv, [B, T, 3, H, C / H]), B, T, H, C / H);
      if (cache) [k, v] = cache.append(l, k, v);
      const y = reshape(attention(q, k, v, { keyMask }), [B, T, C]);
      let attnOut = project(this, `${h}.attn.c_proj`, y);
      if (taps) attnOut = taps.at(`layers.${l}.attention`, attnOut);
      x = add(x, attnOut);
      const m = layerNorm(x, p(`${h}.ln_2.weight`), p(`${h}.ln_2.bias`), eps);
      let mlpOut = project(this, `${h}.mlp.c_proj`, gelu(project(this, `${h}.mlp.c_fc`, m), act));
      if (taps) mlpOut = taps.at(`layers.${l}.mlp`, mlpOut);
      x = add(x, mlpOut);
      if (taps) x = taps.at(`layers.${l}.output`, x);
    }
    cache?.advance(T);
    return this.head(logitRows ? gatherRows(x, logitRows) : x);
  }

  get layerCount(): number {
    return this.config.nLayer;
  }

  /** Final LayerNorm and LM head: residual stream [B, T, C] -> logits. */
  head(x: Tensor): Tensor {
    const p = (name: string) => this.params.get(name);
    const h = layerNorm(x, p('transformer.ln_f.weight'), p('transformer.ln_f.bias'), this.config.layerNormEps ?? 1e-5);
    return project(this, this.config.tieWordEmbeddings === false ? 'lm_head' : 'transformer.wte', h);
  }
}

/** [B, T, 3, H, D] -> three [B, T, H, D] tensors. */
function splitQkv(qkv: Tensor, B: number, T: number, H: number, D: number): [Tensor, Tensor, Tensor] {
  const pick = (i: number) => reshape(slice(qkv, 2, i, i + 1), [B, T, H, D]);
  return [pick(0), pick(1), pick(2)];
}
