/** Selectors by name. */
import { FullSelector, RandomSelector } from './baselines.js';
import { RefusalSelector, ShortestSelector } from './controls.js';
import { DsirSelector } from './dsir.js';
import { GradientScoreSelector } from './gradient-scores.js';
import {
  PharmacistSelector,
  PHARMACIST_SELECTOR_DEFAULTS,
  type PharmacistSelectorConfig,
} from './pharmacist-selector.js';
import { SealSelector } from './seal.js';
import type { Selector } from './selector.js';

export const SELECTOR_NAMES = [
  'pharmacist',
  'random',
  'full',
  'refusal',
  'shortest',
  'loss',
  'gradnorm',
  'gradsim',
  'dsir',
  'seal',
] as const;
export type SelectorName = (typeof SELECTOR_NAMES)[number];

export function createSelector(
  name: string,
  options: { pharmacist?: Partial<PharmacistSelectorConfig> } = {},
): Selector {
  switch (name) {
    case 'pharmacist':
      return new PharmacistSelector({ ...PHARMACIST_SELECTOR_DEFAULTS, ...options.pharmacist });
    case 'random':
      return new RandomSelector();
    case 'full':
      return new FullSelector();
    case 'refusal':
      return new RefusalSelector();
    case 'shortest':
      return new ShortestSelector();
    case 'loss':
    case 'gradnorm':
    case 'gradsim':
      return new GradientScoreSelector(name);
    case 'dsir':
      return new DsirSelector();
    case 'seal':
      return new SealSelector();
    default:
      throw new Error(`unknown selector "${name}" (choose ${SELECTOR_NAMES.join(', ')})`);
  }
}
