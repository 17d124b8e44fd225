/**
 * Controls: what a trivial rule gets, set next to every selection claim (issue: comparisons that decide).
 * The embedded pool's quality signal is largely "is the answer a plain refusal", and Pharmacist's top 40% is
 * nearly all refusals, mostly short ones; these two rankings keep exactly that and nothing more.
 * - `refusal`: refusals first, in random order, then the rest in random order (a subset of k holds k refusals
 *   when the pool has them, filled at random otherwise);
 * - `shortest`: refusals first, shortest response (in tokens) first, then the rest, shortest first.
 * The refusal rule is `looksLikeRefusal` (src/data/world.ts): the response contains one of REFUSAL_CUES, the
 * same cue list the pipeline's refusal-share diagnostic reports.
 */
import { looksLikeRefusal } from '../data/world.js';
import { Rng } from '../engine/index.js';
import type { Ranking, SelectionInput, Selector } from './selector.js';

export class RefusalSelector implements Selector {
  readonly name = 'refusal';
  readonly needsModel = false;
  async select(input: SelectionInput): Promise<Ranking> {
    const rng = new Rng(input.seed);
    const refusal = input.pool.map((e) => looksLikeRefusal(e.output));
    // Refusals score in [1, 2), the rest in [0, 1): random order within each group.
    const scores = refusal.map((r) => (r ? 1 : 0) + rng.uniform());
    return { scores, trace: { refusals: refusal.filter(Boolean).length } };
  }
}

export class ShortestSelector implements Selector {
  readonly name = 'shortest';
  /** Only its tokenizer is used: lengths are counted in the model's tokens. */
  readonly needsModel = true;
  async select(input: SelectionInput): Promise<Ranking> {
    if (!input.tokenizer) throw new Error('shortest: needs the model tokenizer to count response tokens');
    const refusal = input.pool.map((e) => looksLikeRefusal(e.output));
    const lengths = input.pool.map((e) => input.tokenizer!.encode(e.output).length);
    const longest = Math.max(1, ...lengths);
    // Refusals score in (1, 2], the rest in (0, 1]; shorter is higher; equal lengths keep pool order (topK).
    const scores = lengths.map((n, i) => (refusal[i] ? 1 : 0) + (longest + 1 - n) / (longest + 1));
    return { scores, trace: { refusals: refusal.filter(Boolean).length, longest } };
  }
}
