/** The Pharmacist selector as a plug-in: tokenizes the three sets, attaches a fresh LoRA, learns omega. */
import { supervisedExample } from '../data/prompt-format.js';
import { attachLora, LORA_DEFAULTS, type LoraConfig } from '../models/lora.js';
import { learnSelector, PHARMACIST_DEFAULTS, type PharmacistConfig } from './pharmacist.js';
import type { Ranking, SelectionInput, Selector } from './selector.js';

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
    const { model, tokenizer, eosTokenId, padTokenId } = input;
    if (!model || !tokenizer || eosTokenId === undefined || padTokenId === undefined) throw new Error('pharmacist selector: needs the base model and its tokenizer');
    const encode = (xs: SelectionInput['pool']) => xs.map((e) => supervisedExample(tokenizer, e, { profile: input.profile, maxLength: input.maxLength, eosTokenId }));
    const lora = attachLora(model, this.config.lora, input.seed);
    lora.training = false;
    try {
      const result = learnSelector(model, lora.parameters(), { pool: encode(input.pool), validation: encode(input.validation), harmful: encode(input.harmful), padTokenId }, { ...this.config, seed: input.seed }, input.log);
      return { scores: Array.from(result.omega), trace: result.trace };
    } finally {
      model.lora = null;
    }
  }
}
