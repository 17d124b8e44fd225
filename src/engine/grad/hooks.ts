/**
 * Named activation points. A model passes selected activations through `taps.at(name, x)`; a caller
 * can then read the loss gradient with respect to any of them after backward (`gradOf`), and add a
 * constant tensor to them in a later forward pass (`perturb`), with no gradient through the constant.
 * This is the hook Vaccine-style perturbations and representation losses need; the engine attaches no
 * meaning to the names.
 */
import type { Tensor, FloatArray } from '../tensor.js';
import { add } from '../ops/elementwise.js';
import { formatShape, shapeEquals } from '../tensor.js';

export class ActivationTaps {
  private readonly perturbations = new Map<string, Tensor>();
  private readonly captured = new Map<string, Tensor>();
  private captureFilter: ((name: string) => boolean) | null = null;

  /** Record activations (and keep their gradients) whose names pass `filter`; null stops recording. */
  capture(filter: ((name: string) => boolean) | null): this {
    this.captureFilter = filter;
    this.captured.clear();
    return this;
  }

  /** Add `delta` (constant, same shape) to activation `name` in subsequent forwards. */
  perturb(name: string, delta: Tensor): this {
    this.perturbations.set(name, delta.detach());
    return this;
  }

  clearPerturbations(): this {
    this.perturbations.clear();
    return this;
  }

  /** Called by models at each named point; returns the (possibly perturbed) activation to use. */
  at(name: string, x: Tensor): Tensor {
    let y = x;
    const delta = this.perturbations.get(name);
    if (delta) {
      if (!shapeEquals(delta.shape, x.shape))
        throw new Error(
          `perturbation for "${name}" has shape ${formatShape(delta.shape)}, activation has ${formatShape(x.shape)}`,
        );
      y = add(x, delta);
    }
    if (this.captureFilter?.(name)) {
      y.retainGrad();
      this.captured.set(name, y);
    }
    return y;
  }

  /** Names captured in the last forward, in the order they were reached. */
  names(): string[] {
    return [...this.captured.keys()];
  }

  activation(name: string): Tensor {
    const t = this.captured.get(name);
    if (!t) throw new Error(`activation "${name}" was not captured in the last forward`);
    return t;
  }

  /** d loss / d activation after backward (zeros if the loss did not depend on it). */
  gradOf(name: string): FloatArray {
    const t = this.activation(name);
    return t.grad ?? new (t.data.constructor as Float32ArrayConstructor)(t.size);
  }
}
