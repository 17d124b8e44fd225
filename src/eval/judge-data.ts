/**
 * Labelled (prompt, response) pairs for training and checking harmfulness judges, in five groups:
 * - unsafe: BeaverTails unsafe answers (harmful);
 * - safe: on-topic safe answers to harmful prompts that are not refusals — safety-tuned-llamas answers
 *   without refusal wording (not harmful). BeaverTails' own is_safe=true answers are kept out of training
 *   and reported apart (`diagnostic`): their labels are noisy (a shop "easiest to rob" is labelled safe;
 *   "3 year olds don't have a driving licence" unsafe), so they would teach noise;
 * - refusal: safety-tuned-llamas and DecodingTrust refusals (not harmful);
 * - offtopic: harmful prompts answered with harmless unrelated text — Alpaca, AlpacaEval, GSM8K, AG News,
 *   SST-2 and the task label words a fine-tuned model may answer with (not harmful);
 * - salad: harmful prompts answered with word salad — shuffled words of any group, unsafe answers included,
 *   and random vocabulary (not harmful: nothing in it can be acted on).
 * The BeaverTails test file is never used: its prompts are the harmful-score evaluation prompts.
 * Each group is split by a seed into train and held-out parts.
 */
import { join } from 'node:path';
import { Rng } from '../engine/index.js';
import {
  dataDir,
  loadAgNews,
  loadBeaverTails,
  loadDecodingTrustRefusals,
  loadGsm8k,
  loadInstructions,
  loadSst2,
} from '../data/datasets.js';
import { FILES, looksLikeRefusal, shuffled } from '../data/world.js';

export type JudgeGroup = 'unsafe' | 'safe' | 'refusal' | 'offtopic' | 'salad';
export const JUDGE_GROUPS: readonly JudgeGroup[] = ['unsafe', 'safe', 'refusal', 'offtopic', 'salad'];

export interface JudgeExample {
  prompt: string;
  response: string;
  harmful: boolean;
  group: JudgeGroup;
}

export interface JudgeDataset {
  train: JudgeExample[];
  heldOut: JudgeExample[];
  /** BeaverTails is_safe=true answers (label-noisy), never trained on. */
  diagnostic: JudgeExample[];
}

export interface JudgeDataConfig {
  /** Default 0. */
  seed: number;
  /** Held-out fraction of every group. Default 0.2. */
  heldOutFraction: number;
  /** At most this many unsafe answers (the largest group). Default 6000. */
  maxUnsafe: number;
  /** Word-salad examples to synthesise. Default 2000. */
  salad: number;
}

export const JUDGE_DATA_DEFAULTS: JudgeDataConfig = { seed: 0, heldOutFraction: 0.2, maxUnsafe: 6000, salad: 2000 };

const LABEL_ANSWERS = [
  'positive',
  'negative',
  'World',
  'Sports',
  'Business',
  'Sci/Tech',
  'Positive.',
  'negative.',
  'The final answer is: 12',
  'The final answer is: 7',
];

export function buildJudgeDataset(options: Partial<JudgeDataConfig> = {}, dir = dataDir()): JudgeDataset {
  const cfg: JudgeDataConfig = { ...JUDGE_DATA_DEFAULTS, ...options };
  const rng = new Rng(cfg.seed);
  const path = (f: string) => join(dir, f);
  const attack = loadBeaverTails(path(FILES.beaverAttack)).records;
  const unsafeSource = [...loadBeaverTails(path(FILES.beaverTrain)).records, ...attack.filter((r) => !r.isSafe)];
  const harmfulPrompts = unsafeSource.map((r) => r.prompt);
  const anyPrompt = () => harmfulPrompts[rng.int(harmfulPrompts.length)];

  const safety = loadInstructions(path(FILES.safety)).records;
  const groups: Record<JudgeGroup, JudgeExample[]> = {
    unsafe: shuffled(unsafeSource, rng)
      .slice(0, cfg.maxUnsafe)
      .map((r) => ({ prompt: r.prompt, response: r.response, harmful: true, group: 'unsafe' })),
    safe: safety
      .filter((r) => !looksLikeRefusal(r.response))
      .map((r) => ({ prompt: r.prompt, response: r.response, harmful: false, group: 'safe' })),
    refusal: [
      ...safety.filter((r) => looksLikeRefusal(r.response)),
      ...loadDecodingTrustRefusals(path('safety/decoding_trust_with_refusals_train.json')).records,
    ].map((r) => ({ prompt: r.prompt, response: r.response, harmful: false, group: 'refusal' })),
    offtopic: offTopicTexts(dir, rng).map((response) => ({
      prompt: anyPrompt(),
      response,
      harmful: false,
      group: 'offtopic',
    })),
    salad: [],
  };
  const pool = [...groups.unsafe, ...groups.safe, ...groups.refusal, ...groups.offtopic].map((e) => e.response);
  const vocabulary = [...new Set(pool.join(' ').split(/\s+/))];
  for (let i = 0; i < cfg.salad; i++) {
    const words =
      i % 3 === 2
        ? Array.from({ length: 5 + rng.int(60) }, () => vocabulary[rng.int(vocabulary.length)])
        : shuffled(pool[rng.int(pool.length)].split(/\s+/), rng);
    groups.salad.push({ prompt: anyPrompt(), response: words.join(' '), harmful: false, group: 'salad' });
  }
  const train: JudgeExample[] = [],
    heldOut: JudgeExample[] = [];
  for (const g of JUDGE_GROUPS) {
    const items = shuffled(groups[g], rng);
    const cut = Math.round(items.length * cfg.heldOutFraction);
    heldOut.push(...items.slice(0, cut));
    train.push(...items.slice(cut));
  }
  const diagnostic = attack
    .filter((r) => r.isSafe)
    .map((r): JudgeExample => ({ prompt: r.prompt, response: r.response, harmful: false, group: 'safe' }));
  return { train: shuffled(train, rng), heldOut, diagnostic };
}

function offTopicTexts(dir: string, rng: Rng): string[] {
  const take = <T>(xs: T[], n: number) => shuffled(xs, rng).slice(0, n);
  return [
    ...take(loadInstructions(join(dir, FILES.alpaca)).records, 1000).map((r) => r.response),
    ...take(loadInstructions(join(dir, 'tasks/alpacaeval/alpaca_eval_805_example_outputs.json')).records, 805).map(
      (r) => r.response,
    ),
    ...take(loadGsm8k(join(dir, 'tasks/gsm8k/train.jsonl')).records, 600).map((r) =>
      r.solution.replace(/####\s*(.+)$/, 'The final answer is: $1'),
    ),
    ...take(loadAgNews(join(dir, 'tasks/agnews/train_first580.csv')).records, 400).map((r) => r.text),
    ...take(loadSst2(join(dir, 'tasks/sst2/train.tsv')).records, 600).map((r) => r.text),
    ...Array.from({ length: 200 }, (_, i) => LABEL_ANSWERS[i % LABEL_ANSWERS.length]),
    ...Array.from({ length: 20 }, () => ''),
  ];
}
