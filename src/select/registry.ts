/**
 * Selectors by name: one entry per selector, with what it does, its documented defaults (null: none) and how
 * to make it. SELECTOR_NAMES and SelectorName follow the entries.
 */
import { FullSelector, RandomSelector } from './baselines.js';
import { RefusalSelector, ShortestSelector } from './controls.js';
import { DsirSelector, DSIR_DEFAULTS } from './dsir.js';
import { GradientScoreSelector, GRADIENT_SCORE_DEFAULTS } from './gradient-scores.js';
import {
  PharmacistSelector,
  PHARMACIST_SELECTOR_DEFAULTS,
  type PharmacistSelectorConfig,
} from './pharmacist-selector.js';
import { SealSelector, SEAL_DEFAULTS } from './seal.js';
import type { Selector } from './selector.js';

/** Overrides of the selectors' knobs (only Pharmacist's are exposed). */
export interface SelectorOptions {
  pharmacist?: Partial<PharmacistSelectorConfig>;
}

export interface SelectorEntry {
  description: string;
  /** The knobs it runs with by default. */
  defaults: object | null;
  create(options: SelectorOptions): Selector;
}

export const SELECTORS = {
  pharmacist: {
    description: 'bilevel: per-sample weights learned on validation loss and a simulated harmful step',
    defaults: PHARMACIST_SELECTOR_DEFAULTS,
    create: (options) => new PharmacistSelector({ ...PHARMACIST_SELECTOR_DEFAULTS, ...options.pharmacist }),
  },
  random: { description: 'a seeded shuffle', defaults: null, create: () => new RandomSelector() },
  full: { description: 'keeps the whole pool (all scores equal)', defaults: null, create: () => new FullSelector() },
  refusal: {
    description: 'control: refusals first, each group in a seeded order',
    defaults: null,
    create: () => new RefusalSelector(),
  },
  shortest: {
    description: 'control: refusals first, each group shortest first (in tokens)',
    defaults: null,
    create: () => new ShortestSelector(),
  },
  loss: {
    description: "the sample's response loss after a warm-up (EL2N-style)",
    defaults: GRADIENT_SCORE_DEFAULTS,
    create: () => new GradientScoreSelector('loss'),
  },
  gradnorm: {
    description: "the norm of the sample's LoRA gradient after a warm-up (GraNd)",
    defaults: GRADIENT_SCORE_DEFAULTS,
    create: () => new GradientScoreSelector('gradnorm'),
  },
  gradsim: {
    description: "cosine of the sample's gradient with the mean validation gradient (LESS-style)",
    defaults: GRADIENT_SCORE_DEFAULTS,
    create: () => new GradientScoreSelector('gradsim'),
  },
  dsir: {
    description: 'importance resampling toward the validation set on hashed n-grams (DSIR)',
    defaults: DSIR_DEFAULTS,
    create: () => new DsirSelector(),
  },
  seal: {
    description: 'bilevel per-sample weights by the penalty method, toward the validation loss (SEAL)',
    defaults: SEAL_DEFAULTS,
    create: () => new SealSelector(),
  },
} satisfies Record<string, SelectorEntry>;

export type SelectorName = keyof typeof SELECTORS;
export const SELECTOR_NAMES = Object.keys(SELECTORS) as readonly SelectorName[];

export function createSelector(name: string, options: SelectorOptions = {}): Selector {
  if (!Object.hasOwn(SELECTORS, name))
    throw new Error(`unknown selector "${name}" (choose ${SELECTOR_NAMES.join(', ')})`);
  return SELECTORS[name as SelectorName].create(options);
}
