/** The seed flags of the stage commands: --seed (the replicate seed) and --<stage>-seed per stage used, declared once. */
import type { Command } from 'commander';
import { stageSeeds, type SeedStage, type StageSeeds } from '../pipeline/seeds.js';
import { nonNegativeInt } from './parse.js';

const WHAT: Record<SeedStage, string> = {
  world: "the embedded world's training-side draws (pool, validation, harmful set, fine-tuning data)",
  select: "the selector's randomness",
  align: 'adapter init, dropout and batch order of the alignment',
  attack: 'adapter init, dropout and batch order of the attack',
  eval: 'which harmful prompts and task items are evaluated (and probed)',
};

export interface SeedFlags {
  seed: number;
  worldSeed?: number;
  selectSeed?: number;
  alignSeed?: number;
  attackSeed?: number;
  evalSeed?: number;
}

export function addSeedFlags(command: Command, stages: readonly SeedStage[]): Command {
  command.option(
    '--seed <n>',
    'replicate seed: world = seed, every other stage seed derived from it (src/pipeline/seeds.ts)',
    nonNegativeInt,
    0,
  );
  for (const stage of stages)
    command.option(`--${stage}-seed <n>`, `seed of ${WHAT[stage]} (default: derived from --seed)`, nonNegativeInt);
  return command;
}

export const seedsOf = (o: SeedFlags): StageSeeds =>
  stageSeeds(o.seed, {
    world: o.worldSeed,
    select: o.selectSeed,
    align: o.alignSeed,
    attack: o.attackSeed,
    eval: o.evalSeed,
  });
