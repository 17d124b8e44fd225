/**
 * Batched autoregressive generation with a KV cache. Prompts of different lengths are left-padded into
 * one [B, T] batch; padding is masked out of attention and positions count real tokens only (as
 * transformers' generate() derives position_ids from the attention mask), so each row decodes exactly
 * as it would alone. Decoding is greedy, or sampling with temperature and nucleus (top-p) filtering.
 * A prompt too long for the model's context (with room for the new tokens) is cut from the left, its first token
 * (BOS) kept, as lm-evaluation-harness does: the end of an instruction and the response header stay.
 */
import { Rng, noGrad, type Tensor } from '../engine/index.js';
import type { ForwardOptions } from './forward.js';
import { KvCache } from './kv-cache.js';

export interface CausalLm {
  forward(ids: Int32Array, B: number, T: number, options?: ForwardOptions): Tensor;
  /** The positions the model has (its context): prompt and new tokens must fit. Unset: no limit. */
  readonly maxPositions?: number;
}

export interface GenerationConfig {
  /** Tokens to generate at most per prompt. Default 64. */
  maxNewTokens: number;
  /** Always take the most likely token. Default true. */
  greedy: boolean;
  /** Sampling temperature (ignored when greedy). Default 1. */
  temperature: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability reaches topP. Default 1 (off). */
  topP: number;
  /** A row stops after producing one of these; the stop token is not included in the output. Default none. */
  eosTokenIds: readonly number[];
  /** Id placed in padding slots (it is masked out, so any valid id works). Default 0. */
  padTokenId: number;
  /** Sampling seed. Default 0. */
  seed: number;
}

export const GENERATION_DEFAULTS: GenerationConfig = {
  maxNewTokens: 64,
  greedy: true,
  temperature: 1,
  topP: 1,
  eosTokenIds: [],
  padTokenId: 0,
  seed: 0,
};

export interface Generation {
  /** New tokens per prompt, without the stop token. */
  tokens: number[][];
  /** Whether each row ended on a stop token (false: it ran to maxNewTokens). */
  stopped: boolean[];
  /** Prompt tokens cut from the left of each row to fit the model's context (0: the whole prompt). */
  truncated: number[];
}

/**
 * The prompts fitted to the model's context: the last token generated sits at position length + maxNewTokens - 2,
 * so a prompt keeps at most context - maxNewTokens + 1 tokens, its first and the last ones.
 */
export function fitToContext(
  prompts: readonly (readonly number[])[],
  maxNewTokens: number,
  context: number | undefined,
): { prompts: (readonly number[])[]; truncated: number[] } {
  if (context === undefined) return { prompts: [...prompts], truncated: prompts.map(() => 0) };
  const room = context - Math.max(1, maxNewTokens) + 1;
  if (room < 2)
    throw new Error(`generate: ${maxNewTokens} new tokens leave no room for a prompt in a ${context}-position context`);
  return {
    prompts: prompts.map((p) => (p.length > room ? [p[0], ...p.slice(p.length - room + 1)] : p)),
    truncated: prompts.map((p) => Math.max(0, p.length - room)),
  };
}

