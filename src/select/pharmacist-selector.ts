/** The Pharmacist selector as a plug-in: tokenizes the three sets, attaches a fresh LoRA, learns omega. */
import { attachLora, LORA_DEFAULTS, type LoraConfig } from '../models/lora.js';
import { learnSelector, PHARMACIST_DEFAULTS, type PharmacistConfig } from './pharmacist.js';
import { withSelectionAdapter, type Ranking, type SelectionInput, type Selector } from './selector.js';

export interface PharmacistSelectorConfig extends PharmacistConfig {
  /** The selector's own LoRA (discarded after selection). Default LORA_DEFAULTS with dropout 0. */
  lora: LoraConfig;
}

export const PHARMACIST_SELECTOR_DEFAULTS: PharmacistSelectorConfig = { ...PHARMACIST_DEFAULTS, lora: { ...LORA_DEFAULTS, dropout: 0 } };

export class PharmacistSelector implements Selector {
  readonly name = 'pharmacist';
  readonly needsModel = true;
  constructor(readonly config: PharmacistSelectorConfig = PHARMACIST_SELECTOR_DEFAULTS) {}

  async select(input: SelectionInput): Promise<Ranking> {
    return withSelectionAdapter(input, this.name, ({ model }) => attachLora(model, this.config.lora, input.seed), ({ model, encode, padTokenId }, lora) => {
      const result = learnSelector(model, lora.parameters(), { pool: encode(input.pool), validation: encode(input.validation), harmful: encode(input.harmful), padTokenId }, { ...this.config, seed: input.seed }, input.log);
      return { scores: Array.from(result.omega), trace: result.trace };
    });
  }
}
