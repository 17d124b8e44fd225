/**
 * npm run bench:judge — the builtin judge's pooling, the step that dominated its training and scoring: every
 * segment's n-gram features summed into one vector per reply (and per sentence), on the committed judge's table and
 * the gold dev pairs' real bags. Timed side by side in interleaved rounds: `embeddingBag` (what the judge runs)
 * against the reference it replaced, `embedding` then `mul` and `sum` over bags zero-padded to the longest in the
 * batch; forward alone (scoring, batches of 256) and forward with backward (training, batches of 128). Both give the
 * same bits (checked here on every batch, and in the engine's op tests). Then the committed judge's own scoring time
 * per 500 pairs. Medians over rounds; prints lines and, last, one JSON line.
 * Flags: --rounds N (5), --pairs N (1024 gold dev pairs).
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { dataDir } from '../src/data/datasets.js';
import { Tensor, backward, embedding, embeddingBag, getBackend, mul, sum } from '../src/engine/index.js';
import { loadGold } from '../src/eval/judge-data.js';
import { BuiltinJudge, MAX_SENTENCES, ngrams, segmentNgrams, sentencesOf } from '../src/eval/judges/builtin.js';
import { defaultJudgeDir } from '../src/eval/judges/registry.js';
import { median } from './common.js';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, pairs: { type: 'string', default: '1024' } },
});
const rounds = Number(args.rounds);
const judge = BuiltinJudge.load(defaultJudgeDir());
const pairs = loadGold(join(dataDir(), 'judge', 'gold', 'dev.jsonl')).slice(0, Number(args.pairs));
const index = new Map(judge.vocabulary.map((g, i) => [g, i + 1])); // row 0 is the judge's "no feature" row
const table = judge.members[0].table;

/** One batch's bags, as the judge builds them: each segment's n-grams found in the vocabulary, and each sentence's. */
function bagsOf(batch: typeof pairs): number[][] {
  const bags: number[][] = [];
  const found = (grams: string[]) =>
    grams
      .map((g) => index.get(g))
      .filter((i): i is number => i !== undefined)
      .slice(0, judge.config.maxFeatures);
  for (const segment of judge.config.segments) {
    if (segment !== 'sentences') for (const item of batch) bags.push(found(segmentNgrams(segment, item)));
    else
      for (const item of batch) {
        const sentences = sentencesOf(item.response);
        for (let s = 0; s < MAX_SENTENCES; s++) bags.push(s < sentences.length ? found(ngrams(sentences[s])) : []);
      }
  }
  return bags;
}

function asBags(bags: number[][]) {
  const offsets = new Int32Array(bags.length + 1);
  bags.forEach((b, r) => (offsets[r + 1] = offsets[r] + b.length));
  return {
    ids: Int32Array.from(bags.flat()),
    offsets,
    weights: Float32Array.from(bags.flatMap((b) => b.map(() => 1 / b.length))),
  };
}

function asPadded(bags: number[][]) {
  const L = Math.max(1, ...bags.map((b) => b.length));
  const ids = new Int32Array(bags.length * L);
  const weights = new Float32Array(bags.length * L);
  bags.forEach((b, r) =>
    b.forEach((id, j) => {
      ids[r * L + j] = id;
      weights[r * L + j] = 1 / b.length;
    }),
  );
  return { ids, L, weights: new Tensor(weights, [bags.length, L, 1]) };
}

const batchesOf = (size: number) =>
  Array.from({ length: Math.ceil(pairs.length / size) }, (_, i) => bagsOf(pairs.slice(i * size, (i + 1) * size)));
const workloads = { score: { batches: batchesOf(256), train: false }, train: { batches: batchesOf(128), train: true } };
const sameBits = (a: Tensor, b: Tensor) => a.data.every((x, i) => x + 0 === b.data[i] + 0);

/** ms of one pass over the workload's batches with one pooling, checking its output against the other's bits. */
function pass(batches: number[][][], train: boolean, fused: boolean): number {
  const prepared = batches.map((bags) => ({ bags: asBags(bags), padded: asPadded(bags), rows: bags.length }));
  const t0 = performance.now();
  for (const p of prepared) {
    table.grad = null;
    const out = fused
      ? embeddingBag(table, p.bags.ids, p.bags.offsets, p.bags.weights)
      : sum(mul(embedding(table, p.padded.ids, [p.rows, p.padded.L]), p.padded.weights), { axes: [1] });
    if (train) backward(out, { gradient: new Float32Array(out.size).fill(1e-3) });
  }
  return performance.now() - t0;
}

// The bits first, once per batch (not timed).
for (const { batches } of Object.values(workloads))
  for (const bags of batches) {
    const { ids, offsets, weights } = asBags(bags);
    const padded = asPadded(bags);
    const a = embeddingBag(table, ids, offsets, weights);
    const b = sum(mul(embedding(table, padded.ids, [bags.length, padded.L]), padded.weights), { axes: [1] });
    if (!sameBits(a, b)) throw new Error('embeddingBag and the padded reference differ');
  }

const results: Record<string, { embedding_bag_ms: number; padded_ms: number; speedup: number }> = {};
for (const [name, { batches, train }] of Object.entries(workloads)) {
  const fused: number[] = [];
  const padded: number[] = [];
  for (let r = 0; r < rounds; r++) {
    fused.push(pass(batches, train, true));
    padded.push(pass(batches, train, false));
  }
  const [f, p] = [median(fused), median(padded)];
  results[name] = { embedding_bag_ms: +f.toFixed(1), padded_ms: +p.toFixed(1), speedup: +(p / f).toFixed(2) };
  console.error(`${name}: embeddingBag ${f.toFixed(1)} ms, padded ${p.toFixed(1)} ms over ${pairs.length} pairs`);
}

const scoring: number[] = [];
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  judge.scores(pairs);
  scoring.push(((performance.now() - t0) * 500) / pairs.length);
}
console.error(
  `the committed judge (members: ${judge.config.members}) scores 500 pairs in ${median(scoring).toFixed(0)} ms`,
);
console.log(
  JSON.stringify({
    bench: 'judge',
    backend: getBackend().name,
    pairs: pairs.length,
    rounds,
    pooling: results,
    judge_ms_per_500: +median(scoring).toFixed(1),
  }),
);
