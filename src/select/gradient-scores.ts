/**
 * Model-based baseline selectors: each scores pool samples from the base model with a LoRA briefly trained
 * on the pool (warm-up), then discards the adapter.
 * - `loss` (EL2N-style): the sample's response loss; higher = kept (hard examples carry the signal).
 * - `gradnorm` (GraNd): the norm of the sample's LoRA gradient; higher = kept.
 * - `gradsim` (LESS / TracIn-style): the cosine between the sample's LoRA gradient and the mean validation
 *   gradient; higher = kept (training on it lowers the validation loss the most per unit step).
 */
import { gradNorm, gradientOf, noGrad, perExampleGradients, type GradMap, type Tensor } from '../engine/index.js';
import type { SupervisedExample } from '../data/prompt-format.js';
import { SFT_DEFAULTS } from '../train/sft.js';
import { defaultsOf, int, number, settableSinceKnobs, type KnobValues } from '../config/knobs.js';
import { meanLoss, perExampleLoss, type SelectableModel } from '../train/model-losses.js';
import {
  selectionAdapter,
  withSelectionAdapter,
  type EncodedSelection,
  type Ranking,
  type SelectionInput,
  type Selector,
} from './selector.js';

/**
 * The knobs of the gradient-score selectors (loss, gradnorm, gradsim), declared once (src/config/knobs.ts); first
 * settable after stages had been cached at the defaults.
 */
export const GRADIENT_SCORE_KNOBS = settableSinceKnobs({
  warmupEpochs: int(1, 'epochs of LoRA SFT on the pool before scoring (0: score at the base model)', 0),
  warmupLr: number(SFT_DEFAULTS.lr, 'warm-up learning rate (the alignment SFT default)'),
  batchSize: int(16, 'samples per scoring batch'),
});

export type GradientScoreConfig = KnobValues<typeof GRADIENT_SCORE_KNOBS>;
export const GRADIENT_SCORE_DEFAULTS: GradientScoreConfig = defaultsOf(GRADIENT_SCORE_KNOBS);

function batches<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let s = 0; s < xs.length; s += size) out.push(xs.slice(s, s + size));
  return out;
}

export function scoreByLoss(
  model: SelectableModel,
  pool: readonly SupervisedExample[],
  padTokenId: number,
  batchSize = 16,
): number[] {
  return noGrad(() => batches(pool, batchSize).flatMap((b) => Array.from(perExampleLoss(model, b, padTokenId).data)));
}

export function scoreByGradNorm(
  model: SelectableModel,
  params: readonly Tensor[],
  pool: readonly SupervisedExample[],
  padTokenId: number,
  batchSize = 16,
): number[] {
  return batches(pool, batchSize).flatMap((b) =>
    Array.from(perExampleGradients(params, b.length, () => perExampleLoss(model, b, padTokenId)).norms()),
  );
}

/** cos(grad l_i, mean validation gradient) for every pool sample. */
export function scoreByGradSim(
  model: SelectableModel,
  params: readonly Tensor[],
  pool: readonly SupervisedExample[],
  validation: readonly SupervisedExample[],
  padTokenId: number,
  batchSize = 16,
): number[] {
  const direction: GradMap = new Map(params.map((p) => [p, new Float64Array(p.size)]));
  const parts = batches(validation, batchSize);
  for (const part of parts) {
    const { grad } = gradientOf(params, () => meanLoss(model, part, padTokenId));
    // (g n) / N, not addScaled's g (n / N): that rounds differently, and the scores stay bit for bit.
    for (const p of params) {
      const d = direction.get(p)!,
        g = grad.get(p)!;
      for (let i = 0; i < d.length; i++) d[i] += (g[i] * part.length) / validation.length;
    }
  }
  const dn = gradNorm(direction) || 1;
  return batches(pool, batchSize).flatMap((b) => {
    const grads = perExampleGradients(params, b.length, () => perExampleLoss(model, b, padTokenId));
    const dots = grads.dot(direction),
      norms = grads.norms();
    return Array.from(dots, (d, i) => d / (dn * (norms[i] || 1)));
  });
}

export type GradientScoreKind = 'loss' | 'gradnorm' | 'gradsim';

export class GradientScoreSelector implements Selector {
  readonly needsModel = true;
  constructor(
    readonly name: GradientScoreKind,
    readonly config: GradientScoreConfig = GRADIENT_SCORE_DEFAULTS,
  ) {}

  async select(input: SelectionInput): Promise<Ranking> {
    const warmup = (s: EncodedSelection) =>
      selectionAdapter(s, input, { epochs: this.config.warmupEpochs, lr: this.config.warmupLr });
    return withSelectionAdapter(input, this.name, warmup, ({ model, encode, padTokenId }, lora) => {
      const pool = encode(input.pool);
      const params = lora.parameters();
      const size = this.config.batchSize;
      const scores =
        this.name === 'loss'
          ? scoreByLoss(model, pool, padTokenId, size)
          : this.name === 'gradnorm'
            ? scoreByGradNorm(model, params, pool, padTokenId, size)
            : scoreByGradSim(model, params, pool, encode(input.validation), padTokenId, size);
      return { scores, trace: { warmupEpochs: this.config.warmupEpochs } };
    });
  }
}
