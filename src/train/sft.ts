/**
 * Supervised fine-tuning with LoRA on instruction data, loss on the response and EOS only: the plain SFT
 * alignment baseline and the harmful fine-tuning attack both run through it. Returns the trained adapter,
 * still attached; merge it (double LoRA) or keep training it (single LoRA) as the flow requires.
 */
import { performance } from 'node:perf_hooks';
import { noGrad } from '../engine/index.js';
import { collate, lengthOrderedBatches, supervisedBatches, type TokenBatch } from '../data/batch.js';
import { causalLmLoss } from '../models/lm-loss.js';
import {
  DEFAULT_PROMPT_PROFILE,
  supervisedIn,
  type InstructionExample,
  type PromptStyle,
  type SupervisedExample,
} from '../data/prompt-format.js';
import {
  ARCHITECTURE_LORA_TARGETS,
  attachLora,
  LORA_DEFAULTS,
  type LoraConfig,
  type LoraHost,
  type LoraLayers,
} from '../models/lora.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { int, number, text, type KnobValues } from '../config/knobs.js';
import { train, type TrainableLm, type TrainResult } from './trainer.js';

export interface SftConfig {
  /** Default: LORA_DEFAULTS (r 8, alpha 16, dropout 0.05, all attention and MLP projections). */
  lora: LoraConfig;
  /** Default 3. */
  epochs: number;
  /**
   * Optimizer steps; null (default): epochs x steps per epoch. Set it to train on more data for no more steps,
   * e.g. the step-matched Full arm: the whole pool for the steps a k-sample subset gets (stepsFor).
   */
  steps: number | null;
  /** Default 16. */
  batchSize: number;
  /** Default 2e-3 (LoRA). */
  lr: number;
  /** Default DEFAULT_PROMPT_PROFILE (response-newline). */
  profile: PromptStyle;
  /** Truncation in tokens. Default 256. */
  maxLength: number;
  /** Adapter init, dropout and batch order. Default 0. */
  seed: number;
  /** Batch examples of similar length together (less padding, same examples per epoch). Default true. */
  groupByLength: boolean;
}

export const SFT_DEFAULTS: SftConfig = {
  lora: LORA_DEFAULTS,
  epochs: 3,
  steps: null,
  batchSize: 16,
  lr: 2e-3,
  profile: DEFAULT_PROMPT_PROFILE,
  maxLength: 256,
  seed: 0,
  groupByLength: true,
};

/**
 * The LoRA training knobs a stage exposes (alignment, attack), declared once: the stage commands' flags and the
 * grid's align/attack sections come from it (the attack lays its own defaults over it with withDefaults).
 */
export const TRAINING_KNOBS = {
  epochs: int(SFT_DEFAULTS.epochs, 'passes over the data'),
  lr: number(SFT_DEFAULTS.lr, 'LoRA learning rate (AdamW, cosine schedule)'),
  batchSize: int(SFT_DEFAULTS.batchSize, 'batch size'),
  maxLength: int(SFT_DEFAULTS.maxLength, 'truncation in tokens', 8),
  rank: int(SFT_DEFAULTS.lora.r, 'LoRA rank'),
  loraAlpha: number(
    0,
    'LoRA alpha: the update is scaled by alpha / rank; 0: 2 x rank',
    { min: 0, inclusive: true },
    { unkeyedAt: 0 },
  ),
  loraDropout: number(
    SFT_DEFAULTS.lora.dropout,
    "dropout on the adapters' input while training",
    { min: 0, inclusive: true, max: 0.99 },
    { unkeyedAt: SFT_DEFAULTS.lora.dropout },
  ),
  loraTargets: text(
    null,
    "comma-separated module names to adapt; null: the architecture's (" +
      Object.entries(ARCHITECTURE_LORA_TARGETS)
        .map(([architecture, targets]) => `${architecture}: ${targets.join(', ')}`)
        .join('; ') +
      ')',
    { unkeyedAt: null },
  ),
} as const;

export type TrainingKnobValues = KnobValues<typeof TRAINING_KNOBS>;

/** "q_proj, v_proj" as a list; an empty list is an error (null is the way to ask for the defaults). */
function loraTargetList(text: string): string[] {
  const list = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (list.length === 0) throw new Error(`lora_targets: "${text}" names no module (null: the architecture's)`);
  return list;
}

/** An SftConfig from the training knobs, a seed and (step-matched arms) a step count. */
export function sftFromKnobs(knobs: TrainingKnobValues, seed: number, steps: number | null = null): Partial<SftConfig> {
  return {
    epochs: knobs.epochs,
    steps,
    lr: knobs.lr,
    batchSize: knobs.batchSize,
    maxLength: knobs.maxLength,
    seed,
    lora: {
      ...SFT_DEFAULTS.lora,
      r: knobs.rank,
      alpha: knobs.loraAlpha > 0 ? knobs.loraAlpha : 2 * knobs.rank,
      dropout: knobs.loraDropout,
      targetModules: knobs.loraTargets === null ? [] : loraTargetList(knobs.loraTargets),
    },
  };
}

