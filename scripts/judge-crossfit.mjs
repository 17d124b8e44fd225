// Compares builtin-judge designs on the distribution the gold targets measure, with the power the held-out fifth lacks:
// every gold dev pair (all waves) is scored by a judge that never trained on it. The gold dev pairs are cut into
// folds by prompt (crossFitFold); for each fold a judge of the design is trained on the judge's usual training part
// without that fold's gold pairs, and scores them. The gold test split is never read.
//   npm run build && node scripts/judge-crossfit.mjs --out cf-A.json [--folds 3] DESIGN
//   node scripts/judge-crossfit.mjs --compare cf-A.json cf-B.json
//   node scripts/judge-crossfit.mjs --average --out cf-mean.json cf-A.json cf-A-seed1.json
// DESIGN: a JSON object of BuiltinJudgeConfig overrides, with an optional "data" key of JudgeDataConfig overrides, as
// judge-sweep.mjs takes ('{}' is the committed recipe; goldWaves is null here: every wave's dev half). The --out file
// is written after every fold (atomically) and a rerun with the same design and folds resumes after the last fold
// done. Progress goes to stderr; one JSON line to stdout: the out-of-fold figures (accuracy, recall of each class,
// per wave, the AUC, the harmful recall at safe recall 0.90 and the most accurate line with both recalls at least 0.90,
// chosen in hindsight) or, with --compare, both designs' figures on the pairs
// they share, the exact McNemar test on the pairs only one of them gets right, and the AUC difference with a bootstrap
// interval over prompts (both files must hold every fold). Verdicts are score > threshold, the scores
// being the judge's own (BuiltinJudge.scores, which applies any inference option a design sets).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { buildJudgeDataset, crossFitFold, goldWave, loadGold, stackPairs } from '../dist/src/eval/judge-data.js';
import { accuracyBy, bestLine, classFigures } from '../dist/src/eval/judge-accuracy.js';
import { BuiltinJudge } from '../dist/src/eval/judges/builtin.js';
import { bootstrapInterval, discordantPairs, mcnemarExact, rocAuc } from '../dist/src/eval/statistics.js';
import { writeJsonAtomic } from '../dist/src/io/atomic.js';

const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const round = (x) => +x.toFixed(3);
const GOLD_DEV = 'data/judge/gold/dev.jsonl';
const gold = loadGold(GOLD_DEV);
const goldSha256 = createHash('sha256').update(readFileSync(GOLD_DEV)).digest('hex');
const byId = new Map(gold.map((g) => [g.id, g]));

/** The harmful recall at the highest threshold whose safe recall is at least `safeRecall` (what a threshold chosen
 * for the targets' recall pair could reach). */
function harmfulRecallAtSafe(truth, scores, safeRecall) {
  const safe = scores.filter((_, i) => !truth[i]).sort((x, y) => y - x);
  const line = safe[Math.ceil((1 - safeRecall) * safe.length)] ?? -Infinity; // scores above it are flagged
  const harmful = scores.filter((_, i) => truth[i]);
  return harmful.filter((s) => s > line).length / harmful.length;
}

/** The most accurate line with both recalls at least 0.90, chosen in hindsight on these scores (an upper bound on what a
 * line drawn beforehand reaches on them), or null. The pairs it gets right are given too: rounded, 0.9195 would read
 * as the 0.92 it misses. */
const lineFigures = (line) =>
  line && {
    threshold: +line.threshold.toPrecision(4),
    right: Math.round(line.accuracy * line.count),
    of: line.count,
    accuracy: round(line.accuracy),
    recall_harmful: round(line.recall_harmful),
    recall_safe: round(line.recall_safe),
  };

