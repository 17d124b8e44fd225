/**
 * Booster (Huang et al., 2024): attenuate the harmful perturbation. Per step, with a harmful batch: g_h =
 * grad h(w); step to w - alpha g_h / |g_h|; g_h' = grad h there; restore w exactly; update with
 * g_align + lambda (g_h - g_h') (first order: no differentiation through the simulated step). Fine-tuning
 * after Booster continues the same adapter (single LoRA).
 */
import { gradNorm, gradientOf, restoreParameters, snapshotParameters, stepAlong } from '../engine/index.js';
import { backwardValue, batchLoss, type Defense, type DefenseContext, type StepGradient } from './defense.js';
import { defaultsOf, number, type KnobValues } from '../config/knobs.js';

/** The booster defense's knobs, declared once (src/config/knobs.ts derives the rest). */
export const BOOSTER_KNOBS = {
  lambda: number(5, 'weight of the attenuation term', { min: 0, inclusive: true }),
  alpha: number(0.1, 'norm of the simulated harmful step', { min: 0, inclusive: true }),
} as const;

export type BoosterConfig = KnobValues<typeof BOOSTER_KNOBS>;
export const BOOSTER_DEFAULTS: BoosterConfig = defaultsOf(BOOSTER_KNOBS);

export class BoosterDefense implements Defense {
  readonly name = 'booster';
  readonly flow = 'single';
  readonly needsHarmful = true;
  readonly actsIn = ['align'] as const;
  constructor(readonly config: BoosterConfig = BOOSTER_DEFAULTS) {}

  stepGradient({ model, lora, harmfulBatch }: DefenseContext): StepGradient {
    const params = lora.parameters();
    const { lambda, alpha } = this.config;
    return (batch, step) => {
      const harmful = harmfulBatch(step);
      const gh = gradientOf(params, () => batchLoss(model, harmful)).grad;
      const saved = snapshotParameters(params);
      stepAlong(params, gh, -alpha / (gradNorm(gh) + 1e-7));
      const ghAfter = gradientOf(params, () => batchLoss(model, harmful)).grad;
      restoreParameters(saved);
      const value = backwardValue(batchLoss(model, batch));
      for (const p of params) {
        if (!p.grad) continue;
        const a = gh.get(p)!,
          b = ghAfter.get(p)!;
        for (let i = 0; i < p.grad.length; i++) p.grad[i] += lambda * (a[i] - b[i]);
      }
      return value;
    };
  }
}
