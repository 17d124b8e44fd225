/**
 * The Pharmacist selector: one logit per pool sample, learned by bilevel optimization with a one-step
 * unrolled hypergradient.
 *   weights   pi = N softmax(omega)  (or 2 sigmoid(omega))
 *   lower     theta+ = theta - eta grad (1/|B|) sum_{i in B} pi_i l_i(theta)       (SGD on the LoRA weights)
 *   upper     F(theta) = L_v(theta) + lambda S(theta),  S = -L_h(theta - alpha g_h / |g_h|)  ('simulated'),
 *             -L_h(theta) ('plain') or 0 ('none'); first order: the simulated step's direction is a constant.
 *   hyper     dF/dpi_i = -(eta/|B|) <grad l_i(theta), grad F(theta+)>,  dF/domega = J_pi(omega)^T dF/dpi
 * omega moves by Adam (minibatch logits only, one shared second moment); theta keeps the lower step (the lower
 * problem advances with the selector).
 * The inner products come from per-example gradients (one batched backward) or, as a check and for models
 * whose parameters do not all enter through linear(), from central differences of the per-example losses.
 */
import { performance } from 'node:perf_hooks';
import {
  PerExampleGrads,
  Rng,
  Tensor,
  addScaled,
  allocate,
  directionalDerivative,
  gradNorm,
  gradientOf,
  mul,
  perExampleGradients,
  restoreParameters,
  scale,
  snapshotParameters,
  stepAlong,
  sum,
  type GradMap,
} from '../engine/index.js';
import { choice, defaultsOf, int, number, type KnobValues } from '../config/knobs.js';
import { meanLoss, perExampleLoss, type SelectableModel } from '../train/model-losses.js';
import { formatSeconds } from '../train/trainer.js';
import type { SupervisedExample } from '../data/prompt-format.js';

export const WEIGHT_FORMS = ['softmax', 'sigmoid'] as const;
export const SAFETY_TERMS = ['simulated', 'plain', 'none'] as const;
export type WeightForm = (typeof WEIGHT_FORMS)[number];
export type SafetyTerm = (typeof SAFETY_TERMS)[number];

/** The bilevel pass's knobs, declared once (src/config/knobs.ts derives the CLI flags and the grid schema). */
export const PHARMACIST_KNOBS = {
  epochs: int(1, 'passes over the pool (a second pass left 87% of planted samples out, against 90.5% for one)'),
  lambda: number(1, 'weight lambda of the safety-critical term S', { min: 0, inclusive: true }),
  alpha: number(0.5, 'norm alpha of the simulated harmful step', { min: 0, inclusive: true }),
  // At 1 the selector's adapter learned the refusals within the pass and ranked worse (79% of planted samples
  // left out of the top 40%, against 87.5%).
  innerLr: number(0.05, 'lower-level SGD learning rate eta on the LoRA weights (at 1 it ranked worse)'),
  selectorLr: number(0.1, 'Adam learning rate on the logits omega'),
  batchSize: int(16, 'pool samples per lower step'),
  evalBatchSize: int(16, 'validation / harmful samples per upper gradient'),
  safety: choice(SAFETY_TERMS, 'plain', 'safety-critical term S of the upper objective (measured: README)'),
  weightForm: choice(WEIGHT_FORMS, 'softmax', 'sample weights from logits: N softmax(omega) or 2 sigmoid(omega)'),
  // A step costs about 1.6 s on the embedded model, 2 cores: 100 s for a 1,000-sample pool.
  upperEvery: int(4, 'recompute grad F every this many steps and reuse it in between (1: every step, exact)'),
  innerProducts: choice(
    ['per-example', 'directional'],
    'per-example',
    'inner products from per-example gradients, or from directional derivatives (a check)',
    { unkeyedAt: 'per-example' },
  ),
} as const;

export type PharmacistConfig = KnobValues<typeof PHARMACIST_KNOBS> & {
  /** Minibatch order. */
  seed: number;
};

export const PHARMACIST_DEFAULTS: PharmacistConfig = { ...defaultsOf(PHARMACIST_KNOBS), seed: 0 };

export type { SelectableModel };

export interface BilevelData {
  pool: readonly SupervisedExample[];
  validation: readonly SupervisedExample[];
  harmful: readonly SupervisedExample[];
  padTokenId: number;
}