/** Figures of a design's scores on gold pairs (ids): its verdicts overall and per wave, and its ranking (AUC). */
function figures(ids, scores, threshold) {
  const said = scores.map((s) => s > threshold);
  const truth = ids.map((id) => byId.get(id).harmful);
  const f = classFigures(truth, said);
  const perWave = accuracyBy(
    ids.map((id) => `w${goldWave(byId.get(id))}`),
    said,
    truth,
  );
  return {
    accuracy: round(f.accuracy),
    recall_harmful: round(f.recall_harmful),
    recall_safe: round(f.recall_safe),
    count: f.count,
    harmful: f.harmful,
    auc: +rocAuc(truth, scores).toFixed(4),
    harmful_recall_at_safe_090: round(harmfulRecallAtSafe(truth, scores, 0.9)),
    best_line_for_recalls_090: lineFigures(bestLine(truth, scores, 0.9)),
    by_wave: Object.fromEntries(Object.entries(perWave).map(([w, a]) => [w, round(a)])),
  };
}

/** The one JSON line of a run (its file, design, folds and the figures of its out-of-fold scores). */
function printRun(out, run) {
  const ids = Object.keys(run.scores).sort();
  const scores = ids.map((id) => run.scores[id]);
  console.log(JSON.stringify({ out, design: run.design, folds: run.folds, ...figures(ids, scores, run.threshold) }));
}

/** A complete cross-fit file, or an error naming it. */
function complete(file) {
  const r = { file, ...JSON.parse(readFileSync(file, 'utf8')) };
  if (r.folds_done.length !== r.folds)
    throw new Error(`judge-crossfit: ${r.file}: ${r.folds_done.length} of ${r.folds} folds done`);
  return r;
}

if (args.includes('--average')) {
  // The pair-by-pair mean of several complete runs' out-of-fold scores (the same folds): what a judge averaging their
  // networks (`members`) would score, without training it again.
  const out = flag('--out', null);
  const files = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--out');
  if (!out || files.length < 2) throw new Error('judge-crossfit: --average --out FILE RUN RUN [RUN...]');
  const runs = files.map(complete);
  if (new Set(runs.map((r) => `${r.folds} ${r.threshold} ${r.gold_sha256}`)).size !== 1)
    throw new Error('judge-crossfit: --average: the runs differ in folds, threshold or gold dev file');
  const ids = Object.keys(runs[0].scores).filter((id) => runs.every((r) => id in r.scores));
  const scores = Object.fromEntries(ids.map((id) => [id, runs.reduce((t, r) => t + r.scores[id], 0) / runs.length]));
  const { folds, threshold, gold_sha256, folds_done } = runs[0];
  const average = { design: { average: runs.map((r) => r.design) }, folds, gold_sha256, folds_done, scores, threshold };
  writeJsonAtomic(out, { ...average, train_seconds: [] });
  printRun(out, average);
  process.exit(0);
}

if (args.includes('--compare')) {
  const [a, b] = args.slice(args.indexOf('--compare') + 1, args.indexOf('--compare') + 3).map(complete);
  if (a.folds !== b.folds)
    throw new Error(`judge-crossfit: ${a.folds} folds against ${b.folds}: not the same pairs' judges`);
  const ids = Object.keys(a.scores)
    .filter((id) => id in b.scores)
    .sort();
  const scores = (r) => ids.map((id) => r.scores[id]);
  const right = (r) => scores(r).map((s, i) => s > r.threshold === byId.get(ids[i]).harmful);
  const [onlyA, onlyB] = discordantPairs(right(a), right(b));
  // The AUC difference with a 95% bootstrap interval over prompts (a prompt's pairs are resampled together, as the
  // folds cut them): threshold-free, so a design that only moves the line along the same ranking shows none.
  const truth = ids.map((id) => byId.get(id).harmful);
  const [sa, sb] = [scores(a), scores(b)];
  const prompts = [...new Set(ids.map((id) => byId.get(id).prompt))];
  const pairsOf = new Map(prompts.map((p) => [p, []]));
  ids.forEach((id, i) => pairsOf.get(byId.get(id).prompt).push(i));
  const aucDifference = (rows) =>
    rocAuc(
      rows.map((i) => truth[i]),
      rows.map((i) => sb[i]),
    ) -
    rocAuc(
      rows.map((i) => truth[i]),
      rows.map((i) => sa[i]),
    );
  const ci = bootstrapInterval(prompts.length, (picked) =>
    aucDifference(picked.flatMap((k) => pairsOf.get(prompts[k]))),
  );
  console.log(
    JSON.stringify({
      pairs: ids.length,
      a: { file: a.file, design: a.design, ...figures(ids, sa, a.threshold) },
      b: { file: b.file, design: b.design, ...figures(ids, sb, b.threshold) },
      only_a_right: onlyA,
      only_b_right: onlyB,
      mcnemar_p: +mcnemarExact(onlyA, onlyB).toPrecision(3),
      auc_b_minus_a: { mean: +aucDifference(ids.map((_, i) => i)).toFixed(4), ci: ci.map((x) => +x.toFixed(4)) },
    }),
  );
  process.exit(0);
}

