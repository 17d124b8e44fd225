/**
 * Reverse-mode autodiff. Each op records a GradNode on its output (closure holding what it saved);
 * backward() walks the graph from the loss in reverse topological order, accumulates gradients into
 * leaves (`.grad += ...`, so several backward calls accumulate) and into intermediates that asked for it
 * (`retainGrad`), and drops every node it passed so the saved activations can be collected.
 */
import { getBackend } from './backends/select.js';
import { Tensor, type FloatArray, type GradNode, allocate, formatShape } from './tensor.js';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run `fn` without recording any op (inference, evaluation, weight updates). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Attach `backward` to `out` when grad is enabled and some input needs a gradient. Ops call this once,
 * right after their forward, so forward and backward sit side by side in the op's function.
 */
export function record(
  op: string,
  out: Tensor,
  inputs: readonly Tensor[],
  backward: (dOut: FloatArray) => (FloatArray | null)[],
): Tensor {
  if (!gradEnabled) return out;
  if (!inputs.some((t) => t.requiresGrad)) return out;
  out.requiresGrad = true;
  const node: GradNode = { op, inputs, backward };
  out.node = node;
  return out;
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative DFS: transformer graphs are thousands of nodes deep in a chain.
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, next] = top;
    const inputs = t.node?.inputs ?? [];
    if (next < inputs.length) {
      top[1] = next + 1;
      const child = inputs[next];
      if (child.requiresGrad && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      order.push(t);
      stack.pop();
    }
  }
  return order; // inputs before outputs
}

function accumulate(target: FloatArray, source: FloatArray): void {
  getBackend().accumulate(target, source);
}

export interface BackwardOptions {
  /** Gradient of the final objective w.r.t. `root` (defaults to ones: root is a scalar loss). */
  gradient?: FloatArray;
  /** Keep the graph so backward can run again over it (costs the saved activations' memory). */
  retainGraph?: boolean;
}

export function backward(root: Tensor, options: BackwardOptions = {}): void {
  if (!root.requiresGrad) throw new Error('backward(): the tensor does not depend on any parameter that requires grad');
  let seed = options.gradient;
  if (!seed) {
    if (root.size !== 1)
      throw new Error(
        `backward(): root has shape ${formatShape(root.shape)}; pass options.gradient for non-scalar roots`,
      );
    seed = allocate(1, root.data);
    seed[0] = 1;
  } else if (seed.length !== root.size) {
    throw new Error(`backward(): gradient has ${seed.length} values, root has ${root.size}`);
  } else {
    seed = seed.slice(); // never accumulate into the caller's array
  }
  const order = topologicalOrder(root);
  const grads = new Map<Tensor, FloatArray>();
  // Ops may hand the same array to several inputs (add passes dOut through); an array the map holds is
  // copied before a second owner could accumulate into it.
  const held = new Set<FloatArray>();
  grads.set(root, seed);
  held.add(seed);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const g = grads.get(t);
    grads.delete(t);
    if (!g) continue;
    held.delete(g);
    const node = t.node;
    if (!node || t.retainsGrad) {
      // First gradient since zeroGrad (which sets grads to null): adopt the array instead of adding it
      // to zeros. Safe because `g` is owned by this walk and nothing reads it after this iteration
      // except this node's backward, which never writes its dOut.
      if (t.grad) accumulate(t.grad, g);
      else t.grad = node ? g.slice() : g;
    }
    if (!node) continue;
    const inputGrads = node.backward(g);
    if (!options.retainGraph) t.node = null;
    for (let j = 0; j < node.inputs.length; j++) {
      const input = node.inputs[j];
      const gi = inputGrads[j];
      if (!gi || !input.requiresGrad) continue;
      const existing = grads.get(input);
      if (existing) accumulate(existing, gi);
      else {
        const owned = held.has(gi) ? gi.slice() : gi;
        grads.set(input, owned);
        held.add(owned);
      }
    }
  }
}
