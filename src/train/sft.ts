/**
 * Supervised fine-tuning with LoRA on instruction data, loss on the response and EOS only: the plain SFT
 * alignment baseline and the harmful fine-tuning attack both run through it. Returns the trained adapter,
 * still attached; merge it (double LoRA) or keep training it (single LoRA) as the flow requires.
 */
import { supervisedBatches } from '../data/batch.js';
import { supervisedExample, type InstructionExample, type PromptProfile } from '../data/prompt-format.js';
import { attachLora, LORA_DEFAULTS, type LoraConfig, type LoraHost, type LoraLayers } from '../models/lora.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { train, type TrainableLm, type TrainResult } from './trainer.js';

export interface SftConfig {
  /** Default: LORA_DEFAULTS (r 8, alpha 16, dropout 0.05, all attention and MLP projections). */
  lora: LoraConfig;
  /** Default 3. */
  epochs: number;
  /** Default 16. */
  batchSize: number;
  /** Default 2e-3 (LoRA). */
  lr: number;
  /** Default 'response-newline'. */
  profile: PromptProfile;
  /** Truncation in tokens. Default 256. */
  maxLength: number;
  /** Adapter init, dropout and batch order. Default 0. */
  seed: number;
}

export const SFT_DEFAULTS: SftConfig = { lora: LORA_DEFAULTS, epochs: 3, batchSize: 16, lr: 2e-3, profile: 'response-newline', maxLength: 256, seed: 0 };

export interface SftResult extends TrainResult {
  lora: LoraLayers;
  steps: number;
}

export function sftLora(
  model: TrainableLm & LoraHost, tokenizer: Tokenizer, examples: readonly InstructionExample[], eosTokenId: number, padTokenId: number,
  options: Partial<SftConfig> = {}, log: (line: string) => void = () => {},
): SftResult {
  const cfg: SftConfig = { ...SFT_DEFAULTS, ...options, lora: { ...SFT_DEFAULTS.lora, ...options.lora } };
  const supervised = examples.map((e) => supervisedExample(tokenizer, e, { profile: cfg.profile, maxLength: cfg.maxLength, eosTokenId }));
  const lora = attachLora(model, cfg.lora, cfg.seed);
  const source = supervisedBatches(supervised, cfg.batchSize, cfg.seed, padTokenId);
  const steps = source.stepsPerEpoch * cfg.epochs;
  const result = train(model, lora.parameters(), source, { steps, lr: cfg.lr, schedule: 'cosine', warmupSteps: 0, weightDecay: 0, logEvery: Math.max(1, Math.floor(steps / 10)) }, { log });
  lora.training = false;
  return { ...result, lora, steps };
}