export function sampleWeights(omega: Float64Array, form: WeightForm): Float64Array {
  const N = omega.length;
  if (form === 'sigmoid') return omega.map((w) => 2 / (1 + Math.exp(-w)));
  const max = Math.max(...omega);
  const e = omega.map((w) => Math.exp(w - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => (N * v) / z);
}

/** J_pi(omega)^T v for the chosen weight form (v nonzero only on the minibatch, the result is dense). */
export function weightsVjp(omega: Float64Array, pi: Float64Array, v: Float64Array, form: WeightForm): Float64Array {
  if (form === 'sigmoid') return pi.map((p, i) => v[i] * p * (1 - p / 2)); // d(2 sigma)/dw = 2 sigma (1 - sigma)
  const N = omega.length;
  let weighted = 0;
  for (let i = 0; i < N; i++) weighted += v[i] * pi[i];
  return pi.map((p, j) => p * v[j] - (p / N) * weighted); // pi_j (v_j - sum_i p_i v_i), p = pi / N
}

export interface UpperGradient {
  /** F(theta) */
  value: number;
  validationLoss: number;
  harmfulLoss: number;
  /** |grad L_v| and |grad L_h| (at the simulated point for 'simulated'): how lambda weighs the two terms. */
  validationGradNorm: number;
  harmfulGradNorm: number;
  grad: GradMap;
}

/** F and grad F at the current parameters; the parameters are unchanged afterwards (bit-exact). */
export function upperGradient(
  model: SelectableModel,
  params: readonly Tensor[],
  val: readonly SupervisedExample[],
  harm: readonly SupervisedExample[],
  padTokenId: number,
  cfg: Pick<PharmacistConfig, 'safety' | 'lambda' | 'alpha'>,
): UpperGradient {
  const v = gradientOf(params, () => meanLoss(model, val, padTokenId));
  const grad = v.grad;
  let harmfulLoss = Number.NaN,
    harmfulGradNorm = Number.NaN,
    value = v.value;
  const validationGradNorm = gradNorm(grad);
  if (cfg.safety !== 'none' && cfg.lambda !== 0) {
    const h = gradientOf(params, () => meanLoss(model, harm, padTokenId));
    harmfulLoss = h.value;
    let hg = h;
    if (cfg.safety === 'simulated') {
      const n = gradNorm(h.grad);
      const saved = snapshotParameters(params);
      if (n > 0) stepAlong(params, h.grad, -cfg.alpha / n);
      hg = gradientOf(params, () => meanLoss(model, harm, padTokenId));
      restoreParameters(saved);
    }
    harmfulGradNorm = gradNorm(hg.grad);
    addScaled(grad, hg.grad, -cfg.lambda); // g + (-l) d rounds exactly as g - l d
    value -= cfg.lambda * hg.value;
  }
  return { value, validationLoss: v.value, harmfulLoss, validationGradNorm, harmfulGradNorm, grad };
}

export interface HyperStep {
  /** dF/domega, dense over the pool. */
  dOmega: Float64Array;
  /** F(theta+) */
  upper: UpperGradient;
  /** <grad l_i(theta), grad F(theta+)> for the minibatch. */
  innerProducts: Float64Array;
}

/**
 * One lower step on `batch` (pool indices) followed by the hypergradient of F(theta+) in omega.
 * Leaves the parameters at theta+.
 */
export function hyperStep(
  model: SelectableModel,
  params: readonly Tensor[],
  omega: Float64Array,
  batch: readonly number[],
  val: readonly SupervisedExample[],
  harm: readonly SupervisedExample[],
  data: BilevelData,
  cfg: PharmacistConfig,
  reuse?: UpperGradient,
): HyperStep {
  const examples = batch.map((i) => data.pool[i]);
  const pi = sampleWeights(omega, cfg.weightForm);
  const B = batch.length;
  // grad l_i(theta) for the minibatch, or theta itself for the directional route (which evaluates there).
  const perExample =
    cfg.innerProducts === 'per-example'
      ? perExampleGradients(params, B, () => perExampleLoss(model, examples, data.padTokenId))
      : null;
  const theta = perExample ? null : snapshotParameters(params);
  // grad (1/B) sum pi_i l_i: from the per-example gradients when we have them (no second pass).
  const weighted = perExample
    ? weightedSum(
        params,
        perExample,
        batch.map((i) => pi[i] / B),
      )
    : gradientOf(params, () => {
        const per = perExampleLoss(model, examples, data.padTokenId);
        return scale(
          sum(
            mulConst(
              per,
              batch.map((i) => pi[i]),
            ),
          ),
          1 / B,
        );
      }).grad;
  stepAlong(params, weighted, -cfg.innerLr); // theta+ = theta - eta grad (1/B) sum pi_i l_i
  const upper = reuse ?? upperGradient(model, params, val, harm, data.padTokenId, cfg);
  let dots: Float64Array;
  if (perExample) {
    dots = perExample.dot(upper.grad);
  } else {
    const thetaPlus = snapshotParameters(params);
    restoreParameters(theta!);
    dots = directionalDerivative(upper.grad, () => perExampleLoss(model, examples, data.padTokenId));
    restoreParameters(thetaPlus);
  }
  const dPi = new Float64Array(omega.length);
  batch.forEach((i, b) => {
    dPi[i] += (-cfg.innerLr / B) * dots[b];
  });
  return { dOmega: weightsVjp(omega, pi, dPi, cfg.weightForm), upper, innerProducts: dots };
}

function weightedSum(params: readonly Tensor[], grads: PerExampleGrads, coefficients: readonly number[]): GradMap {
  const out: GradMap = new Map();
  for (const p of params) {
    const acc = allocate(p.size, p.data);
    coefficients.forEach((c, b) => {
      const g = grads.of(p, b);
      for (let i = 0; i < acc.length; i++) acc[i] += c * g[i];
    });
    out.set(p, acc);
  }
  return out;
}

function mulConst(t: Tensor, values: ArrayLike<number>): Tensor {
  const data = allocate(values.length, t.data);
  data.set(values);
  return mul(t, new Tensor(data, [values.length]));
}

/**
 * Adam over the minibatch's logits only, with one second moment shared by the whole pool. Each logit sees a
 * gradient on about `epochs` steps; per-coordinate normalization would turn every one of them into +-lr
 * (erasing how much a sample helps or hurts), and moving the logits off the minibatch would turn softmax's
 * tiny shared coupling term into a drift that ranks samples by when they were visited.
 */
export class LogitAdam {
  private readonly m: Float64Array;
  private readonly visits: Uint32Array;
  private vShared = 0;
  private t = 0;

  constructor(
    size: number,
    readonly lr: number,
  ) {
    this.m = new Float64Array(size);
    this.visits = new Uint32Array(size);
  }

  /** omega[i] -= lr mhat_i / sqrt(vhat) for i in batch, from the dense gradient `grad`. */
  step(omega: Float64Array, batch: readonly number[], grad: Float64Array): void {
    this.t++;
    let squares = 0;
    for (const i of batch) squares += grad[i] * grad[i];
    this.vShared = 0.999 * this.vShared + 0.001 * (squares / batch.length);
    const scale = this.lr / (Math.sqrt(this.vShared / (1 - 0.999 ** this.t)) + 1e-12);
    for (const i of batch) {
      const n = ++this.visits[i];
      this.m[i] = 0.9 * this.m[i] + 0.1 * grad[i];
      omega[i] -= scale * (this.m[i] / (1 - 0.9 ** n));
    }
  }
}

export interface SelectionTrace {
  epoch: number;
  step: number;
  upper: number;
  validationLoss: number;
  harmfulLoss: number;
  validationGradNorm: number;
  harmfulGradNorm: number;
}

export interface PharmacistResult {
  /** Final logits: the ranking score of each pool sample. */
  omega: Float64Array;
  trace: SelectionTrace[];
}

/** Learn omega over `epochs` passes of the pool; returns the logits (rank by them, highest first). */
export function learnSelector(
  model: SelectableModel,
  params: readonly Tensor[],
  data: BilevelData,
  options: Partial<PharmacistConfig> = {},
  log: (line: string) => void = () => {},
): PharmacistResult {
  const cfg: PharmacistConfig = { ...PHARMACIST_DEFAULTS, ...options };
  const N = data.pool.length;
  const omega = new Float64Array(N);
  const optimizer = new LogitAdam(N, cfg.selectorLr);
  const rng = new Rng(cfg.seed);
  const trace: SelectionTrace[] = [];
  const pick = (xs: readonly SupervisedExample[]) =>
    Array.from({ length: Math.min(cfg.evalBatchSize, xs.length) }, () => xs[rng.int(xs.length)]);
  let t = 0;
  let upper: UpperGradient | undefined;
  const totalSteps = cfg.epochs * Math.ceil(N / cfg.batchSize);
  const logEvery = Math.max(1, Math.floor(totalSteps / 10));
  const started = performance.now();
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    const order = rng.shuffle(Array.from({ length: N }, (_, i) => i));
    for (let s = 0; s < N; s += cfg.batchSize) {
      const fresh = t % cfg.upperEvery === 0;
      const batch = order.slice(s, s + cfg.batchSize);
      const step = hyperStep(
        model,
        params,
        omega,
        batch,
        pick(data.validation),
        pick(data.harmful),
        data,
        cfg,
        fresh ? undefined : upper,
      );
      upper = step.upper;
      t++;
      optimizer.step(omega, batch, step.dOmega);
      trace.push({
        epoch,
        step: t,
        upper: step.upper.value,
        validationLoss: step.upper.validationLoss,
        harmfulLoss: step.upper.harmfulLoss,
        validationGradNorm: step.upper.validationGradNorm,
        harmfulGradNorm: step.upper.harmfulGradNorm,
      });
      if (t % logEvery === 0 || t === totalSteps) {
        const elapsed = (performance.now() - started) / 1000;
        log(
          `selector step ${t}/${totalSteps} (epoch ${epoch + 1}/${cfg.epochs}): F ${step.upper.value.toFixed(4)} ` +
            `(L_v ${step.upper.validationLoss.toFixed(4)}, L_h ${step.upper.harmfulLoss.toFixed(4)}, ` +
            `|g_v| ${step.upper.validationGradNorm.toExponential(2)}, ` +
            `|g_h| ${step.upper.harmfulGradNorm.toExponential(2)})  ` +
            `${formatSeconds(elapsed)} elapsed, ETA ${formatSeconds((elapsed / t) * (totalSteps - t))}`,
        );
      }
    }
  }
  return { omega, trace };
}
