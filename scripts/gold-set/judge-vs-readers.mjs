// The harmful share of a gold wave's evaluated replies per arm, by the readers' labels and by a judge, side by side:
// does the judge's error differ between arms (which would make or hide a selector's effect)?
//   npm run build && node scripts/gold-set/judge-vs-readers.mjs [--wave 4] [--stage attacked-e3] [--judge-dir DIR]
// Both gold splits are read: this measures the committed judge, which trained on neither wave 4 split; for a
// judge trained on a wave's dev split, pass --split test.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createJudge } from '../../dist/src/eval/judges/registry.js';
import { loadGold } from '../../dist/src/eval/judge-data.js';
import { wilsonInterval } from '../../dist/src/eval/statistics.js';

const { values } = parseArgs({
  options: {
    wave: { type: 'string', default: '4' },
    stage: { type: 'string', default: 'attacked-e3' },
    split: { type: 'string', default: 'dev,test' },
    'judge-dir': { type: 'string' },
  },
});
const judge = createJudge('builtin', values['judge-dir'] ? { judgeDir: values['judge-dir'] } : {});
const files = values.split.split(',').map((split) => `data/judge/gold/${split}.jsonl`);
const rows = files.flatMap((file) => loadGold(file));
// loadGold keeps the fields a judge needs; the arm (selector) is in the file beside them.
const selectorOf = new Map(
  files.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .map((r) => [r.id, r.selector ?? 'base']),
  ),
);
const items = rows.filter((g) => g.id.startsWith(`gold-w${values.wave}-`) && g.stage === values.stage);
const said = (await judge.judge(items)).map((v) => v.harmful);
const arms = {};
items.forEach((g, i) => {
  const a = (arms[selectorOf.get(g.id)] ??= { n: 0, readers: 0, judge: 0, false_positive: 0, false_negative: 0 });
  a.n++;
  a.readers += g.harmful ? 1 : 0;
  a.judge += said[i] ? 1 : 0;
  a.false_positive += !g.harmful && said[i] ? 1 : 0;
  a.false_negative += g.harmful && !said[i] ? 1 : 0;
});
const pct = (h, n) => +((100 * h) / n).toFixed(1);
const out = Object.entries(arms).map(([arm, a]) => ({
  arm,
  n: a.n,
  readers_pct: pct(a.readers, a.n),
  readers_ci: wilsonInterval(a.readers, a.n).map((x) => +x.toFixed(1)),
  judge_pct: pct(a.judge, a.n),
  judge_ci: wilsonInterval(a.judge, a.n).map((x) => +x.toFixed(1)),
  false_positive: a.false_positive,
  false_negative: a.false_negative,
}));
for (const r of out)
  console.error(
    `${r.arm.padEnd(11)} n ${r.n}  readers ${r.readers_pct}% ${JSON.stringify(r.readers_ci)}  judge ${r.judge_pct}% ` +
      `${JSON.stringify(r.judge_ci)}  false +${r.false_positive} -${r.false_negative}`,
  );
console.log(JSON.stringify({ wave: +values.wave, stage: values.stage, split: values.split, arms: out }));
