/**
 * The selector plug-in interface: rank the alignment pool (higher score = more worth keeping); the core
 * subset is the top k. Model-based selectors get the base model and its tokenizer; every selector gets the
 * pool, the validation and harmful sets and a seed. One ranking serves every defense.
 */
import type { InstructionExample, PromptProfile } from '../data/prompt-format.js';
import type { PretrainedModel } from '../models/pretrained.js';
import type { Tokenizer } from '../tokenizers/index.js';

export interface SelectionInput {
  pool: readonly InstructionExample[];
  validation: readonly InstructionExample[];
  harmful: readonly InstructionExample[];
  /** The base model (selectors attach and discard their own adapters). */
  model?: PretrainedModel;
  tokenizer?: Tokenizer;
  eosTokenId?: number;
  padTokenId?: number;
  profile: PromptProfile;
  /** Truncation in tokens. */
  maxLength: number;
  seed: number;
  log: (line: string) => void;
}

export interface Ranking {
  /** One score per pool sample, in pool order. */
  scores: number[];
  /** Selector-specific trajectory and diagnostics, recorded in the manifest. */
  trace?: unknown;
}

export interface Selector {
  readonly name: string;
  readonly needsModel: boolean;
  select(input: SelectionInput): Promise<Ranking>;
}

/** Pool indices of the top k by score (ties: lower index first). */
export function topK(scores: readonly number[], k: number): number[] {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  return order.slice(0, Math.max(0, Math.min(k, scores.length)));
}

/** k from a ratio (rounded) or an explicit count. */
export function subsetSize(poolSize: number, { ratio, count }: { ratio?: number; count?: number }): number {
  if (count !== undefined) {
    if (!(Number.isInteger(count) && count > 0 && count <= poolSize)) throw new Error(`subset count must be an integer in 1..${poolSize}, got ${count}`);
    return count;
  }
  const r = ratio ?? 0.4;
  if (!(r > 0 && r <= 1)) throw new Error(`subset ratio must be in (0, 1], got ${r}`);
  return Math.max(1, Math.round(r * poolSize));
}
