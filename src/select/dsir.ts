/**
 * DSIR (Xie et al., 2023): importance resampling toward a target distribution with hashed n-gram features.
 * Bag-of-n-gram models (word unigrams and bigrams hashed into `buckets`, additively smoothed) are fitted on the
 * target (the validation set) and on the raw pool; a sample's log importance weight is
 * sum_f count_f(x) (log p_target(f) - log p_raw(f)). Resampling k without replacement in proportion to the
 * weights is the top k of log weight + Gumbel noise (seeded); with `gumbel: false` the ranking is the
 * deterministic top-k by weight.
 */
import { Rng } from '../engine/index.js';
import type { InstructionExample } from '../data/prompt-format.js';
import { defaultsOf, flag, int, number, settableSinceKnobs, type KnobValues } from '../config/knobs.js';
import type { Ranking, SelectionInput, Selector } from './selector.js';

/** DSIR's knobs, declared once (src/config/knobs.ts); first settable after stages had been cached at the defaults. */
export const DSIR_KNOBS = settableSinceKnobs({
  buckets: int(10_000, 'hash buckets (as the reference implementation)'),
  // Validation sets of a few hundred samples fill few of 10,000 buckets: add-one smoothing would then drown the
  // target model in its prior.
  smoothing: number(0.01, 'pseudo-count per bucket (add-one would drown a small target in its prior)'),
  gumbel: flag(true, 'add Gumbel noise (resampling, as DSIR) or rank by weight'),
});

export type DsirConfig = KnobValues<typeof DSIR_KNOBS>;
export const DSIR_DEFAULTS: DsirConfig = defaultsOf(DSIR_KNOBS);

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Hashed word unigram and bigram counts of a text. */
export function ngramFeatures(text: string, buckets: number): Map<number, number> {
  const words = text.toLowerCase().match(/[a-z0-9']+/g) ?? [];
  const out = new Map<number, number>();
  const add = (gram: string) => {
    const b = fnv1a(gram) % buckets;
    out.set(b, (out.get(b) ?? 0) + 1);
  };
  words.forEach((w, i) => {
    add(w);
    if (i > 0) add(`${words[i - 1]} ${w}`);
  });
  return out;
}

const textOf = (e: InstructionExample) => `${e.instruction} ${e.input ?? ''} ${e.output}`;

function logDistribution(features: readonly Map<number, number>[], buckets: number, smoothing: number): Float64Array {
  const counts = new Float64Array(buckets).fill(smoothing);
  let total = buckets * smoothing;
  for (const f of features)
    for (const [b, c] of f) {
      counts[b] += c;
      total += c;
    }
  return counts.map((c) => Math.log(c / total));
}

/** Log importance weights of the pool toward the target set. */
export function dsirLogWeights(
  pool: readonly InstructionExample[],
  target: readonly InstructionExample[],
  { buckets, smoothing } = DSIR_DEFAULTS,
): number[] {
  const poolFeatures = pool.map((e) => ngramFeatures(textOf(e), buckets));
  const logTarget = logDistribution(
    target.map((e) => ngramFeatures(textOf(e), buckets)),
    buckets,
    smoothing,
  );
  const logRaw = logDistribution(poolFeatures, buckets, smoothing);
  return poolFeatures.map((f) => {
    let w = 0;
    for (const [b, c] of f) w += c * (logTarget[b] - logRaw[b]);
    return w;
  });
}

export class DsirSelector implements Selector {
  readonly name = 'dsir';
  readonly needsModel = false;
  constructor(readonly config: DsirConfig = DSIR_DEFAULTS) {}

  async select(input: SelectionInput): Promise<Ranking> {
    const weights = dsirLogWeights(input.pool, input.validation, this.config);
    if (!this.config.gumbel) return { scores: weights };
    const rng = new Rng(input.seed);
    return {
      scores: weights.map((w) => w - Math.log(-Math.log(Math.max(rng.uniform(), 1e-300)))),
      trace: { logWeights: weights },
    };
  }
}
