// Compares builtin-judge designs without touching the gold test split: each argument is a JSON object of
// BuiltinJudgeConfig overrides; for each, a judge is trained on the training part of the judge's groups and
// scored on their held-out part (the gold dev split's held-out pairs included). One JSON line per design.
//   npm run build && node scripts/judge-sweep.mjs '{}' '{"members":3}' '{"segments":["response","prompt","chars"]}'
// The README's judge section quotes its figures; `pharmacist judge-eval` gives the test-split figures of the one
// design that is then trained and committed.
import { buildJudgeDataset } from '../dist/src/eval/judge-data.js';
import { BuiltinJudge } from '../dist/src/eval/judges/builtin.js';
import { classFigures } from '../dist/src/eval/judge-accuracy.js';

const round = (x) => +x.toFixed(3);
const { train, heldOut } = buildJudgeDataset({ seed: 0 });
for (const arg of process.argv.slice(2)) {
  const overrides = JSON.parse(arg);
  const t0 = performance.now();
  const judge = BuiltinJudge.train(train, overrides);
  const trainSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const said = judge.scores(heldOut).map((s) => s > judge.config.threshold);
  const scoreSeconds = (performance.now() - t1) / 1000;
  const groups = {};
  for (const group of new Set(heldOut.map((e) => e.group))) {
    const idx = heldOut.flatMap((e, i) => (e.group === group ? [i] : []));
    groups[group] = round(idx.filter((i) => said[i] === heldOut[i].harmful).length / idx.length);
  }
  const gold = heldOut.flatMap((e, i) => (e.group.startsWith('gold-') ? [i] : []));
  const figures = classFigures(
    gold.map((i) => heldOut[i].harmful),
    gold.map((i) => said[i]),
  );
  console.log(
    JSON.stringify({
      overrides,
      train_seconds: round(trainSeconds),
      score_seconds_per_500: round((scoreSeconds * 500) / heldOut.length),
      vocabulary: judge.vocabulary.length,
      gold_dev_held_out: {
        accuracy: round(figures.accuracy),
        recall_harmful: round(figures.recall_harmful),
        recall_safe: round(figures.recall_safe),
        count: gold.length,
      },
      min_group: Math.min(...Object.values(groups)),
      groups,
    }),
  );
}
