/**
 * Train a byte-level BPE tokenizer (GPT-2 style) on a corpus and describe it as tokenizer.json.
 * Words come from the GPT-2 pre-tokenization pattern mapped to the byte alphabet; the most frequent adjacent
 * pair is merged until the vocabulary is full (ties: the lexicographically smaller pair, so training is
 * deterministic). Pair counts are updated incrementally and the best pair is kept in a lazy max-heap, so a
 * merge costs time in proportion to the words that contain the pair, not to the corpus.
 */
import { BYTE_TO_CHAR, GPT2_PATTERN, bytesToChars } from './byte-level.js';
import { compilePattern } from './regex.js';
import { Tokenizer } from './tokenizer.js';

export interface BpeTrainerConfig {
  /** Final vocabulary size, special tokens and the 256 byte symbols included. Default 4096. */
  vocabSize: number;
  /** Pairs seen fewer times are never merged. Default 2. */
  minFrequency: number;
  /** Added first, with ids 0.. in this order. Default ["<|endoftext|>"]. */
  specialTokens: string[];
  /** Post-processor: put this special token before every encoded text (for example a BOS). Default none. */
  bosToken?: string;
}

export const BPE_TRAINER_DEFAULTS: BpeTrainerConfig = {
  vocabSize: 4096,
  minFrequency: 2,
  specialTokens: ['<|endoftext|>'],
};

const PAIR = 2 ** 21;
const pairKey = (a: number, b: number) => a * PAIR + b;

class MaxHeap {
  private readonly items: [number, number, string][] = []; // count, key, tie-break string
  push(item: [number, number, string]): void {
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop(): [number, number, string] | undefined {
    const h = this.items;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < h.length && this.above(h[l], h[m])) m = l;
        if (r < h.length && this.above(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
  private above(a: [number, number, string], b: [number, number, string]): boolean {
    return a[0] > b[0] || (a[0] === b[0] && a[2] < b[2]);
  }
}

export function trainByteLevelBpe(corpus: Iterable<string>, options: Partial<BpeTrainerConfig> = {}): Tokenizer {
  const cfg: BpeTrainerConfig = { ...BPE_TRAINER_DEFAULTS, ...options };
  if (cfg.vocabSize < cfg.specialTokens.length + 256)
    throw new Error(
      `BPE training: vocabSize ${cfg.vocabSize} is below the ${cfg.specialTokens.length + 256} special and byte symbols`,
    );
  const symbols: string[] = [...cfg.specialTokens, ...BYTE_TO_CHAR];
  const symbolId = new Map(symbols.map((s, i) => [s, i]));
  const pattern = compilePattern(GPT2_PATTERN, 'BPE training');

  const wordCounts = new Map<string, number>();
  for (const text of corpus)
    for (const m of text.matchAll(pattern)) {
      const w = bytesToChars(m[0]);
      wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
    }
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [w, c] of wordCounts) {
    words.push([...w].map((ch) => symbolId.get(ch)!));
    counts.push(c);
  }

  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (wi: number, sign: 1 | -1, changed: Set<number>) => {
    const w = words[wi];
    for (let i = 0; i + 1 < w.length; i++) {
      const k = pairKey(w[i], w[i + 1]);
      pairCount.set(k, (pairCount.get(k) ?? 0) + sign * counts[wi]);
      if (sign > 0) {
        if (!pairWords.has(k)) pairWords.set(k, new Set());
        pairWords.get(k)!.add(wi);
      }
      changed.add(k);
    }
  };
  const heap = new MaxHeap();
  const describe = (k: number) => symbols[Math.floor(k / PAIR)] + ' ' + symbols[k % PAIR];
  const initial = new Set<number>();
  words.forEach((_, wi) => addPairs(wi, 1, initial));
  for (const k of initial) heap.push([pairCount.get(k)!, k, describe(k)]);

  const merges: [string, string][] = [];
  while (symbols.length < cfg.vocabSize) {
    const top = heap.pop();
    if (!top) break;
    const [count, k] = top;
    if (pairCount.get(k) !== count) continue; // stale entry
    if (count < cfg.minFrequency) break;
    const a = Math.floor(k / PAIR),
      b = k % PAIR;
    // Two merge paths can spell the same string ("ab"+"c", "a"+"bc"): they share one id, as in the crate.
    const spelled = symbols[a] + symbols[b];
    let merged = symbolId.get(spelled);
    if (merged === undefined) {
      merged = symbols.length;
      symbols.push(spelled);
      symbolId.set(spelled, merged);
    }
    merges.push([symbols[a], symbols[b]]);
    const changed = new Set<number>();
    for (const wi of pairWords.get(k) ?? []) {
      const w = words[wi];
      if (!w.some((s, i) => s === a && w[i + 1] === b)) continue;
      addPairs(wi, -1, changed);
      const next: number[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
          next.push(merged);
          i++;
        } else next.push(w[i]);
      }
      words[wi] = next;
      addPairs(wi, 1, changed);
    }
    pairWords.delete(k);
    pairCount.delete(k);
    for (const c of changed) {
      const n = pairCount.get(c);
      if (n !== undefined && n > 0) heap.push([n, c, describe(c)]);
    }
  }
  return new Tokenizer(byteLevelTokenizerJson(symbols, merges, cfg), 'trained BPE');
}

/** tokenizer.json for a byte-level BPE vocabulary (GPT-2's pipeline). */
export function byteLevelTokenizerJson(
  symbols: readonly string[],
  merges: readonly [string, string][],
  cfg: Pick<BpeTrainerConfig, 'specialTokens' | 'bosToken'>,
): Record<string, unknown> {
  const specialId = (t: string) => symbols.indexOf(t);
  const added = cfg.specialTokens.map((content) => ({
    id: specialId(content),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const bos = cfg.bosToken;
  if (bos !== undefined && !cfg.specialTokens.includes(bos))
    throw new Error(`BPE training: bosToken "${bos}" is not one of the special tokens`);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor:
      bos === undefined
        ? { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true }
        : {
            type: 'TemplateProcessing',
            single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
            pair: [
              { SpecialToken: { id: bos, type_id: 0 } },
              { Sequence: { id: 'A', type_id: 0 } },
              { Sequence: { id: 'B', type_id: 1 } },
            ],
            special_tokens: { [bos]: { id: bos, ids: [specialId(bos)], tokens: [bos] } },
          },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(symbols.map((s, i) => [s, i])),
      merges: merges.map(([a, b]) => [a, b]),
    },
  };
}
