/**
 * tokenizer.json from older formats, so every tokenizer runs through one implementation:
 * - GPT-2's vocab.json (encoder.json) + merges.txt (vocab.bpe), as transformers' GPT2 converter builds it;
 * - llama2.c's tokenizer.bin (SentencePiece pieces and scores, spaces stored as ' '), as transformers'
 *   LlamaConverter builds a Llama-2 tokenizer.json: merges from every split of every piece into two
 *   pieces, ordered by the merged piece's score; byte fallback; "▁" prefix; BOS added.
 */
import { readFileSync } from 'node:fs';
import { Tokenizer } from './tokenizer.js';
import { byteLevelTokenizerJson } from './train-bpe.js';

export function tokenizerFromGpt2Files(vocabPath: string, mergesPath: string): Tokenizer {
  let vocab: Record<string, number>;
  try {
    vocab = JSON.parse(readFileSync(vocabPath, 'utf8')) as Record<string, number>;
  } catch (error) {
    throw new Error(`${vocabPath}: not valid JSON (${(error as Error).message})`);
  }
  const merges: [string, string][] = [];
  readFileSync(mergesPath, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.startsWith('#version') || line.trim() === '') return;
      const parts = line.split(' ');
      if (parts.length !== 2) throw new Error(`${mergesPath}:${i + 1}: expected "a b", got ${JSON.stringify(line)}`);
      merges.push([parts[0], parts[1]]);
    });
  const symbols: string[] = [];
  for (const [token, id] of Object.entries(vocab)) symbols[id] = token;
  const special = symbols.includes('<|endoftext|>') ? ['<|endoftext|>'] : [];
  return new Tokenizer(byteLevelTokenizerJson(symbols, merges, { specialTokens: special }), vocabPath);
}

interface ScoredPiece {
  piece: string;
  score: number;
}

function readLlama2cPieces(path: string, vocabSize?: number): ScoredPiece[] {
  const buf = readFileSync(path);
  const out: ScoredPiece[] = [];
  let at = 4;
  while (at < buf.length && (vocabSize === undefined || out.length < vocabSize)) {
    if (at + 8 > buf.length) throw new Error(`${path}: ends inside token ${out.length}`);
    const score = buf.readFloatLE(at);
    const len = buf.readInt32LE(at + 4);
    if (len < 0 || at + 8 + len > buf.length)
      throw new Error(`${path}: token ${out.length} has length ${len} past the end of the file`);
    out.push({ piece: buf.toString('utf8', at + 8, at + 8 + len), score });
    at += 8 + len;
  }
  if (vocabSize !== undefined && out.length < vocabSize)
    throw new Error(`${path}: holds ${out.length} tokens, the model expects ${vocabSize}`);
  return out;
}

export function tokenizerFromLlama2c(path: string, vocabSize?: number): Tokenizer {
  const scored = readLlama2cPieces(path, vocabSize);
  // llama2.c exports BOS/EOS as "\n<s>\n" / "\n</s>\n" and SentencePiece's "▁" as a space.
  const specials = ['<unk>', '<s>', '</s>'];
  const pieces = scored.map(({ piece }, id) => (id < 3 ? specials[id] : piece.replaceAll(' ', '▁')));
  const vocab = new Map(pieces.map((p, id) => [p, id]));
  const byScore = pieces
    .map((_, id) => id)
    .filter((id) => id >= 3)
    .sort((a, b) => scored[b].score - scored[a].score || a - b);
  const merges: [string, string][] = [];
  for (const id of byScore) {
    const piece = [...pieces[id]];
    const local: [string, string][] = [];
    for (let k = 1; k < piece.length; k++) {
      const left = piece.slice(0, k).join(''),
        right = piece.slice(k).join('');
      if (vocab.has(left) && vocab.has(right)) local.push([left, right]);
    }
    local.sort((x, y) => vocab.get(x[0])! - vocab.get(y[0])! || vocab.get(x[1])! - vocab.get(y[1])!);
    merges.push(...local);
  }
  const added = specials.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return new Tokenizer(
    {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: {
        type: 'Sequence',
        normalizers: [
          { type: 'Prepend', prepend: '▁' },
          { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
        ],
      },
      pre_tokenizer: null,
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [
          { SpecialToken: { id: '<s>', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '<s>', type_id: 1 } },
          { Sequence: { id: 'B', type_id: 1 } },
        ],
        special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
      },
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          { type: 'Strip', content: ' ', start: 1, stop: 0 },
        ],
      },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: '<unk>',
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: true,
        byte_fallback: true,
        ignore_merges: false,
        vocab: Object.fromEntries(vocab),
        merges,
      },
    },
    path,
  );
}
