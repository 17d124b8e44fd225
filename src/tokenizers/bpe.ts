/**
 * The BPE model of tokenizer.json: a piece is split into characters, characters missing from the vocabulary
 * fall back to <0xXX> byte tokens (byte_fallback, SentencePiece style) or to the unknown token, then the
 * adjacent pair with the lowest merge rank is merged until no merge applies (Sennrich et al., 2016, as the
 * Rust crate runs it: leftmost first among equal ranks).
 */
import { utf8Bytes } from './byte-level.js';

export interface BpeSpec {
  vocab: Map<string, number>;
  /** Merge pairs in priority order. */
  merges: [string, string][];
  unkToken: string | null;
  byteFallback: boolean;
  fuseUnk: boolean;
  /** A piece that is itself in the vocabulary is emitted whole (Llama-3). */
  ignoreMerges: boolean;
}

const SEP = '\u0000';

export class BpeModel {
  readonly idToToken: string[] = [];
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, number[]>();

  constructor(readonly spec: BpeSpec) {
    for (const [token, id] of spec.vocab) this.idToToken[id] = token;
    spec.merges.forEach(([a, b], rank) => {
      const key = a + SEP + b;
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
    });
  }

  tokenize(piece: string): number[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    const ids = this.merge(piece);
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(piece, ids);
    return ids;
  }

  private merge(piece: string): number[] {
    const { vocab, unkToken, byteFallback, fuseUnk, ignoreMerges } = this.spec;
    if (ignoreMerges && vocab.has(piece)) return [vocab.get(piece)!];
    // Symbols are strings; a null marks a symbol that merges never touch (byte fallbacks, unknowns).
    const symbols: string[] = [];
    const frozen: boolean[] = [];
    for (const ch of piece) {
      if (vocab.has(ch)) {
        symbols.push(ch);
        frozen.push(false);
        continue;
      }
      const bytes = [...utf8Bytes(ch)].map((b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
      if (byteFallback && bytes.every((b) => vocab.has(b))) {
        for (const b of bytes) {
          symbols.push(b);
          frozen.push(true);
        }
      } else {
        if (unkToken === null || !vocab.has(unkToken))
          throw new Error(`BPE: character ${JSON.stringify(ch)} is not in the vocabulary and there is no unk_token`);
        if (fuseUnk && symbols.length > 0 && frozen[frozen.length - 1] && symbols[symbols.length - 1] === unkToken)
          continue;
        symbols.push(unkToken);
        frozen.push(true);
      }
    }
    return this.applyMerges(symbols, frozen);
  }

  /**
   * Merge by rank over a linked list of symbols with a min-heap of candidate pairs (rank, then position):
   * O(n log n) per piece, which matters because SentencePiece-style tokenizers have no pre-tokenizer and
   * hand the model whole paragraphs.
   */
  private applyMerges(symbols: string[], frozen: boolean[]): number[] {
    const n = symbols.length;
    const next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
    const prev = Int32Array.from({ length: n }, (_, i) => i - 1);
    const alive = new Uint8Array(n).fill(1);
    const heap = new PairHeap();
    const consider = (i: number) => {
      const j = next[i];
      if (i < 0 || j < 0 || frozen[i] || frozen[j]) return;
      const rank = this.ranks.get(symbols[i] + SEP + symbols[j]);
      if (rank !== undefined) heap.push(rank, i, symbols[i].length + symbols[j].length);
    };
    for (let i = 0; i < n; i++) consider(i);
    for (let top = heap.pop(); top; top = heap.pop()) {
      const [rank, i, length] = top;
      const j = next[i];
      // Stale: the left symbol died, or either side changed since the pair was queued.
      if (
        !alive[i] ||
        j < 0 ||
        symbols[i].length + symbols[j].length !== length ||
        this.ranks.get(symbols[i] + SEP + symbols[j]) !== rank
      )
        continue;
      symbols[i] += symbols[j];
      alive[j] = 0;
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      if (prev[i] >= 0) consider(prev[i]);
      consider(i);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0 && i < n; i = next[i]) {
      const id = this.spec.vocab.get(symbols[i]);
      if (id === undefined)
        throw new Error(`BPE: merged symbol ${JSON.stringify(symbols[i])} is not in the vocabulary`);
      out.push(id);
    }
    return out;
  }
}

/** Min-heap of (rank, position, merged length) triples, rank first, then leftmost. */
class PairHeap {
  private readonly data: number[] = [];
  private size = 0;
  push(rank: number, pos: number, length: number): void {
    const d = this.data;
    let i = this.size++;
    d.push(0, 0, 0);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (d[3 * p] < rank || (d[3 * p] === rank && d[3 * p + 1] < pos)) break;
      d[3 * i] = d[3 * p];
      d[3 * i + 1] = d[3 * p + 1];
      d[3 * i + 2] = d[3 * p + 2];
      i = p;
    }
    d[3 * i] = rank;
    d[3 * i + 1] = pos;
    d[3 * i + 2] = length;
  }
  pop(): [number, number, number] | undefined {
    if (this.size === 0) return undefined;
    const d = this.data;
    const top: [number, number, number] = [d[0], d[1], d[2]];
    const last = --this.size;
    const [r, p, l] = [d[3 * last], d[3 * last + 1], d[3 * last + 2]];
    d.length = 3 * last;
    if (last === 0) return top;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (
        c + 1 < last &&
        (d[3 * (c + 1)] < d[3 * c] || (d[3 * (c + 1)] === d[3 * c] && d[3 * (c + 1) + 1] < d[3 * c + 1]))
      )
        c++;
      if (r < d[3 * c] || (r === d[3 * c] && p < d[3 * c + 1])) break;
      d[3 * i] = d[3 * c];
      d[3 * i + 1] = d[3 * c + 1];
      d[3 * i + 2] = d[3 * c + 2];
      i = c;
    }
    d[3 * i] = r;
    d[3 * i + 1] = p;
    d[3 * i + 2] = l;
    return top;
  }
}
