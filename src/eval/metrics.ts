/**
 * The two numbers of the harmful fine-tuning literature, measured by generating for real:
 * - harmful score: the percentage of evaluation prompts whose greedy response the judge flags;
 * - fine-tune accuracy: SST-2 and AG News by the label word found in the response (the earliest one that
 *   appears wins), GSM8K by the final number; for open tasks (Alpaca) it is reported as not measured unless
 *   an external judge compares answers, never invented.
 * Prompts use the Alpaca template (no input for harmful prompts) with the configured profile.
 */
import {
  DEFAULT_PROMPT_PROFILE,
  promptIdsIn,
  type InstructionExample,
  type PromptStyle,
} from '../data/prompt-format.js';
import type { TaskExample } from '../data/tasks.js';
import { generate, GENERATION_DEFAULTS, type CausalLm } from '../models/generate.js';
import type { Tokenizer } from '../tokenizers/index.js';
import type { Judge } from './judges/judge.js';

export interface GenerationTarget {
  model: CausalLm;
  tokenizer: Tokenizer;
  eosTokenIds: number[];
}

export interface EvalConfig {
  profile: PromptStyle;
  /** Default 64. */
  maxNewTokens: number;
  /** Prompts per generation batch (sorted by length to limit padding). Default 32. */
  batchSize: number;
}

export const EVAL_DEFAULTS: EvalConfig = {
  profile: DEFAULT_PROMPT_PROFILE,
  maxNewTokens: GENERATION_DEFAULTS.maxNewTokens,
  batchSize: 32,
};

/** Greedy responses to instruction prompts, in input order. */
export function respond(
  target: GenerationTarget,
  examples: readonly InstructionExample[],
  options: Partial<EvalConfig> = {},
): string[] {
  const cfg = { ...EVAL_DEFAULTS, ...options };
  const encoded = examples.map((e) => promptIdsIn(cfg.profile, target.tokenizer, e));
  const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].length - encoded[b].length || a - b);
  const out = new Array<string>(examples.length);
  let cut = 0;
  for (let s = 0; s < order.length; s += cfg.batchSize) {
    const idx = order.slice(s, s + cfg.batchSize);
    const gen = generate(
      target.model,
      idx.map((i) => encoded[i]),
      { maxNewTokens: cfg.maxNewTokens, eosTokenIds: target.eosTokenIds, padTokenId: target.eosTokenIds[0] ?? 0 },
    );
    idx.forEach((i, k) => {
      out[i] = target.tokenizer.decode(gen.tokens[k], { skipSpecialTokens: true }).trim();
    });
    cut += gen.truncated.filter((n) => n > 0).length;
  }
  if (cut > 0)
    console.error(
      `evaluation: ${cut} of ${examples.length} prompts did not fit the model's ${target.model.maxPositions}-position ` +
        `context with ${cfg.maxNewTokens} new tokens and were cut from the left (their first token kept)`,
    );
  return out;
}

export interface HarmfulScore {
  /** Percentage of prompts judged harmful, 0..100. */
  score: number;
  flagged: number;
  total: number;
  /** `categories` only where the judge named some (an external guard such as Llama Guard). */
  responses: { prompt: string; response: string; harmful: boolean; score: number; categories?: string[] }[];
}

export async function harmfulScore(
  target: GenerationTarget,
  prompts: readonly string[],
  judge: Judge,
  options: Partial<EvalConfig> = {},
): Promise<HarmfulScore> {
  return scoreResponses(prompts, respondToPrompts(target, prompts, options), judge);
}

/** Greedy responses to bare prompts (no input), in order. */
export function respondToPrompts(
  target: GenerationTarget,
  prompts: readonly string[],
  options: Partial<EvalConfig> = {},
): string[] {
  return respond(
    target,
    prompts.map((p) => ({ instruction: p, output: '' })),
    options,
  );
}

/** The harmful score of responses already generated (generation and judging can happen at different times). */
export async function scoreResponses(
  prompts: readonly string[],
  responses: readonly string[],
  judge: Judge,
): Promise<HarmfulScore> {
  const verdicts = await judge.judge(prompts.map((prompt, i) => ({ prompt, response: responses[i] })));
  const flagged = verdicts.filter((v) => v.harmful).length;
  return {
    score: (100 * flagged) / Math.max(1, prompts.length),
    flagged,
    total: prompts.length,
    responses: prompts.map((prompt, i) => ({
      prompt,
      response: responses[i],
      harmful: verdicts[i].harmful,
      score: verdicts[i].score,
      ...(verdicts[i].categories ? { categories: verdicts[i].categories } : {}),
    })),
  };
}

/** The earliest label word in the response (case-insensitive, whole word), or null. */
export function predictLabel(response: string, labels: readonly string[]): string | null {
  let best: string | null = null,
    bestAt = Infinity;
  const text = response.toLowerCase();
  for (const label of labels) {
    const m = new RegExp(`(^|[^a-z])${label.toLowerCase().replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}($|[^a-z])`).exec(
      text,
    );
    if (m && m.index < bestAt) {
      best = label;
      bestAt = m.index;
    }
  }
  return best;
}

/** GSM8K's final number: after "The final answer is", else after "####", else the last number. */
export function finalNumber(response: string): string | null {
  const marked = /(?:final answer is:?|####)\s*\$?(-?[\d,]*\.?\d+)/i.exec(response);
  const raw = marked?.[1] ?? response.match(/-?[\d,]*\.?\d+/g)?.at(-1) ?? null;
  if (raw === null) return null;
  const n = Number(raw.replace(/,/g, ''));
  return Number.isFinite(n) ? String(n) : null;
}

export interface TaskAccuracy {
  /** Percentage correct, 0..100; null when the task cannot be scored without an external judge. */
  accuracy: number | null;
  total: number;
  /** Predictions per label (classification), to see whether the model answers one label for everything. */
  predicted: Record<string, number>;
  /** Share of the most frequent gold label: the accuracy of always answering it. */
  majorityRate: number | null;
  note?: string;
  responses: { input: string; response: string; gold: string; correct: boolean }[];
}

export function taskAccuracy(
  target: GenerationTarget,
  task: string,
  labels: readonly string[],
  examples: readonly TaskExample[],
  options: Partial<EvalConfig> = {},
): TaskAccuracy {
  if (task === 'alpaca') {
    return {
      accuracy: null,
      total: examples.length,
      predicted: {},
      majorityRate: null,
      note: 'AlpacaEval win rate needs an external judge (--judge http); not measured',
      responses: [],
    };
  }
  const responses = respond(target, examples, { maxNewTokens: task === 'gsm8k' ? 256 : 8, ...options });
  const predicted: Record<string, number> = {};
  const rows = examples.map((e, i) => {
    const guess = task === 'gsm8k' ? finalNumber(responses[i]) : predictLabel(responses[i], labels);
    const key = guess ?? '(none)';
    predicted[key] = (predicted[key] ?? 0) + 1;
    const correct = guess !== null && (task === 'gsm8k' ? Number(guess) === Number(e.answer) : guess === e.answer);
    return { input: e.input || e.instruction, response: responses[i], gold: e.answer, correct };
  });
  const gold: Record<string, number> = {};
  for (const e of examples) gold[e.answer] = (gold[e.answer] ?? 0) + 1;
  return {
    accuracy: (100 * rows.filter((r) => r.correct).length) / Math.max(1, rows.length),
    total: rows.length,
    predicted,
    majorityRate: task === 'gsm8k' ? null : (100 * Math.max(...Object.values(gold))) / Math.max(1, examples.length),
    responses: rows,
  };
}
