/**
 * Lisa (Huang et al., 2024), a fine-tuning-stage defense ("bi-state optimization"): fine-tuning alternates
 * `alignmentSteps` steps on alignment data with `finetuneSteps` steps on the user's data; each state adds a
 * proximal term rho/2 |w - w_other|^2 toward the weights the other state ended with (the term is off for the
 * first `warmupFraction` of the steps). Alignment steps take the place of fine-tuning steps in the schedule.
 * As a defense it aligns with plain SFT and acts only in the attack stage, through its `fineTuning` hook.
 */
import { snapshotParameters, type ParameterSnapshot } from '../engine/index.js';
import type { TokenBatch } from '../data/batch.js';
import type { LoraLayers } from '../models/lora.js';
import {
  backwardValue,
  batchLoss,
  SftDefense,
  type DefendableLm,
  type Defense,
  type DefenseContext,
  type FineTuningHook,
  type StepGradient,
} from './defense.js';
import { defaultsOf, int, number, type KnobValues } from '../config/knobs.js';

/** The lisa defense's knobs, declared once (src/config/knobs.ts derives the rest). */
export const LISA_KNOBS = {
  alignmentSteps: int(5, "alignment steps per cycle (the reference's 100 of 1,000, scaled to ~190 attack steps)"),
  finetuneSteps: int(45, 'fine-tuning steps per cycle (reference 900)'),
  rho: number(1, 'proximal strength', { min: 0, inclusive: true }),
  warmupFraction: number(0.1, 'share of the steps before the proximal term starts', {
    min: 0,
    inclusive: true,
    max: 1,
  }),
} as const;

export type LisaConfig = KnobValues<typeof LISA_KNOBS>;
export const LISA_DEFAULTS: LisaConfig = defaultsOf(LISA_KNOBS);

export type LisaState = 'alignment' | 'finetune';

export function lisaState(step: number, config: LisaConfig): LisaState {
  return step % (config.alignmentSteps + config.finetuneSteps) < config.alignmentSteps ? 'alignment' : 'finetune';
}

export function lisaStepGradient(
  model: DefendableLm,
  lora: LoraLayers,
  alignmentBatch: (step: number) => TokenBatch,
  totalSteps: number,
  config: LisaConfig = LISA_DEFAULTS,
): StepGradient & { anchor: () => ParameterSnapshot | null } {
  const params = lora.parameters();
  let state: LisaState | null = null;
  let anchor: ParameterSnapshot | null = null;
  const fn = (batch: TokenBatch, step: number): number => {
    const now = lisaState(step, config);
    if (now !== state) {
      if (state !== null) anchor = snapshotParameters(params); // the weights the other state ended with
      state = now;
    }
    const value = backwardValue(batchLoss(model, now === 'alignment' ? alignmentBatch(step) : batch));
    if (anchor && step >= config.warmupFraction * totalSteps) {
      for (const p of params) {
        if (!p.grad) continue;
        const w0 = anchor.get(p)!;
        for (let i = 0; i < p.grad.length; i++) p.grad[i] += config.rho * (p.data[i] - w0[i]);
      }
    }
    return value;
  };
  return Object.assign(fn, { anchor: () => anchor });
}

export class LisaDefense implements Defense {
  readonly name = 'lisa';
  readonly flow = 'double';
  readonly needsHarmful = false;
  readonly actsIn = ['attack'] as const;
  readonly fineTuning: FineTuningHook;
  constructor(config: LisaConfig = LISA_DEFAULTS) {
    this.fineTuning = {
      config,
      stepGradient: ({ model, lora, alignmentBatch, totalSteps }) =>
        lisaStepGradient(model, lora, alignmentBatch, totalSteps, config),
    };
  }

  /** The alignment is plain SFT's: Lisa defends later, during fine-tuning. */
  stepGradient(context: DefenseContext): StepGradient {
    return new SftDefense().stepGradient(context);
  }
}
