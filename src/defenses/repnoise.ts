/**
 * RepNoise (Rosati et al., 2024): on harmful data, push every layer's MLP output toward Gaussian noise and
 * the harmful answers' likelihood down at every depth, while keeping the alignment loss low:
 *   loss = CE(alignment batch)
 *        + beta * mean_l MMD(mlp_l(harmful) on response positions, N(0, I) on the same positions)
 *        - alpha * log(1 + mean over hidden states (embeddings and each layer's output) of the logit-lens CE
 *                           of the harmful responses)
 */
import {
  ActivationTaps,
  Rng,
  Tensor,
  add,
  allocate,
  crossEntropy,
  gatherRows,
  log,
  mul,
  reshape,
  scale,
  type FloatArray,
} from '../engine/index.js';
import type { TokenBatch } from '../data/batch.js';
import { supervisedRows } from '../models/lm-loss.js';
import {
  backwardValue,
  batchLoss,
  type DefendableLm,
  type Defense,
  type DefenseContext,
  type StepGradient,
} from './defense.js';
import { gaussianMmd } from './mmd.js';
import { defaultsOf, number, type KnobValues } from '../config/knobs.js';

/** The repnoise defense's knobs, declared once (src/config/knobs.ts derives the rest). */
export const REPNOISE_KNOBS = {
  alpha: number(0.1, 'weight of the harmful-likelihood term', { min: 0, inclusive: true }),
  beta: number(0.001, 'weight of the noise (MMD) term', { min: 0, inclusive: true }),
} as const;

export type RepNoiseConfig = KnobValues<typeof REPNOISE_KNOBS>;
export const REPNOISE_DEFAULTS: RepNoiseConfig = defaultsOf(REPNOISE_KNOBS);

/** [B, T, 1] mask of the positions that predict a response token. */
function responseMask(batch: TokenBatch, like: FloatArray): Tensor {
  const m = allocate(batch.B * batch.T, like);
  for (let i = 0; i < m.length; i++) m[i] = batch.targets[i] === -100 ? 0 : 1;
  return new Tensor(m, [batch.B, batch.T, 1]);
}

/** The RepNoise terms on a harmful batch: mean MMD to noise over layers, and mean logit-lens CE over hidden states. */
export function repNoiseTerms(model: DefendableLm, harmful: TokenBatch, rng: Rng): { noise: Tensor; lens: Tensor } {
  const L = model.layerCount;
  const hidden = ['embeddings', ...Array.from({ length: L }, (_, l) => `layers.${l}.output`)];
  const mlps = Array.from({ length: L }, (_, l) => `layers.${l}.mlp`);
  const wanted = new Set([...hidden, ...mlps]);
  const taps = new ActivationTaps().capture((n) => wanted.has(n));
  // The logit lens at the supervised positions only (the same loss, without the head's work on the prompt).
  const rows = supervisedRows(harmful.targets);
  const all = rows.length === 0;
  const kept = all ? harmful.targets : rows.map((r) => harmful.targets[r]);
  model.forward(harmful.ids, harmful.B, harmful.T, all ? { taps } : { taps, logitRows: rows });
  let lens: Tensor | null = null;
  for (const name of hidden) {
    const h = taps.activation(name);
    const ce = crossEntropy(model.head(all ? h : gatherRows(h, rows)), kept);
    lens = lens ? add(lens, ce) : ce;
  }
  let noise: Tensor | null = null;
  for (const name of mlps) {
    const h = taps.activation(name);
    const mask = responseMask(harmful, h.data);
    const gaussian = allocate(h.size, h.data);
    for (let i = 0; i < gaussian.length; i++) gaussian[i] = rng.normal();
    const flat = (t: Tensor) => reshape(mul(t, mask), [harmful.B, -1]);
    const d = gaussianMmd(flat(h), flat(new Tensor(gaussian, h.shape)));
    noise = noise ? add(noise, d) : d;
  }
  return { noise: scale(noise!, 1 / L), lens: scale(lens!, 1 / hidden.length) };
}

export class RepNoiseDefense implements Defense {
  readonly name = 'repnoise';
  readonly flow = 'double';
  readonly needsHarmful = true;
  readonly actsIn = ['align'] as const;
  constructor(readonly config: RepNoiseConfig = REPNOISE_DEFAULTS) {}

  stepGradient({ model, harmfulBatch, seed }: DefenseContext): StepGradient {
    const rng = new Rng(seed + 0x4e0);
    const { alpha, beta } = this.config;
    return (batch, step) => {
      const { noise, lens } = repNoiseTerms(model, harmfulBatch(step), rng);
      const loss = add(add(batchLoss(model, batch), scale(noise, beta)), scale(log(scale(lens, 1, 1)), -alpha));
      return backwardValue(loss);
    };
  }
}
