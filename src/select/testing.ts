/**
 * A constructed selection problem for selector tests: on a tiny Llama with a random adapter, "clean" pool
 * samples answer any prompt with the validation set's reply (as refusals do) and "noisy" ones with random
 * tokens that never occur in it. A good selector ranks the clean half first.
 */
import { Rng } from '../engine/index.js';
import type { SupervisedExample } from '../data/prompt-format.js';
import { LlamaModel } from '../models/llama.js';
import { attachLora } from '../models/lora.js';

export function cleanNoiseProblem(seed: number, poolSize = 32) {
  const rng = new Rng(10 + seed);
  const example = (ids: number[]): SupervisedExample => ({ ids, labels: ids.map((id, t) => (t < 2 ? -100 : id)) });
  const clean = () => example([1 + rng.int(11), 1 + rng.int(11), 3, 7, 5]);
  const noise = () => example([1 + rng.int(11), 1 + rng.int(11), 8 + rng.int(24), 8 + rng.int(24), 8 + rng.int(24)]);
  // Clean samples at odd or even indices depending on the seed: a ranking by index or visiting order fails one seed.
  const isClean = (i: number) => i % 2 === seed % 2;
  const pool = Array.from({ length: poolSize }, (_, i) => (isClean(i) ? clean() : noise()));
  const model = new LlamaModel(
    { vocabSize: 32, hiddenSize: 16, intermediateSize: 24, numLayers: 1, numHeads: 2, maxPositions: 16 },
    seed,
  );
  const lora = attachLora(
    model,
    { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj', 'o_proj', 'down_proj'] },
    seed,
  );
  lora.training = false;
  // Random adapter weights (not PEFT's B = 0) so that both factors carry the signal from the first step.
  const init = new Rng(seed + 50);
  for (const p of lora.parameters()) for (let i = 0; i < p.size; i++) p.data[i] = 0.3 * init.normal();
  return {
    model,
    params: lora.parameters(),
    pool,
    validation: Array.from({ length: 16 }, clean),
    harmful: Array.from({ length: 8 }, noise),
    isClean,
    padTokenId: 0,
  };
}

/** How many of the top `k` scores belong to clean samples. */
export function cleanInTop(scores: readonly number[], isClean: (i: number) => boolean, k: number): number {
  return scores
    .map((s, i) => [s, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .filter(([, i]) => isClean(i)).length;
}
