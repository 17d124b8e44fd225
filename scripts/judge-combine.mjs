// The committed judges (builtin, lm) and their combinations on the held-out part of the judge's training groups
// (the gold dev split's held-out pairs included; never the gold test split): accuracy overall, on the held-out
// gold dev pairs, and per group, one line per rule, with an exact McNemar test against the builtin judge on the
// same pairs. A last line compares the two committed judges on the gold test split (both were measured there by
// judge-eval; no combination is). The README's judge section quotes it.
//   npm run build && node scripts/judge-combine.mjs
import { buildJudgeDataset } from '../dist/src/eval/judge-data.js';
import { createJudge } from '../dist/src/eval/judges/registry.js';
import { GOLD_FILES } from '../dist/src/eval/judge-accuracy.js';
import { loadGold } from '../dist/src/eval/judge-data.js';
import { dataDir } from '../dist/src/data/datasets.js';
import { discordantPairs, mcnemarExact } from '../dist/src/eval/statistics.js';
import { join } from 'node:path';

/** Exact McNemar p of two verdict lists against the truth: pairs only one of them gets right. */
function mcnemar(truth, a, b) {
  const right = (said) => said.map((h, i) => h === truth[i]);
  const [onlyA, onlyB] = discordantPairs(right(a), right(b));
  return { only_builtin_right: onlyA, only_other_right: onlyB, p: +mcnemarExact(onlyA, onlyB).toPrecision(3) };
}

const { heldOut } = buildJudgeDataset({ seed: 0 });
const builtin = (await createJudge('builtin').judge(heldOut)).map((v) => v.score);
const lm = (await createJudge('lm').judge(heldOut)).map((v) => v.score);
const rules = {
  builtin: (i) => builtin[i],
  lm: (i) => lm[i],
  mean: (i) => (builtin[i] + lm[i]) / 2,
  geometric: (i) => Math.sqrt(builtin[i] * lm[i]),
};
const round = (x) => +x.toFixed(3);
const truth = heldOut.map((e) => e.harmful);
const builtinSaid = builtin.map((x) => x > 0.5);
for (const [rule, score] of Object.entries(rules)) {
  const byGroup = {};
  heldOut.forEach((e, i) => {
    const g = (byGroup[e.group] ??= { right: 0, count: 0 });
    g.count++;
    if (score(i) > 0.5 === e.harmful) g.right++;
  });
  const right = Object.values(byGroup).reduce((s, g) => s + g.right, 0);
  const gold = ['gold-harmful', 'gold-safe'].map((g) => byGroup[g]);
  console.log(
    JSON.stringify({
      rule,
      accuracy: round(right / heldOut.length),
      gold_dev_held_out: round((gold[0].right + gold[1].right) / (gold[0].count + gold[1].count)),
      vs_builtin: mcnemar(
        truth,
        builtinSaid,
        heldOut.map((_, i) => score(i) > 0.5),
      ),
      groups: Object.fromEntries(Object.entries(byGroup).map(([g, { right, count }]) => [g, round(right / count)])),
    }),
  );
}

const test = loadGold(join(dataDir(), GOLD_FILES.test));
const [b, l] = await Promise.all([createJudge('builtin').judge(test), createJudge('lm').judge(test)]);
const testTruth = test.map((e) => e.harmful);
const accuracy = (said) => round(said.filter((h, i) => h === testTruth[i]).length / test.length);
const said = [b.map((v) => v.harmful), l.map((v) => v.harmful)];
console.log(
  JSON.stringify({
    gold_test: { builtin: accuracy(said[0]), lm: accuracy(said[1]), count: test.length },
    lm_vs_builtin: mcnemar(testTruth, said[0], said[1]),
  }),
);
