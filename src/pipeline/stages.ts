/**
 * The three stages as reusable steps over folders, so each works alone (on the embedded default or a
 * user's model and data) and the grid can cache them:
 * - align: SFT with LoRA on alignment records -> a PEFT adapter folder + record (validation-loss curve);
 * - attack: merge the alignment adapter (double LoRA) or keep training it (single LoRA) on the user's
 *   fine-tuning data -> an adapter folder + record (harmful-loss curve);
 * - evaluate: harmful score and fine-tune accuracy of base + adapters.
 */
import { harmfulMargin, type HarmfulMargin } from '../eval/harmful-margin.js';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { InstructionExample, PromptStyle } from '../data/prompt-format.js';
import type { TaskExample } from '../data/tasks.js';
import type { Judge } from '../eval/judges/judge.js';
import {
  EVAL_DEFAULTS as METRIC_DEFAULTS,
  harmfulScore,
  respondToPrompts,
  scoreResponses,
  taskAccuracy,
  type HarmfulScore,
  type TaskAccuracy,
} from '../eval/metrics.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { mergeLora } from '../models/lora.js';
import { loadLoraAdapter, saveLoraAdapter } from '../models/peft.js';
import { sftLora, SFT_DEFAULTS, type SftConfig, type SftHooks } from '../train/sft.js';
import { supervisedBatches, type TokenBatch } from '../data/batch.js';
import { supervisedIn } from '../data/prompt-format.js';
import type { DefenseContext, FineTuningHook } from '../defenses/defense.js';
import { createDefense, type DefenseOptions } from '../defenses/registry.js';
import { describeEnvironment } from './environment.js';
import { loadModelBundle, type ModelBundle } from '../models/bundle.js';
import type { AlignRecord, AttackRecord } from './records.js';

/**
 * How a harmful score is measured, shared by the stage commands, grids and the demo: tokens generated per prompt
 * (greedy), prompts probed after every attack epoch, and harmful samples in the attack's harmful-loss curve (the
 * alignment's validation-loss curve takes the whole validation set by default; curves change no weight).
 */
export const EVAL_DEFAULTS = {
  maxNewTokens: METRIC_DEFAULTS.maxNewTokens,
  probePrompts: 200,
  harmfulCurve: 200,
} as const;

export interface StageCommon {
  /** Base model folder (or llama2.c .bin). */
  model: string;
  outDir: string;
  sft: Partial<SftConfig>;
  log?: (line: string) => void;
}

function specialIds(bundle: ModelBundle): { eos: number; pad: number } {
  const eos = bundle.eosTokenIds[0];
  if (eos === undefined)
    throw new Error(`${bundle.source.path}: no eos_token_id (generation_config.json or config.json)`);
  return { eos, pad: bundle.padTokenId! };
}

/** Base model with the listed adapters applied in order: each merged (double LoRA) except a last one kept live when `keepLast`. */
export function loadWithAdapters(model: string, adapters: readonly string[], keepLast = false): ModelBundle {
  const bundle = loadModelBundle(model);
  adapters.forEach((dir, i) => {
    loadLoraAdapter(dir, bundle.model);
    if (!(keepLast && i === adapters.length - 1)) mergeLora(bundle.model);
  });
  return bundle;
}

/** Batches of a second data set beside the main one (harmful data, or alignment data during fine-tuning), by step. */
function sideBatches(
  bundle: ModelBundle,
  records: readonly InstructionExample[],
  sft: SftConfig,
  seedOffset: number,
): (step: number) => TokenBatch {
  const { eos, pad } = specialIds(bundle);
  const examples = records.map((e) =>
    supervisedIn(sft.profile, bundle.tokenizer, e, { maxLength: sft.maxLength, eosTokenId: eos }),
  );
  const source = supervisedBatches(examples, sft.batchSize, sft.seed + seedOffset, pad, false);
  return (step) => source.batch(step);
}

export interface AlignStageConfig extends StageCommon {
  records: readonly InstructionExample[];
  /** Validation records for the loss curve (Figure 3). */
  validation?: readonly InstructionExample[];
  /** The alignment defense (default sft) and its options. */
  defense?: string;
  defenseOptions?: DefenseOptions;
  /** Harmful records (prompt -> harmful answer), for the defenses that use them (RepNoise, Booster, T-Vaccine). */
  harmful?: readonly InstructionExample[];
}

