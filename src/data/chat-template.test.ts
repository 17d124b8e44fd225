/**
 * Chat templates rendered with @huggingface/jinja against Python's Jinja2 (test/fixtures/chat-templates/
 * reference.json, written by scripts/fixtures/chat_template_reference.py), loading from model folders, and the
 * response-only label mask on a tiny tokenizer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainByteLevelBpe } from '../tokenizers/index.js';
import {
  ChatTemplateError,
  chatFormatter,
  chatMessages,
  chatSupervisedExample,
  createChatTemplate,
  loadChatTemplate,
  renderChatPrompt,
  type ChatMessage,
} from './chat-template.js';
import { IGNORE_INDEX, type SupervisedExample } from './prompt-format.js';

const repo = join(import.meta.dirname, '..', '..', '..');
const fixtures = join(repo, 'test', 'fixtures', 'chat-templates');
const reference = JSON.parse(readFileSync(join(fixtures, 'reference.json'), 'utf8')) as {
  renders: {
    template: string;
    conversation: string;
    part: string;
    add_generation_prompt: boolean;
    messages: ChatMessage[];
    text: string;
  }[];
  refusals: { template: string; messages: ChatMessage[]; error: string }[];
};
const tmp = () => mkdtempSync(join(tmpdir(), 'pharmacist-chat-'));
const targets = (x: SupervisedExample) => x.ids.filter((_, t) => x.labels[t] !== IGNORE_INDEX);

test('Llama-3, Qwen2 and Gemma style templates render exactly as Python Jinja2 renders them', () => {
  assert.equal(reference.renders.length, 48);
  for (const r of reference.renders) {
    const template = loadChatTemplate(join(fixtures, r.template));
    const text = template.render(r.messages, { addGenerationPrompt: r.add_generation_prompt });
    const what = `${r.template} ${r.conversation} ${r.part} add_generation_prompt=${r.add_generation_prompt}`;
    assert.equal(text, r.text, what);
  }
  for (const r of reference.refusals) {
    const template = loadChatTemplate(join(fixtures, r.template));
    assert.throws(
      () => template.render(r.messages),
      (error: Error) =>
        error instanceof ChatTemplateError &&
        error.message.includes(
          'tokenizer_config.json (chat_template): the chat template failed on this conversation: ',
        ) &&
        error.message.endsWith(r.error),
    );
  }
});

test('special tokens come from tokenizer_config.json: strings, AddedToken objects, nulls left out', () => {
  assert.deepEqual(loadChatTemplate(join(fixtures, 'gemma')).specialTokens, {
    bos_token: '<bos>',
    eos_token: '<eos>',
    unk_token: '<unk>',
    pad_token: '<pad>',
    additional_special_tokens: ['<start_of_turn>', '<end_of_turn>'],
  });
  const qwen = loadChatTemplate(join(fixtures, 'qwen2'));
  assert.equal('bos_token' in qwen.specialTokens, false);
  assert.equal(qwen.specialTokens.eos_token, '<|im_end|>');
});

test('named template lists take "default"; chat_template.jinja takes precedence; missing templates are clear', () => {
  const dir = tmp();
  const config = (chat_template: unknown) =>
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '</s>', chat_template }));
  config([
    { name: 'tool_use', template: 'tools' },
    { name: 'default', template: '{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}' },
  ]);
  const listed = loadChatTemplate(dir);
  assert.match(listed.source, /tokenizer_config\.json \(chat_template "default"\)$/);
  assert.equal(listed.render([{ role: 'user', content: 'hi' }]), 'hi</s>');
  config([{ name: 'tool_use', template: 'tools' }]);
  assert.throws(() => loadChatTemplate(dir), /a list of named templates \("tool_use"\) with no "default"/);
  config(undefined);
  assert.throws(() => loadChatTemplate(dir), /tokenizer_config\.json: has no chat_template \(a base model\?/);
  writeFileSync(join(dir, 'chat_template.jinja'), '[{{ messages[0].content }}|{{ eos_token }}]\n');
  const file = loadChatTemplate(dir);
  assert.equal(file.source, join(dir, 'chat_template.jinja'));
  assert.equal(file.render([{ role: 'user', content: 'x' }]), '[x|</s>]', 'trailing newline dropped, as Jinja2 does');
  assert.throws(() => loadChatTemplate(tmp()), /no chat template here/);
  assert.throws(
    () => createChatTemplate('{% if %}', { source: 'bad.jinja' }),
    /^ChatTemplateError: bad\.jinja: the chat template does not parse/,
  );
});

/** A tiny byte-level BPE that knows the Llama-3 and Qwen2 turn markers as special tokens, and adds a BOS itself. */
const tokenizer = trainByteLevelBpe(
  reference.renders.map((r) => r.text),
  {
    vocabSize: 420,
    specialTokens: [
      '<|begin_of_text|>',
      '<|start_header_id|>',
      '<|end_header_id|>',
      '<|eot_id|>',
      '<|im_start|>',
      '<|im_end|>',
    ],
    bosToken: '<|begin_of_text|>',
  },
);

