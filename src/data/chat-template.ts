/**
 * The 'chat' prompt format: a model's own chat template (the Jinja text in tokenizer_config.json's
 * `chat_template`, or in chat_template.jinja) rendered with @huggingface/jinja, and supervised examples built on
 * it with the loss on the final assistant reply only.
 *
 * The render context is the one Hugging Face transformers gives a template: `messages`, `add_generation_prompt`,
 * the special tokens of tokenizer_config.json (bos_token, eos_token, ...; AddedToken objects reduced to their
 * content, null ones left out) and `raise_exception` (@huggingface/jinja's own global). Rendered text is tokenized without the tokenizer's
 * post-processor (transformers' apply_chat_template does the same), since templates write BOS themselves.
 *
 * Response-only loss: the conversation without its final assistant message, rendered with
 * add_generation_prompt, is the prompt; the whole conversation's render must start with it (else a
 * ChatTemplateError naming the template). Tokens after the prompt's tokens are targets: the reply and whatever
 * end-of-turn tokens the template writes after it (no EOS is appended: the template decides how a turn ends).
 * Earlier turns of a multi-turn conversation are context only.
 *
 * Known difference from Python's Jinja2 (test/fixtures/chat-templates/README.md): `trim` and `.strip()` use
 * JavaScript's whitespace set, so a content that begins or ends with U+001C..U+001F or U+0085 keeps those
 * characters here (Python strips them) and one that begins or ends with U+FEFF loses it (Python keeps it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { contentId } from '../io/hash.js';
import type { Tokenizer } from '../tokenizers/index.js';
import {
  fitSupervised,
  type ChatMessage,
  type InstructionExample,
  type PromptFormatter,
  type SupervisedExample,
} from './prompt-format.js';

export type { ChatMessage };

/** A conversation to train on: its last message is the assistant reply that gets the loss. */
export interface ChatConversation {
  messages: readonly ChatMessage[];
}

/** Training data for the chat format: Alpaca-style fields, or a messages list. */
export type ChatExample = InstructionExample | ChatConversation;
/** A prompt to generate from: an instruction (and input), or a messages list without the reply. */
export type ChatPromptInput = Pick<InstructionExample, 'instruction' | 'input'> | ChatConversation;

export class ChatTemplateError extends Error {
  constructor(source: string, detail: string) {
    super(`${source}: ${detail}`);
    this.name = 'ChatTemplateError';
  }
}

export type SpecialTokens = Readonly<Record<string, string | readonly string[]>>;

export interface ChatTemplate {
  /** Where the template came from, for errors: "<dir>/tokenizer_config.json (chat_template)" and the like. */
  readonly source: string;
  readonly text: string;
  /** bos_token, eos_token, ... as the template sees them. */
  readonly specialTokens: SpecialTokens;
  render(messages: readonly ChatMessage[], options?: { addGenerationPrompt?: boolean }): string;
}

/** The special-token fields of tokenizer_config.json that transformers puts into a template's context. */
const SPECIAL_TOKEN_FIELDS = [
  'bos_token',
  'eos_token',
  'unk_token',
  'sep_token',
  'pad_token',
  'cls_token',
  'mask_token',
  'additional_special_tokens',
] as const;

/** A template from its text; `source` names it in errors. */
export function createChatTemplate(
  text: string,
  { source = 'chat template', specialTokens = {} }: { source?: string; specialTokens?: SpecialTokens } = {},
): ChatTemplate {
  let template: Template;
  try {
    template = new Template(text);
  } catch (error) {
    throw new ChatTemplateError(source, `the chat template does not parse (${(error as Error).message})`);
  }
  return {
    source,
    text,
    specialTokens,
    render(messages, { addGenerationPrompt = false } = {}) {
      messages.forEach((m, i) => {
        if (typeof m !== 'object' || m === null || typeof m.role !== 'string' || typeof m.content !== 'string')
          throw new ChatTemplateError(source, `messages[${i}] is not {role: string, content: string}`);
      });
      try {
        return template.render({
          ...specialTokens,
          messages: messages.map((m) => ({ ...m })),
          add_generation_prompt: addGenerationPrompt,
        });
      } catch (error) {
        // Includes the template's own raise_exception("...") (@huggingface/jinja's global throws the message).
        throw new ChatTemplateError(
          source,
          `the chat template failed on this conversation: ${(error as Error).message}`,
        );
      }
    },
  };
}

