/**
 * The one training loop: batches by step from a BatchSource, causal-LM cross-entropy on the batch's
 * targets (ignored positions excluded), AdamW with a warmup schedule and global-norm clipping, progress
 * lines with an ETA, and optional checkpoints to resume from (parameters, optimizer moments, step and
 * losses, written atomically; batches are a function of the step, so a resumed run continues exactly).
 * Defenses and selectors customise the loss through `lossFn` and observe steps through `onStep`.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AdamW, backward, clipGradNorm, learningRateAt, type ScheduleKind, type Tensor } from '../engine/index.js';
import type { BatchSource, TokenBatch } from '../data/batch.js';
import type { ForwardOptions } from '../models/forward.js';
import { causalLmLoss } from '../models/lm-loss.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { openSafetensors, writeSafetensors, type NamedArray } from '../io/safetensors.js';

export interface TrainConfig {
  /** Optimizer steps. Required. */
  steps: number;
  /** Peak learning rate. Default 1e-3. */
  lr: number;
  /** Default 'cosine'. */
  schedule: ScheduleKind;
  /** Linear warmup steps. Default 0. */
  warmupSteps: number;
  /** Cosine floor as a fraction of lr. Default 0. */
  minLrRatio: number;
  /** AdamW decoupled weight decay, on matrices (rank >= 2) only, not norms or biases. Default 0. */
  weightDecay: number;
  /** Default 0.9. */
  beta1: number;
  /** Default 0.999. */
  beta2: number;
  /** Global gradient-norm clip; 0 disables. Default 1. */
  gradClip: number;
  /** Log every this many steps (and the first and last). Default 10. */
  logEvery: number;
  /** Checkpoint folder; an existing checkpoint there is resumed. Default none. */
  checkpointDir?: string;
  /** Checkpoint every this many steps. Default 100. */
  checkpointEvery: number;
}

export const TRAIN_DEFAULTS: Omit<TrainConfig, 'steps'> = {
  lr: 1e-3,
  schedule: 'cosine',
  warmupSteps: 0,
  minLrRatio: 0,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  gradClip: 1,
  logEvery: 10,
  checkpointEvery: 100,
};

export interface TrainableLm {
  forward(ids: Int32Array, B: number, T: number, options?: ForwardOptions): Tensor;
}

export interface StepInfo {
  step: number;
  loss: number;
  lr: number;
}

export interface TrainHooks {
  /** Replace the loss (default: mean cross-entropy over the batch's non-ignored targets). */
  lossFn?: (batch: TokenBatch, step: number) => Tensor;
  /**
   * Replace the whole gradient computation: fill the parameters' .grad (several passes if need be) and return
   * the loss to report. For defenses whose update is not the gradient of one loss (Vaccine, Booster).
   */
  gradientFn?: (batch: TokenBatch, step: number) => number;
  onStep?: (info: StepInfo) => void;
  log?: (line: string) => void;
}

export interface TrainResult {
  losses: number[];
  seconds: number;
  /** Steps run by this call (fewer than config.steps after a resume). */
  stepsRun: number;
  resumedFrom: number;
}

export function lmLoss(model: TrainableLm, batch: TokenBatch): Tensor {
  return causalLmLoss(model, batch);
}

