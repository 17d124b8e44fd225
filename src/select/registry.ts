/**
 * Selectors by name: one entry per selector, with what it does, its knobs' declaration (null: none; each knob's
 * type, default and why) and how to make it from overrides of those knobs. SELECTOR_NAMES, the tunable selectors
 * and their knobs all follow the entries; the CLI's flags and the grid's `select:` sections are derived from them.
 */
import type { Knobs, KnobValues } from '../config/knobs.js';
import { FullSelector, RandomSelector } from './baselines.js';
import { RefusalSelector, ShortestSelector } from './controls.js';
import { DsirSelector, DSIR_DEFAULTS, DSIR_KNOBS } from './dsir.js';
import { GradientScoreSelector, GRADIENT_SCORE_DEFAULTS, GRADIENT_SCORE_KNOBS } from './gradient-scores.js';
import { PharmacistSelector, PHARMACIST_SELECTOR_DEFAULTS, PHARMACIST_SELECTOR_KNOBS } from './pharmacist-selector.js';
import { SealSelector, SEAL_DEFAULTS, SEAL_KNOBS } from './seal.js';
import type { Selector } from './selector.js';

/** A registered selector: `create` gets overrides of its own knobs only, laid over their defaults. */
export interface SelectorEntry<K extends Knobs | null> {
  description: string;
  knobs: K;
  create(overrides: Partial<K extends Knobs ? KnobValues<K> : never>): Selector;
}

// Pins each entry's knob type, so that `create` and `knobs` agree and SelectorOptions can be read off them.
const entry = <K extends Knobs | null>(e: SelectorEntry<K>) => e;

const gradientScores = (kind: 'loss' | 'gradnorm' | 'gradsim', description: string) =>
  entry({
    description,
    knobs: GRADIENT_SCORE_KNOBS,
    create: (o) => new GradientScoreSelector(kind, { ...GRADIENT_SCORE_DEFAULTS, ...o }),
  });

export const SELECTORS = {
  pharmacist: entry({
    description: 'bilevel: per-sample weights learned on validation loss and a simulated harmful step',
    knobs: PHARMACIST_SELECTOR_KNOBS,
    create: (o) => new PharmacistSelector({ ...PHARMACIST_SELECTOR_DEFAULTS, ...o }),
  }),
  random: entry({ description: 'a seeded shuffle', knobs: null, create: () => new RandomSelector() }),
  full: entry({
    description: 'keeps the whole pool (all scores equal)',
    knobs: null,
    create: () => new FullSelector(),
  }),
  refusal: entry({
    description: 'control: refusals first, each group in a seeded order',
    knobs: null,
    create: () => new RefusalSelector(),
  }),
  shortest: entry({
    description: 'control: refusals first, each group shortest first (in tokens)',
    knobs: null,
    create: () => new ShortestSelector(),
  }),
  loss: gradientScores('loss', "the sample's response loss after a warm-up (EL2N-style)"),
  gradnorm: gradientScores('gradnorm', "the norm of the sample's LoRA gradient after a warm-up (GraNd)"),
  gradsim: gradientScores('gradsim', "cosine of the sample's gradient with the mean validation gradient (LESS-style)"),
  dsir: entry({
    description: 'importance resampling toward the validation set on hashed n-grams (DSIR)',
    knobs: DSIR_KNOBS,
    create: (o) => new DsirSelector({ ...DSIR_DEFAULTS, ...o }),
  }),
  seal: entry({
    description: 'bilevel per-sample weights by the penalty method, toward the validation loss (SEAL)',
    knobs: SEAL_KNOBS,
    create: (o) => new SealSelector({ ...SEAL_DEFAULTS, ...o }),
  }),
};

type Entries = typeof SELECTORS;
export type SelectorName = keyof typeof SELECTORS;
export const SELECTOR_NAMES = Object.keys(SELECTORS) as readonly SelectorName[];

/** The selectors with knobs. */
export type TunableSelector = { [K in SelectorName]: Entries[K]['knobs'] extends null ? never : K }[SelectorName];
type KnobsOf<K extends TunableSelector> = NonNullable<Entries[K]['knobs']>;

/** Overrides of the knobs, per selector. */
export type SelectorOptions = { [K in TunableSelector]?: Partial<KnobValues<KnobsOf<K>>> };

/** Every tunable selector's knob declaration: what grids and the CLI override. */
export const SELECTOR_KNOBS = Object.fromEntries(
  Object.entries(SELECTORS).flatMap(([name, e]) => (e.knobs === null ? [] : [[name, e.knobs]])),
) as { readonly [K in TunableSelector]: KnobsOf<K> };

export const isTunableSelector = (name: string): name is TunableSelector => Object.hasOwn(SELECTOR_KNOBS, name);

/** The selector `name` with its knobs from `options` (the other selectors' entries there are ignored). */
export function createSelector(name: string, options: SelectorOptions = {}): Selector {
  if (!Object.hasOwn(SELECTORS, name))
    throw new Error(`unknown selector "${name}" (choose ${SELECTOR_NAMES.join(', ')})`);
  const overrides = isTunableSelector(name) ? options[name] : undefined;
  // Each entry's create takes its own knob type; the name ties `overrides` to it, which TypeScript cannot follow.
  return (SELECTORS[name as SelectorName].create as (o: object) => Selector)(overrides ?? {});
}