/** Special tokens of a tokenizer_config.json-style object, as transformers passes them to templates. */
export function specialTokensOf(config: Record<string, unknown>): Record<string, string | string[]> {
  const content = (v: unknown): string | undefined =>
    typeof v === 'string'
      ? v
      : typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string'
        ? (v as { content: string }).content
        : undefined;
  const out: Record<string, string | string[]> = {};
  for (const field of SPECIAL_TOKEN_FIELDS) {
    const value = config[field];
    if (Array.isArray(value)) out[field] = value.map(content).filter((t): t is string => t !== undefined);
    else if (content(value) !== undefined) out[field] = content(value)!;
  }
  return out;
}

/**
 * The template of a tokenizer_config.json-style object: `chat_template` as a string, or a list of
 * {name, template} from which "default" is taken.
 */
export function chatTemplateFromConfig(
  config: Record<string, unknown>,
  source: string,
  specialTokens: SpecialTokens = specialTokensOf(config),
): ChatTemplate {
  const field = config.chat_template;
  if (typeof field === 'string')
    return createChatTemplate(field, { source: `${source} (chat_template)`, specialTokens });
  if (Array.isArray(field)) {
    const named = field as { name?: unknown; template?: unknown }[];
    const found = named.find((t) => t?.name === 'default');
    if (!found || typeof found.template !== 'string') {
      const names = named.map((t) => JSON.stringify(t?.name)).join(', ');
      throw new ChatTemplateError(source, `chat_template is a list of named templates (${names}) with no "default"`);
    }
    return createChatTemplate(found.template, { source: `${source} (chat_template "default")`, specialTokens });
  }
  if (field === undefined || field === null)
    throw new ChatTemplateError(source, 'has no chat_template (a base model? use the alpaca format)');
  throw new ChatTemplateError(source, `field chat_template = ${JSON.stringify(field)} is neither a string nor a list`);
}