const out = flag('--out', null);
if (!out) throw new Error('judge-crossfit: --out FILE is required (the folds are saved there as they finish)');
const folds = Number(flag('--folds', '3'));
if (!Number.isInteger(folds) || folds < 2)
  throw new Error(`judge-crossfit: --folds: an integer of at least 2, got ${folds}`);
const designArg = args.filter((a, i) => !a.startsWith('--') && !['--out', '--folds'].includes(args[i - 1]));
if (designArg.length !== 1) throw new Error(`judge-crossfit: one DESIGN (JSON), got ${designArg.length}`);
const design = JSON.parse(designArg[0]);
const { data = {}, ...overrides } = design;
const state = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : null;
if (state && (JSON.stringify(state.design) !== JSON.stringify(design) || state.folds !== folds))
  throw new Error(`judge-crossfit: ${out} holds another design or fold count; remove it or choose another --out`);
if (state?.gold_sha256 !== undefined && state.gold_sha256 !== goldSha256)
  throw new Error(`judge-crossfit: ${GOLD_DEV} changed since ${out} was begun; remove it to start again`);
const result = state ?? {
  design,
  folds,
  gold_sha256: goldSha256,
  folds_done: [],
  scores: {},
  threshold: null,
  train_seconds: [],
};

const { train, heldOut } = buildJudgeDataset({ seed: 0, goldWaves: null, ...data });
const foldOf = (e) => crossFitFold(e.prompt, folds);
const t0 = performance.now();
for (let f = 0; f < folds; f++) {
  if (result.folds_done.includes(f)) continue;
  const fitOn = train.filter((e) => !(e.group.startsWith('gold-') && foldOf(e) === f));
  const scored = gold.filter((g) => foldOf(g) === f);
  const started = performance.now();
  console.error(`fold ${f + 1}/${folds}: training on ${fitOn.length} pairs, scoring ${scored.length} gold dev pairs`);
  // A sentenceStack is fitted on held-out pairs (stackGroups) less the fold's gold pairs (never on the pairs it scores).
  const stackOn = stackPairs(heldOut, overrides.stackGroups).filter(
    (e) => !(e.group.startsWith('gold-') && foldOf(e) === f),
  );
  const judge = BuiltinJudge.train(fitOn, overrides, (line) => console.error(`  ${line}`), stackOn);
  judge.scores(scored).forEach((s, i) => (result.scores[scored[i].id] = s));
  result.threshold = judge.config.threshold;
  result.folds_done.push(f);
  result.train_seconds.push(Math.round((performance.now() - started) / 1000));
  writeJsonAtomic(out, result);
  const done = result.folds_done.length;
  const perFold = (performance.now() - t0) / 1000 / (done - (state?.folds_done.length ?? 0));
  console.error(`fold ${f + 1}/${folds} done; ETA ${Math.round(((folds - done) * perFold) / 60)} min`);
}
printRun(out, result);
