/**
 * npm run bench:judge — the builtin judge's pooling, the step that dominated its training and scoring: every
 * segment's n-gram features summed into one vector per reply (and per sentence), on the committed judge's table and
 * the gold dev pairs' bags as the judge builds them (`poolingInputs`, one call per segment as in the judge). Timed
 * side by side in interleaved rounds: `embeddingBag` (what the judge runs) against the reference it replaced,
 * `embedding` then `mul` and `sum` over bags zero-padded to the longest of the segment in the batch (the padding built
 * inside the timer, as the judge built it); forward alone (scoring, batches of 256) and forward with backward
 * (training, batches of 128). Both give the same bits (checked here on every batch, and in the engine's op tests).
 * Then the committed judge's own scoring time per 500 pairs. Medians over rounds; prints lines and, last, one JSON
 * line.
 * Flags: --rounds N (5), --pairs N (1024 gold dev pairs). */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { dataDir } from '../src/data/datasets.js';
import { Tensor, backward, embedding, embeddingBag, getBackend, mul, sum, type Bags } from '../src/engine/index.js';
import { paddedBags } from '../src/engine/testing/bags.js';
import { loadGold } from '../src/eval/judge-data.js';
import { BuiltinJudge } from '../src/eval/judges/builtin.js';
import { defaultJudgeDir } from '../src/eval/judges/registry.js';
import { median } from './common.js';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, pairs: { type: 'string', default: '1024' } },
});
const rounds = Number(args.rounds);
const judge = BuiltinJudge.load(defaultJudgeDir());
const pairs = loadGold(join(dataDir(), 'judge', 'gold', 'dev.jsonl')).slice(0, Number(args.pairs));
const table = judge.members[0].table;

// Each batch's bags as the judge pools them (poolingInputs: one set per segment, the sentence segment's per sentence).
const batchesOf = (size: number): Bags[][] =>
  Array.from({ length: Math.ceil(pairs.length / size) }, (_, i) =>
    judge.poolingInputs(pairs.slice(i * size, (i + 1) * size)).map((s) => ('sentences' in s ? s.sentences : s)),
  );
const workloads = { score: { batches: batchesOf(256), train: false }, train: { batches: batchesOf(128), train: true } };
const rows = (b: Bags) => b.offsets.length - 1;
const padded = (b: Bags) => {
  const p = paddedBags(b);
  return sum(mul(embedding(table, p.ids, [rows(b), p.L]), p.weights), { axes: [1] });
};
const sameBits = (a: Tensor, b: Tensor) => a.data.every((x, i) => x + 0 === b.data[i] + 0);

/** ms of one pass over the workload's batches with one pooling (the padded path pads inside the timer, as the judge
 * did before embeddingBag). */
function pass(batches: Bags[][], train: boolean, fused: boolean): number {
  const t0 = performance.now();
  for (const segments of batches)
    for (const b of segments) {
      table.grad = null;
      const out = fused ? embeddingBag(table, b.ids, b.offsets, b.weights) : padded(b);
      if (train) backward(out, { gradient: new Float32Array(out.size).fill(1e-3) });
    }
  return performance.now() - t0;
}

// The bits first, once per segment of every batch (not timed).
for (const { batches } of Object.values(workloads))
  for (const b of batches.flat())
    if (!sameBits(embeddingBag(table, b.ids, b.offsets, b.weights), padded(b)))
      throw new Error('embeddingBag and the padded reference differ');

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