export function train(
  model: TrainableLm,
  params: readonly Tensor[],
  source: BatchSource,
  options: Partial<TrainConfig> & { steps: number },
  hooks: TrainHooks = {},
): TrainResult {
  const cfg: TrainConfig = { ...TRAIN_DEFAULTS, ...options };
  const log = hooks.log ?? (() => {});
  if (hooks.lossFn && hooks.gradientFn) throw new Error('train: give lossFn or gradientFn, not both');
  const trainable = params.filter((p) => p.requiresGrad);
  if (trainable.length === 0) throw new Error('train: no trainable parameters');
  const optimizer = new AdamW(trainable, {
    weightDecay: cfg.weightDecay,
    beta1: cfg.beta1,
    beta2: cfg.beta2,
    decays: (p) => p.rank >= 2,
  });
  const schedule = {
    kind: cfg.schedule,
    baseLr: cfg.lr,
    warmupSteps: cfg.warmupSteps,
    totalSteps: cfg.steps,
    minRatio: cfg.minLrRatio,
  };
  let losses: number[] = [];
  let start = 0;
  if (cfg.checkpointDir && existsSync(join(cfg.checkpointDir, 'state.json'))) {
    ({ step: start, losses } = loadCheckpoint(cfg.checkpointDir, trainable, optimizer));
    log(`resuming from step ${start} (${cfg.checkpointDir})`);
  }
  const t0 = performance.now();
  for (let step = start; step < cfg.steps; step++) {
    const batch = source.batch(step);
    let value: number;
    if (hooks.gradientFn) {
      value = hooks.gradientFn(batch, step);
    } else {
      const loss = hooks.lossFn ? hooks.lossFn(batch, step) : lmLoss(model, batch);
      backward(loss);
      value = loss.item();
    }
    if (cfg.gradClip > 0) clipGradNorm(trainable, cfg.gradClip);
    const lr = learningRateAt(step, schedule);
    optimizer.step(lr);
    optimizer.zeroGrad();
    if (!Number.isFinite(value)) throw new Error(`train: the loss is ${value} at step ${step + 1}`);
    losses.push(value);
    hooks.onStep?.({ step, loss: value, lr });
    const done = step + 1;
    if (done === start + 1 || done % cfg.logEvery === 0 || done === cfg.steps) {
      const elapsed = (performance.now() - t0) / 1000;
      const eta = (elapsed / (done - start)) * (cfg.steps - done);
      const recent = losses.slice(-cfg.logEvery);
      log(
        `step ${done}/${cfg.steps}  loss ${(recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(4)}  ` +
          `lr ${lr.toExponential(2)}  ${elapsed.toFixed(0)}s elapsed, ETA ${formatSeconds(eta)}`,
      );
    }
    if (cfg.checkpointDir && (done % cfg.checkpointEvery === 0 || done === cfg.steps))
      saveCheckpoint(cfg.checkpointDir, done, losses, trainable, optimizer);
  }
  return { losses, seconds: (performance.now() - t0) / 1000, stepsRun: cfg.steps - start, resumedFrom: start };
}

export function formatSeconds(s: number): string {
  if (s < 90) return `${s.toFixed(0)}s`;
  if (s < 5400) return `${(s / 60).toFixed(1)}min`;
  return `${(s / 3600).toFixed(1)}h`;
}

function saveCheckpoint(
  dir: string,
  step: number,
  losses: number[],
  params: readonly Tensor[],
  optimizer: AdamW,
): void {
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, NamedArray>();
  const state = optimizer.exportState();
  for (const p of params) {
    if (!p.name) throw new Error('train: checkpointing needs named parameters');
    tensors.set(`param/${p.name}`, { data: p.data as Float32Array, shape: [...p.shape] });
    const m = state.moments.get(p.name);
    if (m) {
      tensors.set(`adam_m/${p.name}`, { data: m.m as Float32Array, shape: [p.size] });
      tensors.set(`adam_v/${p.name}`, { data: m.v as Float32Array, shape: [p.size] });
    }
  }
  // Tensors first, then the state file that marks the checkpoint complete.
  writeSafetensors(join(dir, 'checkpoint.safetensors'), tensors);
  writeJsonAtomic(join(dir, 'state.json'), { step, optimizerStep: state.step, losses });
}

function loadCheckpoint(dir: string, params: readonly Tensor[], optimizer: AdamW): { step: number; losses: number[] } {
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {
    step: number;
    optimizerStep: number;
    losses: number[];
  };
  const file = openSafetensors(join(dir, 'checkpoint.safetensors'));
  try {
    const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
    for (const p of params) {
      const saved = file.read(`param/${p.name}`);
      if (saved.data.length !== p.size)
        throw new Error(`${dir}: checkpoint tensor "${p.name}" has ${saved.data.length} values, the model ${p.size}`);
      p.data.set(saved.data);
      if (file.names.includes(`adam_m/${p.name}`))
        moments.set(p.name!, { m: file.read(`adam_m/${p.name}`).data, v: file.read(`adam_v/${p.name}`).data });
    }
    optimizer.importState({ step: state.optimizerStep, moments });
  } finally {
    file.close();
  }
  return { step: state.step, losses: state.losses };
}
