/**
 * The selector plug-in interface: rank the alignment pool (higher score = more worth keeping); the core
 * subset is the top k. Model-based selectors get the base model and its tokenizer; every selector gets the
 * pool, the validation and harmful sets and a seed. One ranking serves every defense.
 */
import {
  supervisedIn,
  type InstructionExample,
  type PromptStyle,
  type SupervisedExample,
} from '../data/prompt-format.js';
import { attachLora, LORA_DEFAULTS, type LoraConfig, type LoraLayers } from '../models/lora.js';
import { sftLora } from '../train/sft.js';
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
  profile: PromptStyle;
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
  /** The knobs it runs with, for selectors that have any (recorded in the selection manifest). */
  readonly config?: object;
  select(input: SelectionInput): Promise<Ranking>;
}

/** Pool indices of the top k by score (ties: lower index first). */
export function topK(scores: readonly number[], k: number): number[] {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  return order.slice(0, Math.max(0, Math.min(k, scores.length)));
}

/** k from a ratio (rounded) or an explicit count. */
/** The kept fraction of the pool when none is given (the paper's 40%): the CLI, grids and the demo default to it. */
export const DEFAULT_RATIO = 0.4;

export function subsetSize(poolSize: number, { ratio, count }: { ratio?: number; count?: number }): number {
  if (count !== undefined) {
    if (!(Number.isInteger(count) && count > 0 && count <= poolSize))
      throw new Error(`subset count must be an integer in 1..${poolSize}, got ${count}`);
    return count;
  }
  const r = ratio ?? DEFAULT_RATIO;
  if (!(r > 0 && r <= 1)) throw new Error(`subset ratio must be in (0, 1], got ${r}`);
  return Math.max(1, Math.round(r * poolSize));
}

/** What a model-based selector works with: the model, the special ids and the sets tokenized. */
export interface EncodedSelection {
  model: PretrainedModel;
  tokenizer: Tokenizer;
  eosTokenId: number;
  padTokenId: number;
  encode(examples: readonly InstructionExample[]): SupervisedExample[];
}

/**
 * Run a model-based selector's work with an adapter it attaches (`attach`) and that is removed afterwards,
 * whatever happens: selectors leave the base model as they found it.
 */
export function withSelectionAdapter<T>(
  input: SelectionInput,
  selector: string,
  attach: (s: EncodedSelection) => LoraLayers,
  fn: (s: EncodedSelection, lora: LoraLayers) => T,
): T {
  const { model, tokenizer, eosTokenId, padTokenId } = input;
  if (!model || !tokenizer || eosTokenId === undefined || padTokenId === undefined)
    throw new Error(`${selector} selector: needs the base model and its tokenizer`);
  const s: EncodedSelection = {
    model,
    tokenizer,
    eosTokenId,
    padTokenId,
    encode: (xs) =>
      xs.map((e) => supervisedIn(input.profile, tokenizer, e, { maxLength: input.maxLength, eosTokenId })),
  };
  try {
    const lora = attach(s);
    lora.training = false;
    return fn(s, lora);
  } finally {
    model.lora = null;
  }
}

/**
 * The selection adapter: a fresh LoRA (dropout off), or one trained `epochs` passes of SFT on the pool first
 * (a warm start: scores taken where alignment is heading rather than at the unaligned base model).
 */
export function selectionAdapter(
  s: EncodedSelection,
  input: SelectionInput,
  warmup: { epochs: number; lr: number },
  lora: LoraConfig = { ...LORA_DEFAULTS, dropout: 0 },
): LoraLayers {
  if (warmup.epochs <= 0) return attachLora(s.model, lora, input.seed);
  return sftLora(
    s.model,
    s.tokenizer,
    input.pool,
    s.eosTokenId,
    s.padTokenId,
    {
      epochs: warmup.epochs,
      lr: warmup.lr,
      maxLength: input.maxLength,
      profile: input.profile,
      seed: input.seed,
      lora,
    },
    (l) => input.log(`warm-up ${l}`),
  ).lora;
}
