/**
 * Our tokenizer.json pipeline against the official @huggingface/tokenizers package on the same files:
 * GPT-2 (byte-level BPE), Llama-2 style SentencePiece BPE with byte fallback (legacy normalizer and
 * Metaspace forms), Llama-3 style (case-insensitive split regex, ignore_merges), and a tokenizer we train.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { Tokenizer } from './tokenizer.js';
import { tokenizerFromGpt2Files, tokenizerFromLlama2c } from './convert.js';
import { trainByteLevelBpe } from './train-bpe.js';

const repo = join(import.meta.dirname, '..', '..', '..');
const fixtures = join(repo, 'test', 'fixtures');
const alpaca = JSON.parse(readFileSync(join(repo, 'data', 'tasks', 'alpaca', 'alpaca_data_1k.json'), 'utf8')) as {
  instruction: string;
  input: string;
  output: string;
}[];
const corpus = alpaca.flatMap((r) => [r.instruction, r.input, r.output].filter(Boolean));
const tricky = [
  'Hello world',
  '  leading spaces and   gaps\n\nnew lines\t tabs  ',
  "I'm can't they'll we've HE'S",
  'numbers 1234567 3.14159',
  'émojis 🤖🎉 naïve café — “quotes”',
  '数字と日本語',
  'x = f(y) + 3; // code?!',
  'ẞ ß ǅ Ünïcödé',
  ' ',
  '\n',
  'a',
];

function agree(ours: Tokenizer, texts: readonly string[], label: string): void {
  const hf = new HfTokenizer(ours.json as object, {});
  let checked = 0;
  for (const text of texts) {
    const expected = hf.encode(text).ids;
    assert.deepEqual(ours.encode(text), expected, `${label}: ids differ for ${JSON.stringify(text.slice(0, 60))}`);
    checked++;
  }
  assert.equal(checked, texts.length);
}

test('GPT-2 vocab.json + merges.txt: ids equal @huggingface/tokenizers; decoding is lossless', () => {
  const gpt2 = tokenizerFromGpt2Files(
    join(fixtures, 'gpt2-tokenizer', 'encoder.json'),
    join(fixtures, 'gpt2-tokenizer', 'vocab.bpe'),
  );
  assert.equal(gpt2.vocabSize, 50257);
  assert.deepEqual(gpt2.encode('Hello world'), [15496, 995]);
  agree(gpt2, [...tricky, ...corpus.slice(0, 600), 'text<|endoftext|>more'], 'gpt2');
  for (const text of [...tricky, ...corpus.slice(0, 100)]) assert.equal(gpt2.decode(gpt2.encode(text)), text);
  assert.deepEqual(gpt2.encode('a<|endoftext|>b'), [64, 50256, 65]);
  assert.equal(gpt2.decode([64, 50256, 65], { skipSpecialTokens: true }), 'ab');
});

test('SentencePiece-style BPE with byte fallback (llama2.c tok512): ids equal @huggingface/tokenizers and llama2.c', () => {
  const sp = tokenizerFromLlama2c(join(fixtures, 'stories260K', 'tok512.bin'), 512);
  agree(sp, [...tricky, ...corpus.slice(0, 600), 'a <s> b</s>'], 'tok512 legacy');
  const reference = JSON.parse(readFileSync(join(fixtures, 'stories260K', 'prompt-reference.json'), 'utf8')) as {
    text: string;
    prompt: number[];
    tokens: number[];
    completion: string;
  };
  assert.deepEqual(sp.encode(reference.text), reference.prompt);
  assert.equal(sp.decode(reference.tokens), reference.completion.replace(/^ /, ''));
  // Unknown characters become <0xXX> byte tokens and decode back.
  assert.ok(sp.encode('🤖').some((id) => /^<0x/.test(sp.idToToken(id)!)));
  assert.equal(sp.decode(sp.encode('naïve 🤖', { addSpecialTokens: false })), 'naïve 🤖');

  // The newer form of the same tokenizer: Metaspace pre-tokenizer instead of the normalizer.
  const json = structuredClone(sp.json) as Record<string, unknown>;
  json.normalizer = null;
  json.pre_tokenizer = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false };
  json.decoder = {
    type: 'Sequence',
    decoders: [
      { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
      { type: 'ByteFallback' },
      { type: 'Fuse' },
      { type: 'Strip', content: ' ', start: 1, stop: 0 },
    ],
  };
  agree(new Tokenizer(json), [...tricky, ...corpus.slice(0, 300)], 'tok512 metaspace');
});

test('a trained byte-level BPE saved as tokenizer.json loads in @huggingface/tokenizers with the same ids', () => {
  const tokenizer = trainByteLevelBpe(corpus.slice(0, 1500), {
    vocabSize: 800,
    specialTokens: ['<|endoftext|>', '<|pad|>'],
    bosToken: '<|endoftext|>',
  });
  assert.equal(tokenizer.vocabSize, 800);
  const path = join(mkdtempSync(join(tmpdir(), 'pharmacist-bpe-')), 'tokenizer.json');
  tokenizer.save(path);
  const reloaded = Tokenizer.fromFile(path);
  const hf = new HfTokenizer(JSON.parse(readFileSync(path, 'utf8')), {});
  const heldOut = [...corpus.slice(1500, 2200), ...tricky];
  for (const text of heldOut) {
    const ids = reloaded.encode(text);
    assert.deepEqual(ids, hf.encode(text).ids, JSON.stringify(text.slice(0, 60)));
    assert.equal(ids[0], 0, 'the post-processor adds the BOS');
    assert.equal(reloaded.decode(ids, { skipSpecialTokens: true }), text);
  }
  // Training compresses: far fewer tokens than bytes on held-out text.
  const bytes = heldOut.reduce((n, t) => n + Buffer.byteLength(t), 0);
  const tokens = heldOut.reduce((n, t) => n + reloaded.encode(t, { addSpecialTokens: false }).length, 0);
  assert.ok(tokens < 0.5 * bytes, `${tokens} tokens for ${bytes} bytes`);
  // Deterministic.
  const again = trainByteLevelBpe(corpus.slice(0, 1500), {
    vocabSize: 800,
    specialTokens: ['<|endoftext|>', '<|pad|>'],
    bosToken: '<|endoftext|>',
  });
  assert.deepEqual(again.json, tokenizer.json);
});

test('Llama-3 style: case-insensitive split regex, ByteLevel without regex, ignore_merges', () => {
  const base = trainByteLevelBpe(corpus.slice(0, 800), { vocabSize: 600 });
  const json = structuredClone(base.json) as Record<string, Record<string, unknown>>;
  json.pre_tokenizer = {
    type: 'Sequence',
    pretokenizers: [
      {
        type: 'Split',
        pattern: {
          Regex:
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|" +
            ' ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+',
        },
        behavior: 'Isolated',
        invert: false,
      },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  };
  json.model.ignore_merges = true;
  agree(new Tokenizer(json), [...tricky, "WE'VE It'S", ...corpus.slice(800, 1300)], 'llama3-style');
});

test('unsupported tokenizer.json parts are named', () => {
  const json = structuredClone(trainByteLevelBpe(['a b c'], { vocabSize: 260 }).json) as Record<string, unknown>;
  assert.throws(
    () =>
      new Tokenizer(
        { ...json, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Bogus' }] } },
        'x/tokenizer.json',
      ),
    /x\/tokenizer\.json: pre_tokenizer\.pretokenizers\[0\]: type "Bogus" is not supported/,
  );
  assert.throws(
    () => new Tokenizer({ ...json, model: { type: 'WordPiece' } }, 't.json'),
    /t\.json: model\.type "WordPiece" is not supported/,
  );
  assert.throws(() => Tokenizer.fromFile('/nonexistent/tokenizer.json'), /nonexistent\/tokenizer\.json: not found/);
});
