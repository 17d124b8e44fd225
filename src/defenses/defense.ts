/**
 * The defense plug-in interface. A defense turns an alignment batch into the gradient of the adapter's
 * parameters (one or several forward/backward passes); the shared LoRA SFT loop (src/train/sft.ts) does
 * batching, the optimizer, schedules and logging. `flow` says how the attack continues after it: `double`
 * merges the alignment adapter and trains a fresh one, `single` keeps training it (Booster). A defense that
 * also acts while the user fine-tunes (Lisa) says so through its `fineTuning` hook, which the attack stage
 * calls instead of plain SFT; `actsIn` names the stages a defense acts in, so that the pipeline keys and runs
 * each stage by what the defense declares rather than by its name.
 */
import { backward, type ActivationTaps, type Tensor } from '../engine/index.js';
import type { TokenBatch } from '../data/batch.js';
import type { ForwardOptions } from '../models/forward.js';
import { causalLmLoss } from '../models/lm-loss.js';
import type { LoraLayers } from '../models/lora.js';

/** What defenses need of a model: forward with activation taps, the LM head, and its depth. */
export interface DefendableLm {
  forward(ids: Int32Array, B: number, T: number, options?: ForwardOptions): Tensor;
  head(x: Tensor): Tensor;
  readonly layerCount: number;
}

export interface DefenseContext {
  model: DefendableLm;
  lora: LoraLayers;
  /** The harmful batch to use at a step (prompt -> harmful answer), for defenses that need one. */
  harmfulBatch: (step: number) => TokenBatch;
  seed: number;
}

/** Fill the trainable parameters' .grad for this alignment batch and return the loss to report. */
export type StepGradient = (batch: TokenBatch, step: number) => number;

/** The stages a defense can act in: the alignment, and the user's fine-tuning (the attack). */
export type DefenseStage = 'align' | 'attack';

/** What a defense acting during fine-tuning gets in the attack stage. */
export interface FineTuningContext {
  model: DefendableLm;
  lora: LoraLayers;
  /** Batches of the alignment data (the aligned subset) it may interleave with the user's, by step. */
  alignmentBatch: (step: number) => TokenBatch;
  /** Optimizer steps of the whole fine-tuning (for schedules over it). */
  totalSteps: number;
}

/** A defense's part in the user's fine-tuning: the step gradient that replaces plain SFT's in the attack. */
export interface FineTuningHook {
  /** The knobs it fine-tunes with (recorded with the attack). */
  readonly config: object;
  stepGradient(context: FineTuningContext): StepGradient;
}

export interface Defense {
  readonly name: string;
  readonly flow: 'double' | 'single';
  /** Whether the defense reads harmful batches (the pipeline then builds them from the harmful set). */
  readonly needsHarmful: boolean;
  /**
   * The stages the defense acts in, and so the stages its knobs are part of the identity of (the grid's stage
   * keys): 'align' for its alignment step gradient, 'attack' for its `fineTuning` hook. A defense that does not
   * act in 'align' aligns as plain SFT does.
   */
  readonly actsIn: readonly DefenseStage[];
  /** The knobs it aligns with (recorded with the alignment); absent: none. */
  readonly config?: object;
  /** The alignment's step gradient. */
  stepGradient(context: DefenseContext): StepGradient;
  /** Present when the defense acts during fine-tuning (actsIn has 'attack'). */
  readonly fineTuning?: FineTuningHook;
}

/** Response cross-entropy of a batch, optionally through taps. */
export function batchLoss(model: DefendableLm, batch: TokenBatch, taps?: ActivationTaps): Tensor {
  return causalLmLoss(model, batch, 'mean', taps ? { taps } : {});
}

/** Backpropagate `loss` into the parameters' .grad and return its value. */
export function backwardValue(loss: Tensor): number {
  backward(loss);
  return loss.item();
}

/** Plain SFT: one pass. */
export class SftDefense implements Defense {
  readonly name = 'sft';
  readonly flow = 'double';
  readonly needsHarmful = false;
  readonly actsIn = ['align'] as const;
  stepGradient({ model }: DefenseContext): StepGradient {
    return (batch) => backwardValue(batchLoss(model, batch));
  }
}