export function alignStage(config: AlignStageConfig): {
  adapterDir: string;
  seconds: number;
  flow: 'double' | 'single';
} {
  const bundle = loadModelBundle(config.model);
  const { eos, pad } = specialIds(bundle);
  const sft = { ...SFT_DEFAULTS, ...config.sft };
  const defense = createDefense(config.defense ?? 'sft', config.defenseOptions);
  let harmfulBatch: DefenseContext['harmfulBatch'] = () => {
    throw new Error(`${defense.name}: no harmful data given`);
  };
  if (defense.needsHarmful) {
    if (!config.harmful?.length) throw new Error(`align: the ${defense.name} defense needs harmful records`);
    harmfulBatch = sideBatches(bundle, config.harmful, sft, 7);
  }
  const t0 = performance.now();
  const result = sftLora(bundle.model, bundle.tokenizer, config.records, eos, pad, sft, config.log, {
    lossSets: config.validation?.length ? { validation: config.validation } : {},
    stepGradient: (lora) => defense.stepGradient({ model: bundle.model, lora, harmfulBatch, seed: sft.seed }),
  });
  for (const p of result.lora.parameters()) p.requiresGrad = true; // T-Vaccine freezes some while it trains
  // Training time: the validation-loss curve (Figure 3) is monitoring, timed apart (in the demo 14-15 s per
  // alignment, 4 passes over 200 validation samples, beside 21-25 s of training on a 40% subset and 65 s on the pool).
  const seconds = (performance.now() - t0) / 1000 - result.monitorSeconds;
  const adapterDir = join(config.outDir, 'adapter');
  saveLoraAdapter(adapterDir, result.lora, { baseModel: config.model });
  const record: AlignRecord = {
    kind: 'align',
    defense: defense.name,
    defenseConfig: defense.config ?? null,
    flow: defense.flow,
    config: {
      ...config,
      records: config.records.length,
      validation: config.validation?.length ?? 0,
      harmful: config.harmful?.length ?? 0,
      log: undefined,
    },
    environment: describeEnvironment(),
    timings: { alignSeconds: seconds, monitorSeconds: result.monitorSeconds, steps: result.steps },
    losses: result.losses,
    curves: result.curves,
  };
  writeJsonAtomic(join(config.outDir, 'record.json'), record);
  return { adapterDir, seconds, flow: defense.flow };
}

/** How many records came from each file (records carrying an `origin`, "file:line"). */
function recordsPerFile(records: readonly (InstructionExample & { origin?: string })[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) {
    const file = r.origin === undefined ? '(unknown)' : r.origin.replace(/:\d+$/, '');
    out[file] = (out[file] ?? 0) + 1;
  }
  return out;
}

export interface AttackStageConfig extends StageCommon {
  /** The alignment adapter to start from (absent: attack the base model). */
  alignAdapter?: string;
  /** double: merge the alignment adapter and train a fresh one; single: keep training it. Default double. */
  flow?: 'double' | 'single';
  records: readonly InstructionExample[];
  /** Harmful records for the harmful-loss curve (Figure 3). */
  harmful?: readonly InstructionExample[];
  /** Harmful score on these prompts after every attack epoch (Figure 3); 200 prompts by convention. */
  probe?: { prompts: readonly string[]; judge: Judge; profile: PromptStyle; maxNewTokens?: number };
  /**
   * A defense acting in fine-tuning (one with a `fineTuning` hook, Lisa): its name, its knobs, and the
   * alignment records it interleaves with the user's data.
   */
  defense?: { name: string; options?: DefenseOptions; records: readonly InstructionExample[] };
}

/** The fine-tuning hook of the defense `name` (an error for a defense that does not act in fine-tuning). */
function fineTuningOf(name: string, options?: DefenseOptions): FineTuningHook {
  const defense = createDefense(name, options);
  if (!defense.fineTuning)
    throw new Error(
      `attack: the ${name} defense does not act in fine-tuning (it acts in ${defense.actsIn.join(', ')})`,
    );
  return defense.fineTuning;
}

export interface AttackResult {
  adapterDir: string;
  seconds: number;
  /** Harmful score (%) of the probe prompts after each epoch; empty without a probe. */
  harmfulScoreByEpoch: number[];
}

