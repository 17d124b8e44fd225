/**
 * Vaccine (Huang et al., 2024): alignment that stays good under the worst bounded perturbation of the
 * attention outputs. Per step: pass 1 takes g_l = d loss / d attn_out_l for every attention sub-layer (after
 * the output projection, [B, T, d]); one global norm G over the layers; eps_l = rho g_l / (G + 1e-7); pass 2
 * adds eps_l as a constant to those outputs; only pass 2's gradients update the weights (pass 1's are dropped).
 */
import { ActivationTaps, Tensor, gradNorm, type GradMap } from '../engine/index.js';
import type { TokenBatch } from '../data/batch.js';
import {
  backwardValue,
  batchLoss,
  type DefendableLm,
  type Defense,
  type DefenseContext,
  type StepGradient,
} from './defense.js';
import { defaultsOf, number, type KnobValues } from '../config/knobs.js';

/** The vaccine defense's knobs, declared once (src/config/knobs.ts derives the rest). */
export const VACCINE_KNOBS = {
  rho: number(2, 'perturbation radius (the reference scripts)', { min: 0, inclusive: true }),
} as const;

export type VaccineConfig = KnobValues<typeof VACCINE_KNOBS>;
export const VACCINE_DEFAULTS: VaccineConfig = defaultsOf(VACCINE_KNOBS);

export const attentionTap = (layer: number) => `layers.${layer}.attention`;

/** The last step's perturbation, for inspection: per tap name, and its global norm. */
export interface PerturbationRecord {
  norm: number;
  layers: string[];
}

/**
 * Vaccine's two passes over `batch` with the perturbation on the attention outputs of `layers`; returns
 * pass 2's loss (its gradients stay in .grad) and records the perturbation.
 */
export function perturbedStep(
  model: DefendableLm,
  params: readonly Tensor[],
  batch: TokenBatch,
  layers: readonly number[],
  rho: number,
  record?: PerturbationRecord,
): number {
  const names = layers.map(attentionTap);
  const wanted = new Set(names);
  const taps = new ActivationTaps().capture((n) => wanted.has(n));
  backwardValue(batchLoss(model, batch, taps));
  const grads: GradMap<string> = new Map(names.map((n) => [n, taps.gradOf(n)]));
  const shapes = names.map((n) => taps.activation(n).shape); // read before capture(null) forgets them
  for (const p of params) p.grad = null; // pass 1's weight gradients are discarded
  const factor = rho / (gradNorm(grads) + 1e-7);
  taps.capture(null);
  const eps: GradMap<string> = new Map(names.map((n) => [n, grads.get(n)!.map((g) => factor * g)]));
  names.forEach((n, l) => taps.perturb(n, new Tensor(eps.get(n)!, shapes[l])));
  if (record) {
    record.norm = gradNorm(eps);
    record.layers = names;
  }
  return backwardValue(batchLoss(model, batch, taps));
}

export class VaccineDefense implements Defense {
  readonly name = 'vaccine';
  readonly flow = 'double';
  readonly needsHarmful = false;
  readonly actsIn = ['align'] as const;
  readonly last: PerturbationRecord = { norm: 0, layers: [] };
  constructor(readonly config: VaccineConfig = VACCINE_DEFAULTS) {}

  stepGradient({ model, lora }: DefenseContext): StepGradient {
    const layers = Array.from({ length: model.layerCount }, (_, l) => l);
    const params = lora.parameters();
    return (batch) => perturbedStep(model, params, batch, layers, this.config.rho, this.last);
  }
}