function readJson(path: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ChatTemplateError(path, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ChatTemplateError(path, 'not a JSON object');
  return json as Record<string, unknown>;
}

/**
 * The chat template of a Hugging Face model folder. As in transformers, chat_template.jinja (newer exports)
 * takes precedence over tokenizer_config.json's chat_template. Special tokens come from tokenizer_config.json,
 * with special_tokens_map.json filling the fields it lacks.
 */
export function loadChatTemplate(modelDir: string): ChatTemplate {
  const configPath = join(modelDir, 'tokenizer_config.json');
  const jinjaPath = join(modelDir, 'chat_template.jinja');
  const mapPath = join(modelDir, 'special_tokens_map.json');
  const config = existsSync(configPath) ? readJson(configPath) : {};
  const specialTokens = {
    ...(existsSync(mapPath) ? specialTokensOf(readJson(mapPath)) : {}),
    ...specialTokensOf(config),
  };
  if (existsSync(jinjaPath))
    return createChatTemplate(readFileSync(jinjaPath, 'utf8'), { source: jinjaPath, specialTokens });
  if (!existsSync(configPath))
    throw new ChatTemplateError(
      modelDir,
      'no chat template here (neither tokenizer_config.json nor chat_template.jinja)',
    );
  return chatTemplateFromConfig(config, configPath, specialTokens);
}

/**
 * The messages of an example. Alpaca-style fields become one user turn (the instruction, then a blank line and
 * the input when there is one) and, where there is an output, the assistant's reply.
 */
export function chatMessages(example: ChatExample | ChatPromptInput): ChatMessage[] {
  if ('messages' in example && example.messages) return [...example.messages];
  if (!('instruction' in example)) return [];
  const user = example.input ? `${example.instruction}\n\n${example.input}` : example.instruction;
  const messages: ChatMessage[] = [{ role: 'user', content: user }];
  if ('output' in example && typeof example.output === 'string')
    messages.push({ role: 'assistant', content: example.output });
  return messages;
}

/** The text a model generates from: the conversation so far with the template's generation prompt. */
export function renderChatPrompt(template: ChatTemplate, input: ChatPromptInput): string {
  return template.render(chatMessages(input), { addGenerationPrompt: true });
}

export interface ChatSupervisedOptions {
  /** At most this many tokens, cut as supervisedExample cuts (prompt-format.ts). Default 256. */
  maxLength?: number;
}

/**
 * Ids of the whole rendered conversation with labels on the tokens after the prompt (the final reply and the
 * end-of-turn tokens the template writes). The prompt's ids are always its own tokenization, the ids generation
 * starts from (renderChatPrompt). Normally the whole conversation's tokenization starts with them and is used as
 * it is; where the tokenizer merges across the boundary (GPT-2's pre-tokenizer splits "\n\nHi" as "\n", "\n",
 * "Hi" but a prompt ending "\n\n" as one piece), the rest of the render is tokenized on its own after them, so
 * no prompt character is ever a target. Over `maxLength`, the prompt loses tokens from its middle down to half
 * the budget, keeping its head (BOS, system turn) and its end (the turn markers that introduce the reply); then
 * the reply is cut from the right.
 */
export function chatSupervisedExample(
  tokenizer: Tokenizer,
  template: ChatTemplate,
  example: ChatExample,
  { maxLength = 256 }: ChatSupervisedOptions = {},
): SupervisedExample {
  const messages = chatMessages(example);
  const last = messages.at(-1);
  if (messages.length < 2 || last?.role !== 'assistant') {
    const roles = messages.map((m) => m.role).join(', ');
    throw new ChatTemplateError(
      template.source,
      `a training conversation needs at least one message before a final assistant reply (roles: ${roles})`,
    );
  }
  const context = messages.slice(0, -1);
  const prompt = template.render(context, { addGenerationPrompt: true });
  const whole = template.render(messages);
  if (!whole.startsWith(prompt)) {
    let at = 0;
    while (at < prompt.length && prompt[at] === whole[at]) at++;
    const near = (s: string) => JSON.stringify(s.slice(Math.max(0, at - 20), at + 20));
    throw new ChatTemplateError(
      template.source,
      'the conversation without its final reply, rendered with add_generation_prompt, is not the start of the ' +
        `whole conversation's render, so the reply's tokens cannot be told apart: they differ at character ${at}, ` +
        `prompt ${near(prompt)} vs whole ${near(whole)}`,
    );
  }
  const encode = (text: string) => tokenizer.encode(text, { addSpecialTokens: false });
  const promptIds = encode(prompt);
  const all = encode(whole);
  const reply = promptIds.every((id, t) => all[t] === id)
    ? all.slice(promptIds.length)
    : encode(whole.slice(prompt.length)); // a token straddles the boundary: keep the prompt's own ids
  return fitSupervised(promptIds, reply, maxLength, () => encode(promptEnd(template, prompt, context)).length);
}

/**
 * The end of a prompt that introduces the reply: what follows the last context message's content (its
 * end-of-turn and the generation prompt), or, where the content cannot be found, the generation prompt alone.
 */
function promptEnd(template: ChatTemplate, prompt: string, context: readonly ChatMessage[]): string {
  const content = context.at(-1)!.content.trim();
  const at = content ? prompt.lastIndexOf(content) : -1;
  if (at >= 0) return prompt.slice(at + content.length);
  const bare = template.render(context);
  return prompt.startsWith(bare) ? prompt.slice(bare.length) : '';
}

/** The chat format as a PromptFormatter: prompts with the generation prompt, response-only supervised examples. */
export function chatFormatter(template: ChatTemplate): PromptFormatter {
  const name = `chat (${template.source})`;
  return {
    name,
    id: contentId('chat', { text: template.text, specialTokens: template.specialTokens }),
    promptIds: (tokenizer, input) => tokenizer.encode(renderChatPrompt(template, input), { addSpecialTokens: false }),
    supervised: (tokenizer, example, { maxLength }) =>
      chatSupervisedExample(tokenizer, template, example, { maxLength }),
    toJSON: () => name,
  };
}
