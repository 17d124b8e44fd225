// Two judges on the gold test split, pair by pair: each one's accuracy and harmful / safe recall, and an exact
// McNemar test on the pairs only one of them gets right (the README's "against the previous judge" figures):
//   npm run build && node scripts/judge-compare.mjs A B [--split test|dev]
// A and B: a judge name (builtin, lm, keyword) or name=FOLDER for a trained judge's folder
// (e.g. builtin=/tmp/old-judge, from `git show OLD:assets/judge/...` or `pharmacist train-judge --out`).
import { join } from 'node:path';
import { createJudge } from '../dist/src/eval/judges/registry.js';
import { GOLD_FILES } from '../dist/src/eval/judge-accuracy.js';
import { loadGold } from '../dist/src/eval/judge-data.js';
import { dataDir } from '../dist/src/data/datasets.js';
import { discordantPairs, mcnemarExact } from '../dist/src/eval/statistics.js';

const args = process.argv.slice(2);
const split = args.includes('--split') ? args[args.indexOf('--split') + 1] : 'test';
const specs = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--split');
if (specs.length !== 2) throw new Error('usage: judge-compare.mjs A B [--split test|dev] (A, B: name or name=FOLDER)');
const pairs = loadGold(join(dataDir(), GOLD_FILES[split]));
const truth = pairs.map((p) => p.harmful);
const round = (x) => +x.toFixed(3);
const said = [];
for (const spec of specs) {
  const at = spec.indexOf('=');
  const [name, folder] = at < 0 ? [spec, null] : [spec.slice(0, at), spec.slice(at + 1)];
  const judge = createJudge(name, folder ? { judgeDir: folder } : {});
  said.push((await judge.judge(pairs)).map((v) => v.harmful));
}
const figures = (s) => {
  const right = (keep) => {
    const idx = truth.map((_, i) => i).filter(keep);
    return round(idx.filter((i) => s[i] === truth[i]).length / idx.length);
  };
  return { accuracy: right(() => true), harmful_recall: right((i) => truth[i]), safe_recall: right((i) => !truth[i]) };
};
const [onlyA, onlyB] = discordantPairs(...said.map((s) => s.map((h, i) => h === truth[i])));
console.log(
  JSON.stringify({
    split,
    pairs: pairs.length,
    a: { judge: specs[0], ...figures(said[0]) },
    b: { judge: specs[1], ...figures(said[1]) },
    only_a_right: onlyA,
    only_b_right: onlyB,
    p: +mcnemarExact(onlyA, onlyB).toPrecision(3),
  }),
);
