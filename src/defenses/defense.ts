/**
 * The alignment-defense plug-in interface. A defense turns an alignment batch into the gradient of the
 * adapter's parameters (one or several forward/backward passes); the shared LoRA SFT loop (src/train/sft.ts)
 * does batching, the optimizer, schedules and logging. `flow` says how the attack continues after it:
 * `double` merges the alignment adapter and trains a fresh one, `single` keeps training it (Booster).
 */
import { backward, crossEntropy, type ActivationTaps, type Tensor } from '../engine/index.js';
import type { TokenBatch } from '../data/batch.js';
import type { ForwardOptions } from '../models/forward.js';
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

export interface Defense {
  readonly name: string;
  readonly flow: 'double' | 'single';
  /** Whether the defense reads harmful batches (the pipeline then builds them from the harmful set). */
  readonly needsHarmful: boolean;
  stepGradient(context: DefenseContext): StepGradient;
}

/** Response cross-entropy of a batch, optionally through taps. */
export function batchLoss(model: DefendableLm, batch: TokenBatch, taps?: ActivationTaps): Tensor {
  return crossEntropy(model.forward(batch.ids, batch.B, batch.T, taps ? { taps } : {}), batch.targets);
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
  stepGradient({ model }: DefenseContext): StepGradient {
    return (batch) => backwardValue(batchLoss(model, batch));
  }
}
