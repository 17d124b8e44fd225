/**
 * A tokenizer from Hugging Face's tokenizer.json: added tokens are cut out first, each remaining segment is
 * normalized, pre-tokenized and run through the BPE model; the post-processor adds BOS/EOS-style tokens.
 * Covers byte-level BPE (GPT-2, Llama-3, Qwen2) and SentencePiece-style BPE with byte fallback (Llama-2,
 * Mistral, Gemma). Other model types (WordPiece, Unigram) are refused with the field that names them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../io/atomic.js';
import { BpeModel } from './bpe.js';
import {
  buildDecoder,
  buildNormalizer,
  buildPreTokenizer,
  type Decoder,
  type Normalizer,
  type PreTokenizer,
} from './components.js';

type Json = Record<string, unknown>;

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
}

export interface EncodeOptions {
  /** Apply the post-processor (BOS and the like). Default true. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens from the text. Default false. */
  skipSpecialTokens?: boolean;
}

export class Tokenizer {
  private readonly model: BpeModel;
  private readonly normalize: Normalizer;
  private readonly preTokenize: PreTokenizer;
  private readonly decoder: Decoder;
  private readonly added: AddedToken[];
  private readonly addedPattern: RegExp | null;
  private readonly specialIds: Set<number>;
  private readonly addedByContent: Map<string, AddedToken>;
  private readonly prefixIds: number[];
  private readonly suffixIds: number[];

  constructor(
    readonly json: Json,
    readonly source = 'tokenizer.json',
  ) {
    const model = json.model as Json | undefined;
    if (!model || typeof model !== 'object') throw new Error(`${source}: field "model" is missing`);
    if ((model.type ?? 'BPE') !== 'BPE')
      throw new Error(`${source}: model.type "${model.type}" is not supported (BPE only)`);
    for (const field of ['continuing_subword_prefix', 'end_of_word_suffix']) {
      if (model[field]) throw new Error(`${source}: model.${field} is not supported`);
    }
    const vocab = new Map(Object.entries((model.vocab ?? {}) as Record<string, number>));
    const merges = ((model.merges ?? []) as (string | [string, string])[]).map((m, i): [string, string] => {
      if (Array.isArray(m)) return m;
      const space = m.indexOf(' ', 1);
      if (space < 0) throw new Error(`${source}: model.merges[${i}] = ${JSON.stringify(m)} is not "a b"`);
      return [m.slice(0, space), m.slice(space + 1)];
    });
    this.added = ((json.added_tokens ?? []) as AddedToken[]).map((t) => ({ ...t }));
    for (const t of this.added) vocab.set(t.content, t.id);
    this.model = new BpeModel({
      vocab,
      merges,
      unkToken: (model.unk_token as string | null) ?? null,
      byteFallback: model.byte_fallback === true,
      fuseUnk: model.fuse_unk === true,
      ignoreMerges: model.ignore_merges === true,
    });
    this.normalize = buildNormalizer(json.normalizer as Json, `${source}: normalizer`);
    this.preTokenize = buildPreTokenizer(json.pre_tokenizer as Json, `${source}: pre_tokenizer`);
    this.decoder = buildDecoder(json.decoder as Json, `${source}: decoder`);
    this.addedByContent = new Map(this.added.map((t) => [t.content, t]));
    this.specialIds = new Set(this.added.filter((t) => t.special).map((t) => t.id));
    const sorted = [...this.added].sort((a, b) => b.content.length - a.content.length);
    this.addedPattern =
      sorted.length > 0
        ? new RegExp(sorted.map((t) => t.content.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gu')
        : null;
    [this.prefixIds, this.suffixIds] = this.templateIds(json.post_processor as Json | null);
  }

  static fromFile(path: string): Tokenizer {
    if (!existsSync(path)) throw new Error(`${path}: not found`);
    let json: Json;
    try {
      json = JSON.parse(readFileSync(path, 'utf8')) as Json;
    } catch (error) {
      throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
    }
    return new Tokenizer(json, path);
  }

  /** Write tokenizer.json (atomically). */
  save(path: string): void {
    writeJsonAtomic(path, this.json);
  }

  get vocabSize(): number {
    return this.model.idToToken.length;
  }

  tokenToId(token: string): number | undefined {
    return this.model.spec.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.model.idToToken[id];
  }

  encode(text: string, { addSpecialTokens = true }: EncodeOptions = {}): number[] {
    const ids: number[] = addSpecialTokens ? [...this.prefixIds] : [];
    let first = true;
    for (const segment of this.splitAdded(text)) {
      if (typeof segment === 'number') {
        ids.push(segment);
        first = false;
        continue;
      }
      const normalized = this.normalize(segment);
      for (const piece of this.preTokenize([normalized], first))
        if (piece.length > 0) ids.push(...this.model.tokenize(piece));
      first = false;
    }
    if (addSpecialTokens) ids.push(...this.suffixIds);
    return ids;
  }

  decode(ids: readonly number[], { skipSpecialTokens = false }: DecodeOptions = {}): string {
    const tokens: string[] = [];
    for (const id of ids) {
      if (skipSpecialTokens && this.specialIds.has(id)) continue;
      const token = this.model.idToToken[id];
      if (token === undefined) throw new Error(`decode: id ${id} is outside the vocabulary (${this.vocabSize})`);
      tokens.push(token);
    }
    return this.decoder(tokens).join('');
  }

  /** Text segments and the ids of added tokens found between them, honouring lstrip/rstrip. */
  private splitAdded(text: string): (string | number)[] {
    if (!this.addedPattern) return [text];
    const out: (string | number)[] = [];
    let last = 0;
    for (const m of text.matchAll(this.addedPattern)) {
      const token = this.addedByContent.get(m[0])!;
      let before = text.slice(last, m.index);
      if (token.lstrip) before = before.replace(/\s+$/u, '');
      if (before) out.push(before);
      out.push(token.id);
      last = m.index! + m[0].length;
      if (token.rstrip) while (last < text.length && /\s/u.test(text[last])) last++;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }

  /** Ids a TemplateProcessing post-processor puts before and after a single sequence. */
  private templateIds(spec: Json | null): [number[], number[]] {
    if (!spec || spec.type === 'ByteLevel') return [[], []];
    if (spec.type === 'Sequence') {
      const parts = (spec.processors as Json[]).map((p) => this.templateIds(p));
      return [parts.flatMap((p) => p[0]), parts.flatMap((p) => p[1])];
    }
    if (spec.type !== 'TemplateProcessing')
      throw new Error(`${this.source}: post_processor.type "${spec.type}" is not supported`);
    const special = (spec.special_tokens ?? {}) as Record<string, { ids: number[] }>;
    const before: number[] = [],
      after: number[] = [];
    let seen = false;
    for (const item of spec.single as Json[]) {
      if (item.Sequence) {
        seen = true;
        continue;
      }
      const name = (item.SpecialToken as { id: string }).id;
      const ids = special[name]?.ids;
      if (!ids) throw new Error(`${this.source}: post_processor special token "${name}" has no ids`);
      (seen ? after : before).push(...ids);
    }
    return [before, after];
  }
}