export function generate(
  model: CausalLm,
  given: readonly (readonly number[])[],
  options: Partial<GenerationConfig> = {},
): Generation {
  const cfg: GenerationConfig = { ...GENERATION_DEFAULTS, ...options };
  if (given.length === 0) return { tokens: [], stopped: [], truncated: [] };
  given.forEach((p, i) => {
    if (p.length === 0) throw new Error(`generate: prompt ${i} is empty (start it with a BOS token)`);
  });
  if (!cfg.greedy && !(cfg.temperature > 0))
    throw new Error(`generate: temperature must be > 0, got ${cfg.temperature}`);
  if (!(cfg.topP > 0 && cfg.topP <= 1)) throw new Error(`generate: topP must be in (0, 1], got ${cfg.topP}`);
  const { prompts, truncated } = fitToContext(given, cfg.maxNewTokens, model.maxPositions);

  const B = prompts.length;
  const T = Math.max(...prompts.map((p) => p.length));
  const ids = new Int32Array(B * T).fill(cfg.padTokenId);
  const positions = new Int32Array(B * T);
  let mask = new Float32Array(B * T);
  const nextPosition = new Int32Array(B);
  prompts.forEach((p, b) => {
    const pad = T - p.length;
    for (let t = 0; t < p.length; t++) {
      ids[b * T + pad + t] = p[t];
      positions[b * T + pad + t] = t;
      mask[b * T + pad + t] = 1;
    }
    nextPosition[b] = p.length;
  });

  const eos = new Set(cfg.eosTokenIds);
  const rng = new Rng(cfg.seed);
  const tokens = prompts.map(() => [] as number[]);
  const stopped = new Array<boolean>(B).fill(false);
  const cache = new KvCache();
  noGrad(() => {
    // The prefill's logits at each prompt's last position only: [B, V], as every step's after it ([B, 1, V]).
    const last = Int32Array.from({ length: B }, (_, b) => b * T + T - 1);
    let logits = model.forward(ids, B, T, { keyMask: mask, positions, cache, logitRows: last });
    // The original row of each batch slot: rows that stop leave the batch (keys, values, mask, positions).
    let rows = Array.from({ length: B }, (_, b) => b);
    for (let step = 0; step < cfg.maxNewTokens; step++) {
      const V = logits.shape[logits.rank - 1];
      const live = rows.length;
      const rowsPer = logits.size / V / live; // 1, or T for a model that does not implement logitRows
      const next: number[] = [];
      for (let s = 0; s < live; s++) {
        const b = rows[s];
        const row = logits.data.subarray((s * rowsPer + rowsPer - 1) * V, (s * rowsPer + rowsPer) * V);
        const token = cfg.greedy ? argmax(row) : sampleToken(row, cfg.temperature, cfg.topP, rng);
        if (eos.has(token)) stopped[b] = true;
        else tokens[b].push(token);
        next.push(token);
      }
      if (stopped.every(Boolean) || step === cfg.maxNewTokens - 1) break;
      const Tk = cache.length + 1;
      const kept = Int32Array.from(rows.keys()).filter((s) => !stopped[rows[s]]);
      if (kept.length < live) cache.keepRows(kept);
      const grown = new Float32Array(kept.length * Tk);
      kept.forEach((s, k) => {
        grown.set(mask.subarray(s * (Tk - 1), (s + 1) * (Tk - 1)), k * Tk);
        grown[k * Tk + Tk - 1] = 1;
      });
      mask = grown;
      rows = Array.from(kept, (s) => rows[s]);
      const stepPositions = Int32Array.from(rows, (b) => nextPosition[b]++);
      const stepIds = Int32Array.from(kept, (s) => next[s]);
      logits = model.forward(stepIds, rows.length, 1, { keyMask: mask, positions: stepPositions, cache });
    }
  });
  return { tokens, stopped, truncated };
}

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
  return best;
}

/** Softmax(row / temperature), restricted to the top-p nucleus, sampled with rng. */
export function sampleToken(row: ArrayLike<number>, temperature: number, topP: number, rng: Rng): number {
  const V = row.length;
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, row[v]);
  const probs = new Float64Array(V);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += probs[v] = Math.exp((row[v] - max) / temperature);
  for (let v = 0; v < V; v++) probs[v] /= sum;
  let candidates = Array.from({ length: V }, (_, v) => v);
  let mass = 1;
  if (topP < 1) {
    candidates.sort((a, b) => probs[b] - probs[a] || a - b);
    let cumulative = 0,
      keep = 0;
    while (keep < V && cumulative < topP) cumulative += probs[candidates[keep++]];
    candidates = candidates.slice(0, keep);
    mass = cumulative;
  }
  let u = rng.uniform() * mass;
  for (const v of candidates) {
    u -= probs[v];
    if (u < 0) return v;
  }
  return candidates[candidates.length - 1];
}

/** Greedy continuation of one prompt (a convenience over generate). */
export function greedyGenerate(
  model: CausalLm,
  prompt: readonly number[],
  maxNewTokens: number,
  eos?: number,
): number[] {
  return generate(model, [prompt], { maxNewTokens, eosTokenIds: eos === undefined ? [] : [eos] }).tokens[0];
}