export async function attackStage(config: AttackStageConfig): Promise<AttackResult> {
  const flow = config.flow ?? 'double';
  if (flow === 'single' && !config.alignAdapter)
    throw new Error('attack: the single-LoRA flow needs the alignment adapter');
  const fineTuning = config.defense ? fineTuningOf(config.defense.name, config.defense.options) : null;
  const bundle = config.alignAdapter
    ? loadWithAdapters(config.model, [config.alignAdapter], flow === 'single')
    : loadModelBundle(config.model);
  const { eos, pad } = specialIds(bundle);
  const probe = config.probe;
  const epochResponses: string[][] = [];
  const t0 = performance.now();
  let probeSeconds = 0;
  const sft = { ...SFT_DEFAULTS, ...config.sft };
  let stepGradient: SftHooks['stepGradient'];
  if (fineTuning) {
    const alignmentBatch = sideBatches(bundle, config.defense!.records, sft, 11);
    const totalSteps = Math.ceil(config.records.length / sft.batchSize) * sft.epochs;
    stepGradient = (lora) => fineTuning.stepGradient({ model: bundle.model, lora, alignmentBatch, totalSteps });
  }
  const result = sftLora(
    bundle.model,
    bundle.tokenizer,
    config.records,
    eos,
    pad,
    sft,
    config.log,
    {
      lossSets: config.harmful?.length ? { harmful: config.harmful } : {},
      stepGradient,
      atEpochEnd: probe
        ? () => {
            const s = performance.now();
            epochResponses.push(
              respondToPrompts(bundle, probe.prompts, {
                profile: probe.profile,
                maxNewTokens: probe.maxNewTokens ?? EVAL_DEFAULTS.maxNewTokens,
              }),
            );
            probeSeconds += (performance.now() - s) / 1000;
          }
        : undefined,
    },
    flow === 'single' ? (bundle.model.lora ?? undefined) : undefined,
  );
  // Training time: the probe's generations and the harmful-loss curve are monitoring, timed apart.
  const seconds = (performance.now() - t0) / 1000 - result.monitorSeconds;
  const harmfulScoreByEpoch: number[] = [];
  for (const responses of epochResponses)
    harmfulScoreByEpoch.push((await scoreResponses(probe!.prompts, responses, probe!.judge)).score);
  if (probe)
    config.log?.(
      `harmful score (${probe.prompts.length} prompts) after each attack epoch: ${harmfulScoreByEpoch.map((h) => h.toFixed(1)).join(', ')}`,
    );
  const adapterDir = join(config.outDir, 'adapter');
  saveLoraAdapter(adapterDir, result.lora, { baseModel: config.model });
  const record: AttackRecord = {
    kind: 'attack',
    flow,
    defense: config.defense?.name ?? null,
    defenseConfig: fineTuning?.config ?? null,
    config: {
      ...config,
      records: config.records.length,
      harmful: config.harmful?.length ?? 0,
      probe: probe ? { prompts: probe.prompts.length, judge: probe.judge.name, judgeId: probe.judge.id } : null,
      defense: config.defense?.records.length ?? 0,
      log: undefined,
    },
    sources: recordsPerFile(config.records),
    environment: describeEnvironment(),
    timings: { attackSeconds: seconds, probeSeconds, monitorSeconds: result.monitorSeconds, steps: result.steps },
    losses: result.losses,
    curves: result.curves,
    harmfulScoreByEpoch,
    // The probe's responses after each epoch, so that another judge can score them without regenerating.
    probeResponses: epochResponses,
  };
  writeJsonAtomic(join(config.outDir, 'record.json'), record);
  return { adapterDir, seconds, harmfulScoreByEpoch };
}

export interface EvaluateConfig {
  model: string;
  /** Adapters merged in order (alignment, then attack). */
  adapters: readonly string[];
  harmfulPrompts: readonly string[];
  judge: Judge;
  task?: { name: string; labels: readonly string[]; test: readonly TaskExample[] };
  profile: PromptStyle;
  maxNewTokens?: number;
  /** The judge-free harmful margin over these prompts and their reference harmful answers. */
  margin?: { items: readonly { prompt: string; reference: string }[]; refusals: readonly string[]; maxLength: number };
}

export async function evaluateStage(
  config: EvaluateConfig,
): Promise<{ harmful: HarmfulScore; task: TaskAccuracy | null; margin: HarmfulMargin | null }> {
  const bundle = loadWithAdapters(config.model, config.adapters);
  const harmful = await harmfulScore(bundle, config.harmfulPrompts, config.judge, {
    profile: config.profile,
    maxNewTokens: config.maxNewTokens ?? EVAL_DEFAULTS.maxNewTokens,
  });
  const task = config.task
    ? taskAccuracy(bundle, config.task.name, config.task.labels, config.task.test, { profile: config.profile })
    : null;
  const margin = config.margin
    ? harmfulMargin(bundle, config.margin.items, config.margin.refusals, {
        profile: config.profile,
        maxLength: config.margin.maxLength,
      })
    : null;
  return { harmful, task, margin };
}
