/**
 * The seeds of one replicate, one per stage, so that each source of noise can be varied alone (the variance
 * decomposition varies selection, alignment and attack seeds on one world):
 * - world: the training-side draws of the embedded world (pool, validation, harmful set, fine-tuning data);
 * - select: the selector's randomness (Random's order, Pharmacist's batches and adapter);
 * - align / attack: adapter initialisation, dropout and batch order of each training;
 * - eval: which harmful prompts and task items are drawn for the evaluation (and the attack's probe).
 * Default derivation from a replicate seed s: world = s (the world of seed s is the same as before seeds were
 * split), every other stage deriveSeed(s, stage), a 31-bit hash of (stage, s): unrelated streams, and no stage
 * shares the world's seed.
 */
import { deriveSeed } from '../engine/index.js';

export const SEED_STAGES = ['world', 'select', 'align', 'attack', 'eval'] as const;
export type SeedStage = (typeof SEED_STAGES)[number];
export type StageSeeds = Record<SeedStage, number>;

/** Every stage's seed for replicate `seed`, by the default derivation, with `overrides` taking precedence. */
export function stageSeeds(seed: number, overrides: Partial<StageSeeds> = {}): StageSeeds {
  const derived = Object.fromEntries(
    SEED_STAGES.map((stage) => [stage, stage === 'world' ? seed : deriveSeed(seed, stage)]),
  ) as StageSeeds;
  for (const stage of SEED_STAGES) if (overrides[stage] !== undefined) derived[stage] = overrides[stage]!;
  return derived;
}

/** The seeds that differ from the default derivation of `seed`, as "select 3, align 1" ('' when none do). */
export function describeSeedOverrides(seed: number, seeds: StageSeeds): string {
  const derived = stageSeeds(seed);
  return SEED_STAGES.filter((s) => seeds[s] !== derived[s])
    .map((s) => `${s} ${seeds[s]}`)
    .join(', ');
}
