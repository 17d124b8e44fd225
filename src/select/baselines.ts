/** The trivial selectors: `full` keeps everything (scores all equal), `random` ranks by a seeded shuffle. */
import { Rng } from '../engine/index.js';
import type { Ranking, SelectionInput, Selector } from './selector.js';

export class FullSelector implements Selector {
  readonly name = 'full';
  readonly needsModel = false;
  async select(input: SelectionInput): Promise<Ranking> {
    return { scores: input.pool.map(() => 1) };
  }
}

export class RandomSelector implements Selector {
  readonly name = 'random';
  readonly needsModel = false;
  async select(input: SelectionInput): Promise<Ranking> {
    const rng = new Rng(input.seed);
    return { scores: input.pool.map(() => rng.uniform()) };
  }
}
