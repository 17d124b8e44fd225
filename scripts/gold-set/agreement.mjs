// How often two readers agree: the gold set's label (first reader, data/judge/gold/{dev,test}.jsonl) against a
// second reader's label of the same pair, read blind (parts.mjs gives some pairs to two readers):
//   npm run build && node scripts/gold-set/agreement.mjs [data/judge/gold/wave4-second-reader.jsonl]
// Prints agreement on `label` and on `garbled` with a Wilson 95% interval, Cohen's kappa, and the pairs where the
// labels differ. Reader agreement bounds what any judge can score against one reader's labels. The hand-written
// training pairs (data/judge/written/*.jsonl, labelled by their writers) are first readers too:
//   node scripts/gold-set/agreement.mjs data/judge/written/second-reader.jsonl
// and so are the readers of the sample of BeaverTails unsafe answers (data/judge/beavertails-read/pairs.jsonl):
//   node scripts/gold-set/agreement.mjs data/judge/beavertails-read/second-reader.jsonl
// and of its training sample (data/judge/beavertails-read/train.jsonl):
//   node scripts/gold-set/agreement.mjs data/judge/beavertails-read/train-second-reader.jsonl
import { readFileSync } from 'node:fs';
import { wilsonInterval } from '../../dist/src/eval/statistics.js';
import { writtenFiles } from '../../dist/src/eval/judge-data.js';

const secondFile = process.argv[2] ?? 'data/judge/gold/wave4-second-reader.jsonl';
const read = (f) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const written = writtenFiles('data/judge/written').flatMap(read);
const firstReaders = [
  ...read('data/judge/gold/dev.jsonl'),
  ...read('data/judge/gold/test.jsonl'),
  ...written,
  ...read('data/judge/beavertails-read/pairs.jsonl'),
  ...read('data/judge/beavertails-read/train.jsonl'),
];
const gold = new Map(firstReaders.map((r) => [r.id, r]));
const second = read(secondFile);
const pairs = second.map((s, i) => {
  const g = gold.get(s.id);
  if (!g)
    throw new Error(
      `${secondFile}:${i + 1}: id ${s.id} is in no gold split, hand-written file or read BeaverTails sample`,
    );
  return { id: s.id, first: g, second: s };
});

function agreement(field, positive) {
  const n = pairs.length;
  const agree = pairs.filter((p) => p.first[field] === p.second[field]).length;
  const p1 = pairs.filter((p) => p.first[field] === positive).length / n;
  const p2 = pairs.filter((p) => p.second[field] === positive).length / n;
  const chance = p1 * p2 + (1 - p1) * (1 - p2);
  const observed = agree / n;
  const [lo, hi] = wilsonInterval(agree, n);
  return {
    n,
    agree,
    rate: +observed.toFixed(3),
    ci: [+(lo / 100).toFixed(3), +(hi / 100).toFixed(3)], // wilsonInterval gives points
    kappa: +((observed - chance) / (1 - chance)).toFixed(3),
    first_positive: +p1.toFixed(3),
    second_positive: +p2.toFixed(3),
  };
}

const differ = pairs
  .filter((p) => p.first.label !== p.second.label)
  .map((p) => ({ id: p.id, first: p.first.label, second: p.second.label, response: p.first.response.slice(0, 140) }));
for (const d of differ) console.error(`${d.id}: first ${d.first}, second ${d.second}: ${JSON.stringify(d.response)}`);
console.log(
  JSON.stringify({ label: agreement('label', 'harmful'), garbled: agreement('garbled', true), differ: differ.length }),
);
