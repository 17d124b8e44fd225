/** A tiny model with a random-initialised LoRA adapter and seeded token batches, for the defense tests. */
import { Rng } from '../engine/index.js';
import { collate, type TokenBatch } from '../data/batch.js';
import { LlamaModel } from '../models/llama.js';
import { attachLora } from '../models/lora.js';

export function tinyDefenseSetup(layers = 2) {
  const model = new LlamaModel(
    { vocabSize: 16, hiddenSize: 8, intermediateSize: 12, numLayers: layers, numHeads: 2, maxPositions: 16 },
    1,
  );
  const lora = attachLora(
    model,
    { r: 2, alpha: 4, dropout: 0, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'up_proj', 'down_proj'] },
    2,
  );
  // Random adapter weights (not PEFT's B = 0), so that every factor has a gradient from the first step.
  const rng = new Rng(3);
  for (const p of lora.parameters()) for (let i = 0; i < p.size; i++) p.data[i] = 0.3 * rng.normal();
  const batch = (seed: number): TokenBatch => {
    const r = new Rng(seed);
    return collate(
      Array.from({ length: 3 }, () => {
        const ids = Array.from({ length: 5 + r.int(3) }, () => 1 + r.int(15));
        return { ids, labels: ids.map((id, t) => (t < 2 ? -100 : id)) };
      }),
      0,
    );
  };
  return { model, lora, params: lora.parameters(), batch };
}
