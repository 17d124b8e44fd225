/** Text in, text out: tokenize prompts (optionally in the Alpaca template), generate, decode. */
import { alpacaPrompt, type PromptProfile } from '../data/prompt-format.js';
import { generate, type GenerationConfig } from '../models/generate.js';

export { GENERATION_DEFAULTS } from '../models/generate.js';
import type { ModelBundle } from '../models/bundle.js';
export { loadModelBundle } from '../models/bundle.js';

export interface TextGenerationOptions extends Partial<GenerationConfig> {
  /** Wrap each prompt as the instruction of the Alpaca template. Default false (raw text). */
  alpaca?: boolean;
  profile?: PromptProfile;
}

export interface TextCompletion {
  prompt: string;
  completion: string;
  tokens: number[];
  stopped: boolean;
}

export function generateText(
  bundle: ModelBundle,
  prompts: readonly string[],
  options: TextGenerationOptions = {},
): TextCompletion[] {
  const { alpaca = false, profile, ...generation } = options;
  const texts = prompts.map((p) => (alpaca ? alpacaPrompt({ instruction: p }, profile) : p));
  const ids = texts.map((t) => bundle.tokenizer.encode(t));
  const out = generate(bundle.model, ids, {
    eosTokenIds: bundle.eosTokenIds,
    padTokenId: bundle.eosTokenIds[0] ?? 0,
    ...generation,
  });
  return prompts.map((prompt, i) => ({
    prompt,
    completion: bundle.tokenizer.decode(out.tokens[i], { skipSpecialTokens: true }),
    tokens: out.tokens[i],
    stopped: out.stopped[i],
  }));
}
