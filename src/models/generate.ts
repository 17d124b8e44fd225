/**
 * Greedy decoding by re-running the full forward each step (no KV cache yet: fine for short outputs of
 * small models; the cached, batched, sampling generator is the next step of the models work).
 */
import { noGrad, type Tensor } from '../engine/index.js';

export interface CausalLm {
  forward(ids: Int32Array, B: number, T: number): Tensor;
}

export function greedyGenerate(model: CausalLm, prompt: readonly number[], maxNewTokens: number, eos?: number): number[] {
  const tokens = [...prompt];
  const out: number[] = [];
  noGrad(() => {
    for (let step = 0; step < maxNewTokens; step++) {
      const T = tokens.length;
      const logits = model.forward(Int32Array.from(tokens), 1, T);
      const V = logits.shape[2];
      const last = logits.data.subarray((T - 1) * V, T * V);
      let best = 0;
      for (let v = 1; v < V; v++) if (last[v] > last[best]) best = v;
      tokens.push(best);
      out.push(best);
      if (best === eos) break;
    }
  });
  return out;
}
