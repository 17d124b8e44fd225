/** The Pharmacist selector as a plug-in: tokenizes the three sets, attaches its LoRA (fresh or warmed up), learns omega. */
import { LORA_DEFAULTS, type LoraConfig } from '../models/lora.js';
import { SFT_DEFAULTS } from '../train/sft.js';
import { learnSelector, PHARMACIST_DEFAULTS, type PharmacistConfig } from './pharmacist.js';
import {
  selectionAdapter,
  withSelectionAdapter,
  type EncodedSelection,
  type Ranking,
  type SelectionInput,
  type Selector,
} from './selector.js';

export interface PharmacistSelectorConfig extends PharmacistConfig {
  /** The selector's own LoRA (discarded after selection). Default LORA_DEFAULTS with dropout 0. */
  lora: LoraConfig;
  /**
   * Epochs of SFT on the pool before the bilevel pass (the lower problem's starting point). Default 0: the method
   * as written starts from a fresh adapter on the base model.
   */
  warmupEpochs: number;
  /** Warm-up learning rate. Default SFT_DEFAULTS.lr (2e-3). */
  warmupLr: number;
}

export const PHARMACIST_SELECTOR_DEFAULTS: PharmacistSelectorConfig = {
  ...PHARMACIST_DEFAULTS,
  lora: { ...LORA_DEFAULTS, dropout: 0 },
  warmupEpochs: 0,
  warmupLr: SFT_DEFAULTS.lr,
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