export interface SftHooks {
  /** Mean response loss on these sets, every `every` steps and at the end (Figure 3's curves). */
  lossSets?: Record<string, readonly InstructionExample[]>;
  /** Default: once per epoch. */
  every?: number;
  /** Called after each epoch with the adapter in evaluation mode (e.g. to generate for a harmful score). */
  atEpochEnd?: (epoch: number) => void;
  /** A defense's update: given the attached adapter, the function that fills its gradients for a batch. */
  stepGradient?: (lora: LoraLayers) => (batch: TokenBatch, step: number) => number;
}

export interface SftResult extends TrainResult {
  lora: LoraLayers;
  steps: number;
  /** name -> [{step, loss}] */
  curves: Record<string, { step: number; loss: number }[]>;
  /** Time spent measuring those curves and in `atEpochEnd`: monitoring, not training. */
  monitorSeconds: number;
}

export function sftLora(
  model: TrainableLm & LoraHost,
  tokenizer: Tokenizer,
  examples: readonly InstructionExample[],
  eosTokenId: number,
  padTokenId: number,
  options: Partial<SftConfig> = {},
  log: (line: string) => void = () => {},
  monitor: SftHooks = {},
  /** Keep training this attached adapter (single-LoRA flow) instead of attaching a fresh one. */
  existing?: LoraLayers,
): SftResult {
  const cfg: SftConfig = { ...SFT_DEFAULTS, ...options, lora: { ...SFT_DEFAULTS.lora, ...options.lora } };
  const supervised = examples.map((e) =>
    supervisedIn(cfg.profile, tokenizer, e, { maxLength: cfg.maxLength, eosTokenId }),
  );
  const lora = existing ?? attachLora(model, cfg.lora, cfg.seed);
  lora.training = true;
  const source = supervisedBatches(supervised, cfg.batchSize, cfg.seed, padTokenId, cfg.groupByLength);
  const steps = cfg.steps ?? source.stepsPerEpoch * cfg.epochs;
  const every = monitor.every ?? source.stepsPerEpoch;
  const lossSets = Object.entries(monitor.lossSets ?? {}).map(
    ([name, xs]) =>
      [name, xs.map((e) => supervisedIn(cfg.profile, tokenizer, e, { maxLength: cfg.maxLength, eosTokenId }))] as const,
  );
  const curves: SftResult['curves'] = Object.fromEntries(lossSets.map(([name]) => [name, []]));
  let monitorSeconds = 0;
  const monitored = (fn: () => void) => {
    const t0 = performance.now();
    lora.training = false;
    fn();
    lora.training = true;
    monitorSeconds += (performance.now() - t0) / 1000;
  };
  const measure = (step: number) =>
    monitored(() => {
      for (const [name, xs] of lossSets) curves[name].push({ step, loss: meanResponseLoss(model, xs, padTokenId) });
    });
  measure(0);
  const result = train(
    model,
    lora.parameters(),
    source,
    {
      steps,
      lr: cfg.lr,
      schedule: 'cosine',
      warmupSteps: 0,
      weightDecay: 0,
      logEvery: Math.max(1, Math.floor(steps / 10)),
    },
    {
      log,
      gradientFn: monitor.stepGradient?.(lora),
      onStep: ({ step }) => {
        const done = step + 1;
        if (done % every === 0 || done === steps) measure(done);
        if (monitor.atEpochEnd && done % source.stepsPerEpoch === 0)
          monitored(() => monitor.atEpochEnd!(done / source.stepsPerEpoch));
      },
    },
  );
  lora.training = false;
  return { ...result, lora, steps, curves, monitorSeconds };
}

/** The optimizer steps `epochs` passes over `samples` take at `batchSize` (the last batch may be short). */
export function stepsFor(samples: number, batchSize: number, epochs: number): number {
  return Math.ceil(samples / batchSize) * epochs;
}

/** Mean over examples of each example's mean response-token loss, in batches of 32, without gradients. */
export function meanResponseLoss(
  model: TrainableLm,
  examples: readonly SupervisedExample[],
  padTokenId: number,
): number {
  // Batched in order of length, summed in input order: the same bits as batching in input order (3.1 -> 2.9 s on
  // the demo's 200 validation samples, one thread).
  return noGrad(() => {
    const losses = new Float64Array(examples.length);
    for (const idx of lengthOrderedBatches(examples, 32)) {
      const batch = collate(
        idx.map((i) => examples[i]),
        padTokenId,
      );
      const per = causalLmLoss(model, batch, 'per-example');
      idx.forEach((i, k) => (losses[i] = per.data[k]));
    }
    let total = 0;
    for (const v of losses) total += v;
    return total / Math.max(1, examples.length);
  });
}
