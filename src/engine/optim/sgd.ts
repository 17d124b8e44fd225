/** Stochastic gradient descent with optional momentum (PyTorch's convention: v = mu v + g; p -= lr v). */
import { allocate, type FloatArray, type Tensor } from '../tensor.js';
import { trainable, zeroGrads, type Optimizer } from './optimizer.js';

export interface SgdConfig {
  /** Default 0 (plain SGD). */
  momentum?: number;
  /** L2 penalty added to the gradient, default 0. */
  weightDecay?: number;
}

export class Sgd implements Optimizer {
  private readonly velocity = new Map<Tensor, FloatArray>();

  constructor(
    readonly params: readonly Tensor[],
    private readonly config: SgdConfig = {},
  ) {}

  step(lr: number): void {
    const mu = this.config.momentum ?? 0;
    const wd = this.config.weightDecay ?? 0;
    for (const p of trainable(this.params)) {
      const w = p.data,
        g = p.grad;
      if (mu === 0) {
        for (let i = 0; i < w.length; i++) w[i] -= lr * (g[i] + wd * w[i]);
        continue;
      }
      let v = this.velocity.get(p);
      if (!v) {
        v = allocate(p.size, p.data);
        this.velocity.set(p, v);
      }
      for (let i = 0; i < w.length; i++) {
        v[i] = mu * v[i] + g[i] + wd * w[i];
        w[i] -= lr * v[i];
      }
    }
  }

  zeroGrad(): void {
    zeroGrads(this.params);
  }
}
