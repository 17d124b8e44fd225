// The committed judges (builtin, lm) and their combinations on the held-out part of the judge's training groups
// (the gold dev split's held-out pairs included; never the gold test split): accuracy overall, on the held-out
// gold dev pairs, and per group, one line per rule. The README's judge section quotes it.
//   npm run build && node scripts/judge-combine.mjs
import { buildJudgeDataset } from '../dist/src/eval/judge-data.js';
import { createJudge } from '../dist/src/eval/judges/registry.js';

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
      groups: Object.fromEntries(Object.entries(byGroup).map(([g, { right, count }]) => [g, round(right / count)])),
    }),
  );
}
