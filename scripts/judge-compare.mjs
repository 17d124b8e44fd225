// Two judges on the gold test split, pair by pair: each one's accuracy and harmful / safe recall, and an exact
// McNemar test on the pairs only one of them gets right (the README's "against the previous judge" figures):
//   npm run build && node scripts/judge-compare.mjs A B [--split test|dev|both] [--wave N]
// (--wave N: only that gold wave's pairs, e.g. a wave drawn after a rule was written; both: dev and test together)
// A and B: a judge name (builtin, lm, keyword) or name=FOLDER for a trained judge's folder
// (e.g. builtin=/tmp/old-judge, from `git show OLD:assets/judge/...` or `pharmacist train-judge --out`).
import { join } from 'node:path';
import { createJudge } from '../dist/src/eval/judges/registry.js';
import { GOLD_FILES } from '../dist/src/eval/judge-accuracy.js';
import { goldWave, loadGold } from '../dist/src/eval/judge-data.js';
import { dataDir } from '../dist/src/data/datasets.js';
import { discordantPairs, mcnemarExact } from '../dist/src/eval/statistics.js';

const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : null);
const split = option('--split') ?? 'test';
const wave = option('--wave');
const specs = args.filter((a, i) => !a.startsWith('--') && !['--split', '--wave'].includes(args[i - 1]));
if (specs.length !== 2)
  throw new Error('usage: judge-compare.mjs A B [--split test|dev|both] [--wave N] (A, B: name or name=FOLDER)');
const pairs = (split === 'both' ? ['dev', 'test'] : [split])
  .flatMap((s) => loadGold(join(dataDir(), GOLD_FILES[s])))
  .filter((p) => wave === null || goldWave(p) === Number(wave));
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
    ...(wave === null ? {} : { wave: Number(wave) }),
    pairs: pairs.length,
    a: { judge: specs[0], ...figures(said[0]) },
    b: { judge: specs[1], ...figures(said[1]) },
    only_a_right: onlyA,
    only_b_right: onlyB,
    p: +mcnemarExact(onlyA, onlyB).toPrecision(3),
  }),
);
