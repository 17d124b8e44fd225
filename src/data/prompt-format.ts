/**
 * The Alpaca instruction template of the harmful fine-tuning literature, and supervised examples built on
 * it with the loss on the response and EOS only (prompt tokens get the ignore label).
 *
 * Two profiles differ by one character, and results are sensitive to it, so it is a setting:
 * - 'response-newline': the prompt ends "### Response:\n" (Booster, T-Vaccine, Antidote, Virus). Default.
 * - 'response-colon':   the prompt ends "### Response:" (Vaccine, Lisa).
 * Training and evaluation must use the same profile.
 */
import type { Tokenizer } from '../tokenizers/index.js';

export type PromptProfile = 'response-newline' | 'response-colon';
export const PROMPT_PROFILES: readonly PromptProfile[] = ['response-newline', 'response-colon'];
export const IGNORE_INDEX = -100;

export interface InstructionExample {
  instruction: string;
  /** Optional context; empty or missing selects the template without input. */
  input?: string;
  output: string;
}

const WITH_INPUT = 'Below is an instruction that describes a task, paired with an input that provides further context. '
  + 'Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:';
const WITHOUT_INPUT = 'Below is an instruction that describes a task. '
  + 'Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:';

export function alpacaPrompt({ instruction, input }: Pick<InstructionExample, 'instruction' | 'input'>, profile: PromptProfile = 'response-newline'): string {
  const template = input ? WITH_INPUT : WITHOUT_INPUT;
  const prompt = template.replace('{instruction}', () => instruction).replace('{input}', () => input ?? '');
  return profile === 'response-newline' ? prompt + '\n' : prompt;
}

/** The response part of a decoded generation: the text after the last "### Response:", trimmed. */
export function extractResponse(decoded: string): string {
  const at = decoded.lastIndexOf('### Response:');
  return (at < 0 ? decoded : decoded.slice(at + '### Response:'.length)).trim();
}

export interface SupervisedExample {
  ids: number[];
  /** Same length as ids; IGNORE_INDEX on prompt positions. labels[t] is the target at position t (shifted later). */
  labels: number[];
}

export interface SupervisedOptions {
  profile?: PromptProfile;
  /** Truncate (from the right) to this many tokens. Default 256. */
  maxLength?: number;
  eosTokenId: number;
}

/**
 * Tokenize prompt + output jointly (as the reference code does, so merges across the boundary match what
 * the model sees at inference), append EOS, and mask the prompt's tokens by the length of the prompt alone.
 */
export function supervisedExample(tokenizer: Tokenizer, example: InstructionExample, { profile = 'response-newline', maxLength = 256, eosTokenId }: SupervisedOptions): SupervisedExample {
  const prompt = alpacaPrompt(example, profile);
  const promptLength = tokenizer.encode(prompt).length;
  const ids = [...tokenizer.encode(prompt + example.output), eosTokenId].slice(0, maxLength);
  const labels = ids.map((id, t) => (t < promptLength ? IGNORE_INDEX : id));
  return { ids, labels };
}
