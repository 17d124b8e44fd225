/** The Pharmacist selector as a plug-in: tokenizes the three sets, attaches its LoRA (fresh or warmed up), learns omega. */
import { LORA_DEFAULTS, type LoraConfig } from '../models/lora.js';
import { SFT_DEFAULTS } from '../train/sft.js';
import { defaultsOf, int, number, type KnobValues } from '../config/knobs.js';
import { learnSelector, PHARMACIST_DEFAULTS, PHARMACIST_KNOBS, type PharmacistConfig } from './pharmacist.js';
import {
  selectionAdapter,
  withSelectionAdapter,
  type EncodedSelection,
  type Ranking,
  type SelectionInput,
  type Selector,
} from './selector.js';

/** The plug-in's knobs: the bilevel pass's, and where the lower problem starts. */
export const PHARMACIST_SELECTOR_KNOBS = {
  ...PHARMACIST_KNOBS,
  warmupEpochs: int(
    0,
    'epochs of SFT on the pool before the bilevel pass (0: a fresh adapter on the base model, the method as written)',
    0,
  ),
  warmupLr: number(SFT_DEFAULTS.lr, 'warm-up learning rate (the alignment SFT default)'),
} as const;

export type PharmacistSelectorConfig = PharmacistConfig &
  KnobValues<typeof PHARMACIST_SELECTOR_KNOBS> & {
    /** The selector's own LoRA (discarded after selection). Default LORA_DEFAULTS with dropout 0. */
    lora: LoraConfig;
  };

export const PHARMACIST_SELECTOR_DEFAULTS: PharmacistSelectorConfig = {
  ...PHARMACIST_DEFAULTS,
  ...defaultsOf(PHARMACIST_SELECTOR_KNOBS),
  lora: { ...LORA_DEFAULTS, dropout: 0 },
};

export class PharmacistSelector implements Selector {
  readonly name = 'pharmacist';
  readonly needsModel = true;
  constructor(readonly config: PharmacistSelectorConfig = PHARMACIST_SELECTOR_DEFAULTS) {}

  async select(input: SelectionInput): Promise<Ranking> {
    const attach = (s: EncodedSelection) =>
      selectionAdapter(s, input, { epochs: this.config.warmupEpochs, lr: this.config.warmupLr }, this.config.lora);
    return withSelectionAdapter(input, this.name, attach, ({ model, encode, padTokenId }, lora) => {
      const result = learnSelector(
        model,
        lora.parameters(),
        { pool: encode(input.pool), validation: encode(input.validation), harmful: encode(input.harmful), padTokenId },
        { ...this.config, seed: input.seed },
        input.log,
      );
      return { scores: Array.from(result.omega), trace: result.trace };
    });
  }
}
