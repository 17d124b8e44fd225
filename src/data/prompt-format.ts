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
/** The profile every stage uses unless told otherwise. */
export const DEFAULT_PROMPT_PROFILE: PromptProfile = 'response-newline';
/**
 * How examples become tokens: 'alpaca' is this file's template (in one of the profiles above); 'chat' renders
 * the model's own chat template from tokenizer_config.json (chat-template.ts: chatSupervisedExample,
 * renderChatPrompt), for instruction-tuned models.
 */
export type PromptFormat = 'alpaca' | 'chat';
export const PROMPT_FORMATS: readonly PromptFormat[] = ['alpaca', 'chat'];
export const IGNORE_INDEX = -100;

export interface InstructionExample {
  instruction: string;
  /** Optional context; empty or missing selects the template without input. */
  input?: string;
  output: string;
  /**
   * The whole conversation, when the data gave one (a `messages` list ending with the assistant's reply): the chat
   * format renders it all; Alpaca's reads instruction (the last user turn) and output (the reply).
   */
  messages?: readonly ChatMessage[];
}

/** One turn of a conversation (system, user, assistant, ...). */
export interface ChatMessage {
  role: string;
  content: string;
}

const WITH_INPUT =
  'Below is an instruction that describes a task, paired with an input that provides further context. ' +
  'Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:';
const WITHOUT_INPUT =
  'Below is an instruction that describes a task. ' +
  'Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:';

export function alpacaPrompt(
  { instruction, input }: Pick<InstructionExample, 'instruction' | 'input'>,
  profile: PromptProfile = DEFAULT_PROMPT_PROFILE,
): string {
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
  /** At most this many tokens (see supervisedExample for what is cut). Default 256. */
  maxLength?: number;
  eosTokenId: number;
}

/**
 * Tokenize prompt + output jointly (as the reference code does, so merges across the boundary match what
 * the model sees at inference), append EOS, and mask the prompt's tokens by the length of the prompt alone.
 * Over `maxLength`, the response keeps its tokens as long as the prompt can shrink to half the budget: a long
 * prompt (an AG News article) loses tokens from its middle, keeping its head and the `### Response:` marker, so
 * the example still has targets; a long response (a refusal) is cut from the right, as plain truncation does.
 */
export function supervisedExample(
  tokenizer: Tokenizer,
  example: InstructionExample,
  { profile = DEFAULT_PROMPT_PROFILE, maxLength = 256, eosTokenId }: SupervisedOptions,
): SupervisedExample {
  const prompt = alpacaPrompt(example, profile);
  const promptLength = tokenizer.encode(prompt).length;
  const all = [...tokenizer.encode(prompt + example.output), eosTokenId];
  return fitSupervised(
    all.slice(0, promptLength),
    all.slice(promptLength),
    maxLength,
    () => tokenizer.encode(RESPONSE_MARKER[profile]).length,
  );
}

/**
 * Prompt ids (masked) and response ids (targets) cut to `maxLength` as supervisedExample describes: the prompt
 * may shrink to half the budget by losing tokens from its middle, keeping its head and its last
 * `markerTokens() + 1` tokens (the marker that introduces the response); the response is then cut from the right.
 * Shared by the Alpaca and chat formats (chat-template.ts); `markerTokens` is called only when the prompt is cut.
 */
export function fitSupervised(
  prompt: readonly number[],
  response: readonly number[],
  maxLength: number,
  markerTokens: () => number,
): SupervisedExample {
  let head = [...prompt],
    tail = [...response];
  if (head.length + tail.length > maxLength) {
    const promptBudget = Math.min(head.length, Math.max(maxLength - tail.length, Math.ceil(maxLength / 2)));
    if (promptBudget < head.length) {
      const marker = Math.min(promptBudget, markerTokens() + 1);
      head = [...head.slice(0, promptBudget - marker), ...head.slice(head.length - marker)];
    }
    tail = tail.slice(0, maxLength - head.length);
  }
  const ids = [...head, ...tail];
  const labels = ids.map((id, t) => (t < head.length ? IGNORE_INDEX : id));
  return { ids, labels };
}

/**
 * A prompt format other than Alpaca's, as one object (the chat format: chat-template.ts chatFormatter). It is
 * passed wherever a profile is (PromptStyle) and recorded by its name.
 */
export interface PromptFormatter {
  /** What records keep, e.g. "chat (my-model/tokenizer_config.json)". */
  readonly name: string;
  /** A content id of the format (template and special tokens): it keys the stages written in it. */
  readonly id: string;
  /** The ids the model continues from (special tokens as the format writes them). */
  promptIds(tokenizer: Tokenizer, input: Pick<InstructionExample, 'instruction' | 'input'>): number[];
  /** An example's ids with labels on its reply only, cut to maxLength. */
  supervised(tokenizer: Tokenizer, example: InstructionExample, options: { maxLength: number }): SupervisedExample;
  toJSON(): string;
}

/** An Alpaca profile, or another format. */
export type PromptStyle = PromptProfile | PromptFormatter;

/** A supervised example in the style's format (Alpaca appends EOS; a chat template writes its own end of turn). */
export function supervisedIn(
  style: PromptStyle,
  tokenizer: Tokenizer,
  example: InstructionExample,
  { maxLength, eosTokenId }: { maxLength: number; eosTokenId: number },
): SupervisedExample {
  return typeof style === 'string'
    ? supervisedExample(tokenizer, example, { profile: style, maxLength, eosTokenId })
    : style.supervised(tokenizer, example, { maxLength });
}

/** The ids a model continues from for an instruction, in the style's format. */
export function promptIdsIn(
  style: PromptStyle,
  tokenizer: Tokenizer,
  input: Pick<InstructionExample, 'instruction' | 'input'>,
): number[] {
  return typeof style === 'string' ? tokenizer.encode(alpacaPrompt(input, style)) : style.promptIds(tokenizer, input);
}

/** The end of every prompt, which truncation keeps. */
const RESPONSE_MARKER: Record<PromptProfile, string> = {
  'response-newline': '\n\n### Response:\n',
  'response-colon': '\n\n### Response:',
};
