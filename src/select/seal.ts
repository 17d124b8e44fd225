/**
 * SEAL (Shen et al., 2024), the bilevel data selector solved by the penalty method, in its memory-efficient
 * form (no auxiliary lower-level copy of the weights):
 *   weights   pi = N softmax(omega)
 *   theta     theta <- theta - eta grad_theta [ c_e L_v(theta) + (1/|B|) sum_{i in B} pi_i l_i(theta) ]
 *   omega     omega <- Adam step on grad_omega (1/|B|) sum_{i in B} pi_i l_i(theta)   (after the theta step)
 * The upper-level (validation) weight c_e = upperWeight * upperDecay^e decays each epoch, i.e. the penalty
 * on the lower-level objective grows. Samples that stay costly while the model is pulled toward the
 * validation data lose weight. Rank by omega.
 */
import { Rng, Tensor, add, allocate, gradientOf, mul, noGrad, scale, stepAlong, sum } from '../engine/index.js';
import type { SupervisedExample } from '../data/prompt-format.js';
import { defaultsOf, int, number, settableSinceKnobs, type KnobValues } from '../config/knobs.js';
import { meanLoss, perExampleLoss, type SelectableModel } from '../train/model-losses.js';
import { LogitAdam, sampleWeights, weightsVjp } from './pharmacist.js';
import {
  selectionAdapter,
  withSelectionAdapter,
  type Ranking,
  type SelectionInput,
  type Selector,
} from './selector.js';

/** SEAL's knobs, declared once (src/config/knobs.ts); first settable after stages had been cached at the defaults. */
export const SEAL_KNOBS = settableSinceKnobs({
  epochs: int(2, 'passes over the pool'),
  batchSize: int(16, 'pool samples per step'),
  evalBatchSize: int(16, 'validation samples per step'),
  innerLr: number(0.05, 'SGD learning rate of the LoRA weights'),
  selectorLr: number(0.1, 'Adam learning rate of the logits'),
  upperWeight: number(1, "initial weight of the upper-level (validation) loss in the weights' objective", {
    min: 0,
    inclusive: true,
  }),
  upperDecay: number(0.5, 'its factor per epoch (the penalty method anneals it)', { min: 0, inclusive: true }),
});

export type SealConfig = KnobValues<typeof SEAL_KNOBS>;
export const SEAL_DEFAULTS: SealConfig = defaultsOf(SEAL_KNOBS);

export interface SealData {
  pool: readonly SupervisedExample[];
  validation: readonly SupervisedExample[];
  padTokenId: number;
}

export function learnSeal(
  model: SelectableModel,
  params: readonly Tensor[],
  data: SealData,
  options: Partial<SealConfig> & { seed?: number } = {},
): { omega: Float64Array; trace: { epoch: number; upperWeight: number; validationLoss: number }[] } {
  const cfg = { ...SEAL_DEFAULTS, ...options };
  const N = data.pool.length;
  const omega = new Float64Array(N);
  const optimizer = new LogitAdam(N, cfg.selectorLr);
  const rng = new Rng(options.seed ?? 0);
  const trace: { epoch: number; upperWeight: number; validationLoss: number }[] = [];
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    const c = cfg.upperWeight * cfg.upperDecay ** epoch;
    const order = rng.shuffle(Array.from({ length: N }, (_, i) => i));
    let validationLoss = 0,
      steps = 0;
    for (let s = 0; s < N; s += cfg.batchSize) {
      const batch = order.slice(s, s + cfg.batchSize);
      const examples = batch.map((i) => data.pool[i]);
      const val = Array.from(
        { length: Math.min(cfg.evalBatchSize, data.validation.length) },
        () => data.validation[rng.int(data.validation.length)],
      );
      const pi = sampleWeights(omega, 'softmax'); // omega moves only in the optimizer step below
      const weights = new Tensor(
        allocate(batch.length, params[0].data).map((_, b) => pi[batch[b]] / batch.length),
        [batch.length],
      );
      const lower = gradientOf(params, () => {
        const v = scale(meanLoss(model, val, data.padTokenId), c);
        return add(sum(mul(perExampleLoss(model, examples, data.padTokenId), weights)), v);
      });
      stepAlong(params, lower.grad, -cfg.innerLr);
      // d/dpi_i of (1/|B|) sum pi_i l_i(theta) is l_i / |B|: costly samples lose weight.
      const per = noGrad(() => perExampleLoss(model, examples, data.padTokenId).data);
      const dPi = new Float64Array(N);
      batch.forEach((i, b) => {
        dPi[i] = per[b] / batch.length;
      });
      optimizer.step(omega, batch, weightsVjp(omega, pi, dPi, 'softmax'));
      validationLoss += lower.value;
      steps++;
    }
    trace.push({ epoch, upperWeight: c, validationLoss: validationLoss / steps });
  }
  return { omega, trace };
}

export class SealSelector implements Selector {
  readonly name = 'seal';
  readonly needsModel = true;
  constructor(readonly config: SealConfig = SEAL_DEFAULTS) {}

  async select(input: SelectionInput): Promise<Ranking> {
    return withSelectionAdapter(
      input,
      this.name,
      (s) => selectionAdapter(s, input, { epochs: 0, lr: 0 }),
      ({ model, encode, padTokenId }, lora) => {
        const result = learnSeal(
          model,
          lora.parameters(),
          { pool: encode(input.pool), validation: encode(input.validation), padTokenId },
          { ...this.config, seed: input.seed },
        );
        return { scores: Array.from(result.omega), trace: result.trace };
      },
    );
  }
}
