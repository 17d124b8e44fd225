// Does a signal rank the gold pairs better beside a judge than the judge alone? (docs/judge-adoption.md, explorations
// R and S). Scored on the gold dev pairs the judge never trained on (unseenGoldDev; the test split is not read): the
// AUC of the judge, of the signal's features, and of a logistic combination of the judge's logit with them fitted out
// of fold (five folds by prompt over those pairs), with its AUC gain over the judge and a 95% bootstrap interval over
// prompts. Prints lines on stderr and one JSON line last.
//   --signal retrieval: TF-IDF over word 1-2-grams of the 4,800 read BeaverTails training answers; per reply the
//     largest cosine to an answer readers called harmful, to one they called safe, and their difference.
//   --signal sentences: the judge's logit on each sentence alone (the prompt kept; sentencesOf), their largest and
//     the first; also max(whole reply, largest sentence), the rubric's "any part of it", with no fitting.
//   npm run build && node scripts/judge-signal.mjs --signal retrieval|sentences [--judge-dir DIR] [--trained-waves N|all]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir } from '../dist/src/data/datasets.js';
import { promptKey } from '../dist/src/data/world.js';
import { unseenGoldDev } from '../dist/src/eval/judge-accuracy.js';
import { crossFitFold } from '../dist/src/eval/judge-data.js';
import { BuiltinJudge, fitLogistic, ngrams } from '../dist/src/eval/judges/builtin.js';
import { defaultJudgeDir } from '../dist/src/eval/judges/registry.js';
import { bootstrapInterval, rocAuc } from '../dist/src/eval/statistics.js';

const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const dir = flag('--judge-dir', defaultJudgeDir());
const FOLDS = 5;
const logit = (p) => Math.log(Math.max(p, 1e-6) / Math.max(1 - p, 1e-6));
const signal = flag('--signal');
if (signal !== 'retrieval' && signal !== 'sentences')
  throw new Error(`--signal: retrieval or sentences, got ${signal}`);

/** Resemblance to the read BeaverTails answers: per reply [nearest harmful-read, nearest safe-read, difference]. */
function retrievalFeatures(pairs) {
  // Word 1- and 2-grams in the judge's own tokenisation (its n-grams of at most one space).
  const terms = (text) => ngrams(text).filter((g) => g.split(' ').length <= 2);

  const read = readFileSync(join(dataDir(), 'judge', 'beavertails-read', 'train.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  const documentFrequency = new Map();
  const answerTerms = read.map((r) => terms(r.response));
  for (const list of answerTerms)
    for (const t of new Set(list)) documentFrequency.set(t, (documentFrequency.get(t) ?? 0) + 1);
  const idf = (t) => Math.log((1 + read.length) / (1 + (documentFrequency.get(t) ?? 0))) + 1;

  /** A unit-length TF-IDF vector (term -> weight) of a term list; terms no answer has carry idf of an unseen term. */
  function vector(list) {
    const tf = new Map();
    for (const t of list) tf.set(t, (tf.get(t) ?? 0) + 1);
    let norm = 0;
    for (const [t, c] of tf) {
      const w = c * idf(t);
      tf.set(t, w);
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    for (const [t, w] of tf) tf.set(t, w / norm);
    return tf;
  }

  // Inverted index: term -> [answer, weight], so that a reply meets only the answers it shares a term with.
  const index = new Map();
  read.forEach((r, a) => {
    for (const [t, w] of vector(answerTerms[a])) {
      if (!index.has(t)) index.set(t, []);
      index.get(t).push([a, w]);
    }
  });
  const harmfulAnswer = read.map((r) => r.label === 'harmful');

  /** [largest cosine to a harmful-read answer, largest to a safe-read one]. */
  function nearest(response) {
    const dot = new Float64Array(read.length);
    for (const [t, w] of vector(terms(response))) for (const [a, v] of index.get(t) ?? []) dot[a] += w * v;
    let harmful = 0;
    let safe = 0;
    dot.forEach((d, a) => {
      if (harmfulAnswer[a]) harmful = Math.max(harmful, d);
      else safe = Math.max(safe, d);
    });
    return [harmful, safe];
  }
  return pairs.map((e) => {
    const [harmful, safe] = nearest(e.response);
    return [harmful, safe, harmful - safe];
  });
}

const { pairs } = unseenGoldDev(dir, defaultJudgeDir(), flag('--trained-waves'));
const truth = pairs.map((e) => e.harmful);
const judge = BuiltinJudge.load(dir);
const judgeScores = judge.scores(pairs);
// Sentences: the judge's own stack features [z_whole, z_largest sentence, z_first sentence] (BuiltinJudge.stackFeatures).
const features =
  signal === 'retrieval'
    ? retrievalFeatures(pairs).map((row, i) => [logit(judgeScores[i]), ...row])
    : judge.stackFeatures(pairs);
console.error(`${pairs.length} unseen gold dev pairs (${truth.filter(Boolean).length} harmful), signal ${signal}`);

// Out of fold: each pair is scored by a combination fitted on the other folds' pairs (folds by prompt).
const fold = pairs.map((e) => crossFitFold(e.prompt, FOLDS));
const combined = new Array(pairs.length);
for (let f = 0; f < FOLDS; f++) {
  const inFold = pairs.map((_, i) => i).filter((i) => fold[i] === f);
  const others = pairs.map((_, i) => i).filter((i) => fold[i] !== f);
  const w = fitLogistic(
    others.map((i) => features[i]),
    others.map((i) => truth[i]),
  );
  const score = (row) => row.reduce((t, v, j) => t + v * w[j + 1], w[0]);
  for (const i of inFold) combined[i] = score(features[i]);
}

const column = (j) => features.map((r) => r[j]);
const auc = (scores, rows = pairs.map((_, i) => i)) =>
  rocAuc(
    rows.map((i) => truth[i]),
    rows.map((i) => scores[i]),
  );
const prompts = [...new Set(pairs.map((e) => promptKey(e.prompt)))];
const rowsOf = new Map(prompts.map((p) => [p, []]));
pairs.forEach((e, i) => rowsOf.get(promptKey(e.prompt)).push(i));
const gainOver = (scores) => (rows) => auc(scores, rows) - auc(judgeScores, rows);
const withInterval = (gain) => ({
  mean: r4(gain(pairs.map((_, i) => i))),
  ci: bootstrapInterval(prompts.length, (picked) => gain(picked.flatMap((k) => rowsOf.get(prompts[k])))).map(r4),
});
const r4 = (x) => +x.toFixed(4);
const result = { judge_dir: dir, signal, pairs: pairs.length, harmful: truth.filter(Boolean).length };
result.auc_judge = r4(auc(judgeScores));
if (signal === 'retrieval') {
  result.auc_nearest_harmful = r4(auc(column(1)));
  result.auc_nearest_difference = r4(auc(column(3)));
} else {
  result.auc_largest_sentence = r4(auc(column(1)));
  result.auc_first_sentence = r4(auc(column(2)));
  const anyPart = features.map((r) => Math.max(r[0], r[1]));
  result.auc_any_part = r4(auc(anyPart));
  result.any_part_minus_judge = withInterval(gainOver(anyPart));
}
result.auc_combined_out_of_fold = r4(auc(combined));
result.combined_minus_judge = withInterval(gainOver(combined));
for (const [k, v] of Object.entries(result)) console.error(`${k}: ${JSON.stringify(v)}`);
console.log(JSON.stringify(result));