test('labels cover exactly the final reply and the end-of-turn tokens the template writes', () => {
  const llama = loadChatTemplate(join(fixtures, 'llama3'));
  const qwen = loadChatTemplate(join(fixtures, 'qwen2'));
  const conversation = reference.renders.find((r) => r.conversation === 'multi-turn' && r.part === 'whole')!.messages;
  for (const [template, reply] of [
    [llama, 'Green.<|eot_id|>'],
    [qwen, 'Green.<|im_end|>\n'],
  ] as const) {
    const example = chatSupervisedExample(tokenizer, template, { messages: conversation }, { maxLength: 10_000 });
    const encode = (text: string) => tokenizer.encode(text, { addSpecialTokens: false });
    const whole = template.render(conversation);
    const prompt = renderChatPrompt(template, { messages: conversation.slice(0, -1) });
    const promptIds = encode(prompt);
    assert.deepEqual(example.ids.slice(0, promptIds.length), promptIds, 'the ids generation starts from, no BOS added');
    assert.ok(example.labels.slice(0, promptIds.length).every((l) => l === IGNORE_INDEX));
    assert.deepEqual(example.labels.slice(promptIds.length), example.ids.slice(promptIds.length));
    assert.equal(tokenizer.decode(example.ids), whole);
    // Qwen2's prompt ends "assistant\n", which this tokenizer never merges with what follows: the whole render's
    // ids are used as they are. Llama-3's ends "\n\n", which it splits differently before "Green": the reply is
    // tokenized on its own after the prompt's ids, so the targets still hold no prompt character.
    const joint = encode(whole);
    assert.equal(
      promptIds.every((id, t) => joint[t] === id),
      template === qwen,
    );
    if (template === qwen) assert.deepEqual(example.ids, joint);
    assert.equal(tokenizer.decode(targets(example)), reply);
    assert.ok(!tokenizer.decode(targets(example)).includes('Blue'), 'earlier replies are context');
  }
  const bos = tokenizer.tokenToId('<|begin_of_text|>')!;
  const single = chatSupervisedExample(tokenizer, llama, {
    instruction: 'Say hi.',
    input: 'Politely',
    output: ' Hi! ',
  });
  assert.equal(single.ids.filter((id) => id === bos).length, 1);
  assert.equal(tokenizer.decode(targets(single)), 'Hi!<|eot_id|>', 'the template trims the reply');
  assert.deepEqual(chatMessages({ instruction: 'Say hi.', input: 'Politely', output: ' Hi! ' }), [
    { role: 'user', content: 'Say hi.\n\nPolitely' },
    { role: 'assistant', content: ' Hi! ' },
  ]);
  assert.match(
    renderChatPrompt(llama, { instruction: 'Say hi.' }),
    /user<\|end_header_id\|>\n\nSay hi\.<\|eot_id\|>.*assistant<\|end_header_id\|>\n\n$/s,
  );
  assert.throws(
    () => chatSupervisedExample(tokenizer, llama, { messages: [{ role: 'user', content: 'no reply' }] }),
    /llama3\/tokenizer_config\.json \(chat_template\): a training conversation needs .* \(roles: user\)/,
  );
});

test('truncation keeps the head, the turn markers before the reply, and the reply', () => {
  const llama = loadChatTemplate(join(fixtures, 'llama3'));
  const article = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
  const example = { instruction: 'Classify.', input: article, output: 'Sports' };
  const full = chatSupervisedExample(tokenizer, llama, example, { maxLength: 10_000 });
  const maxLength = Math.floor(full.ids.length / 2);
  const cut = chatSupervisedExample(tokenizer, llama, example, { maxLength });
  assert.equal(cut.ids.length, maxLength);
  assert.deepEqual(targets(cut), targets(full));
  const text = tokenizer.decode(cut.ids);
  assert.ok(text.startsWith('<|begin_of_text|><|start_header_id|>system<|end_header_id|>'));
  assert.match(text, /<\|eot_id\|><\|start_header_id\|>assistant<\|end_header_id\|>\n\nSports<\|eot_id\|>$/);
  assert.doesNotMatch(text, /word40 /);
});

test('a template whose generation prompt is not where the whole render continues is a clear error', () => {
  const odd = createChatTemplate(
    '{% for m in messages %}<{{ m.role }}>{{ m.content }}</{{ m.role }}>{% endfor %}' +
      '{% if add_generation_prompt %}<reply>{% else %}<end>{% endif %}',
    { source: 'odd/tokenizer_config.json (chat_template)' },
  );
  const messages = [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello' },
  ];
  assert.throws(
    () => chatSupervisedExample(tokenizer, odd, { messages }),
    (error: Error) =>
      error instanceof ChatTemplateError &&
      error.message.startsWith('odd/tokenizer_config.json (chat_template): the conversation without its final reply') &&
      /differ at character 16, prompt .* vs whole /.test(error.message),
  );
});

test('chatFormatter: an instruction carrying its conversation is rendered whole; prompts start where generation does', () => {
  const llama = loadChatTemplate(join(fixtures, 'llama3'));
  const format = chatFormatter(llama);
  const messages = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Colour of grass?' },
    { role: 'assistant', content: 'Green.' },
  ];
  const withConversation = format.supervised(
    tokenizer,
    { instruction: 'Colour of grass?', output: 'Green.', messages },
    { maxLength: 10_000 },
  );
  assert.deepEqual(withConversation, chatSupervisedExample(tokenizer, llama, { messages }, { maxLength: 10_000 }));
  assert.match(tokenizer.decode(withConversation.ids), /Be brief\./);
  const bare = format.supervised(
    tokenizer,
    { instruction: 'Colour of grass?', output: 'Green.' },
    { maxLength: 10_000 },
  );
  assert.doesNotMatch(tokenizer.decode(bare.ids), /Be brief\./);
  assert.deepEqual(
    format.promptIds(tokenizer, { instruction: 'Colour of grass?' }),
    tokenizer.encode(renderChatPrompt(llama, { instruction: 'Colour of grass?' }), { addSpecialTokens: false }),
  );
  assert.equal(JSON.stringify({ profile: format }), `{"profile":"chat (${llama.source})"}`);
});
