/** AdamW (Loshchilov & Hutter): Adam moments with weight decay applied to the weights, not the gradient. */
import { getBackend } from '../backends/select.js';
import { allocate, type FloatArray, type Tensor } from '../tensor.js';
import { trainable, zeroGrads, type Optimizer } from './optimizer.js';

export interface AdamWConfig {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled decay coefficient, default 0 (as the reference LoRA recipes use). */
  weightDecay?: number;
  /** Which parameters decay (default: all). */
  decays?: (p: Tensor) => boolean;
}

export class AdamW implements Optimizer {
  private readonly moments = new Map<Tensor, { m: FloatArray; v: FloatArray }>();
  private t = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly decays: (p: Tensor) => boolean;

  constructor(
    readonly params: readonly Tensor[],
    config: AdamWConfig = {},
  ) {
    this.beta1 = config.beta1 ?? 0.9;
    this.beta2 = config.beta2 ?? 0.999;
    this.eps = config.eps ?? 1e-8;
    this.weightDecay = config.weightDecay ?? 0;
    this.decays = config.decays ?? (() => true);
  }

  get stepCount(): number {
    return this.t;
  }

  step(lr: number): void {
    this.t++;
    const be = getBackend();
    const biasCorrection1 = 1 - Math.pow(this.beta1, this.t);
    const biasCorrection2 = 1 - Math.pow(this.beta2, this.t);
    for (const p of trainable(this.params)) {
      let state = this.moments.get(p);
      if (!state) {
        state = { m: allocate(p.size, p.data), v: allocate(p.size, p.data) };
        this.moments.set(p, state);
      }
      be.adamw(p.data, p.grad, state.m, state.v, {
        lr,
        beta1: this.beta1,
        beta2: this.beta2,
        eps: this.eps,
        weightDecay: this.decays(p) ? this.weightDecay : 0,
        biasCorrection1,
        biasCorrection2,
      });
    }
  }

  zeroGrad(): void {
    zeroGrads(this.params);
  }

  /** Step count and moments by parameter name, for checkpoints (parameters must be named). */
  exportState(): { step: number; moments: Map<string, { m: FloatArray; v: FloatArray }> } {
    const moments = new Map<string, { m: FloatArray; v: FloatArray }>();
    for (const [p, state] of this.moments) {
      if (!p.name) throw new Error('AdamW.exportState: every parameter needs a name');
      moments.set(p.name, state);
    }
    return { step: this.t, moments };
  }

  importState(state: { step: number; moments: Map<string, { m: FloatArray; v: FloatArray }> }): void {
    this.t = state.step;
    this.moments.clear();
    for (const p of this.params) {
      const saved = p.name ? state.moments.get(p.name) : undefined;
      if (saved) {
        if (saved.m.length !== p.size)
          throw new Error(
            `AdamW.importState: "${p.name}" has ${saved.m.length} moments, the parameter ${p.size} values`,
          );
        this.moments.set(p, saved);
      }
    }
  }
}
