/**
 * T-Vaccine (Liu et al., 2024): Vaccine on a few safety-critical layers. Every `rescoreEvery` steps each
 * layer is scored by the norm of a harmful example's loss gradient at its attention output; every
 * `resampleEvery` steps `activeLayers` layers are drawn without replacement with probability proportional
 * to the scores; Vaccine's two passes then perturb the active layers only (the norm taken over them), and only
 * the active layers' attention adapters train (the MLP adapters train throughout, as in the reference code).
 */
import { ActivationTaps, Rng, gradNorm, type Tensor } from '../engine/index.js';
import type { TokenBatch } from '../data/batch.js';
import type { LoraLayers } from '../models/lora.js';
import {
  backwardValue,
  batchLoss,
  type DefendableLm,
  type Defense,
  type DefenseContext,
  type StepGradient,
} from './defense.js';
import { attentionTap, perturbedStep, type PerturbationRecord } from './vaccine.js';
import { defaultsOf, int, number, type KnobValues } from '../config/knobs.js';

/** The tvaccine defense's knobs, declared once (src/config/knobs.ts derives the rest). */
export const TVACCINE_KNOBS = {
  rho: number(3, 'perturbation radius', { min: 0, inclusive: true }),
  activeLayers: int(2, "layers perturbed and trained at a time (2 of the embedded model's 6; the paper: 8 of 32)"),
  resampleEvery: int(20, 'redraw the active layers every this many steps'),
  rescoreEvery: int(200, 'rescore the layers every this many steps'),
} as const;

export type TVaccineConfig = KnobValues<typeof TVACCINE_KNOBS>;
export const TVACCINE_DEFAULTS: TVaccineConfig = defaultsOf(TVACCINE_KNOBS);

/** The layer index of an attention adapter's module name, or null for other modules. */
export function attentionLayerOf(module: string): number | null {
  const m = /(?:^|\.)(?:layers|h)\.(\d+)\.(?:self_attn|attn)\./.exec(module);
  return m ? Number(m[1]) : null;
}

/** |d loss / d attn_out_l| for every layer, from one backward on the first example of `batch`. */
export function layerScores(model: DefendableLm, params: readonly Tensor[], batch: TokenBatch): number[] {
  const one: TokenBatch = {
    B: 1,
    T: batch.T,
    ids: batch.ids.slice(0, batch.T),
    targets: batch.targets.slice(0, batch.T),
    keyMask: batch.keyMask.slice(0, batch.T),
  };
  const names = Array.from({ length: model.layerCount }, (_, l) => attentionTap(l));
  const taps = new ActivationTaps().capture((n) => names.includes(n));
  backwardValue(batchLoss(model, one, taps));
  for (const p of params) p.grad = null;
  return names.map((n) => gradNorm(taps.gradOf(n)));
}

/** k distinct indices drawn one at a time with probability proportional to the remaining weights. */
export function sampleWithoutReplacement(weights: readonly number[], k: number, rng: Rng): number[] {
  const left = weights.map((w, i) => ({ w: Math.max(w, 0), i }));
  const out: number[] = [];
  while (out.length < Math.min(k, weights.length)) {
    const total = left.reduce((a, b) => a + b.w, 0);
    let u = rng.uniform() * total,
      j = 0;
    if (total > 0)
      while (j < left.length - 1 && u >= left[j].w) {
        u -= left[j].w;
        j++;
      }
    else j = rng.int(left.length);
    out.push(left[j].i);
    left.splice(j, 1);
  }
  return out.sort((a, b) => a - b);
}

export class TVaccineDefense implements Defense {
  readonly name = 'tvaccine';
  readonly flow = 'double';
  readonly needsHarmful = true;
  readonly actsIn = ['align'] as const;
  readonly last: PerturbationRecord & { active: number[]; probabilities: number[] } = {
    norm: 0,
    layers: [],
    active: [],
    probabilities: [],
  };
  constructor(readonly config: TVaccineConfig = TVACCINE_DEFAULTS) {}

  stepGradient({ model, lora, harmfulBatch, seed }: DefenseContext): StepGradient {
    const params = lora.parameters();
    const rng = new Rng(seed + 0x7ac);
    const attention = attentionAdapters(lora);
    let probabilities: number[] = [];
    let active: number[] = [];
    return (batch, step) => {
      if (step % this.config.rescoreEvery === 0 || probabilities.length === 0) {
        for (const p of params) p.requiresGrad = true;
        const scores = layerScores(model, params, harmfulBatch(step));
        const total = scores.reduce((a, b) => a + b, 0);
        probabilities = scores.map((s) => (total > 0 ? s / total : 1 / scores.length));
      }
      if (step % this.config.resampleEvery === 0 || active.length === 0)
        active = sampleWithoutReplacement(probabilities, this.config.activeLayers, rng);
      const on = new Set(active);
      for (const [layer, tensors] of attention) for (const t of tensors) t.requiresGrad = on.has(layer);
      Object.assign(this.last, { active, probabilities });
      return perturbedStep(model, params, batch, active, this.config.rho, this.last);
    };
  }
}

/** Attention adapters' tensors by layer. */
function attentionAdapters(lora: LoraLayers): Map<number, Tensor[]> {
  const out = new Map<number, Tensor[]>();
  for (const [module, { a, b }] of lora.adapters) {
    const layer = attentionLayerOf(module);
    if (layer !== null) out.set(layer, [...(out.get(layer) ?? []), a, b]);
  }
  return out;
}
