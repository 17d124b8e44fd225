// Compares builtin-judge designs without touching the gold test split: each argument is a JSON object of
// BuiltinJudgeConfig overrides; for each, a judge is trained on the training part of the judge's groups and
// scored on their held-out part (the gold dev split's held-out pairs included). One JSON line per design. A "data"
// key holds JudgeDataConfig overrides (e.g. {"data":{"written":null}}: without the hand-written pairs); designs with
// different data are compared on the held-out pairs they share (`shared`). {"load": DIR} scores a saved judge
// (e.g. the committed assets/judge) on the same held-out pairs instead of training one; with it, only the options that
// leave the weights alone may be set ({"load": DIR, "opening": true}).
//   npm run build && node scripts/judge-sweep.mjs '{}' '{"members":3}' '{"segments":["response","prompt","chars"]}'
// The README's judge section quotes its figures; `pharmacist judge-eval` gives the test-split figures of the one
// design that is then trained and committed. Every design after the first is also compared with the first, pair by
// pair on the held-out pairs they share (`versus_first`: pairs only this one / only the first gets right, exact
// McNemar p; the figures docs/judge-adoption.md's rule 2 reads, with the committed judge loaded first).
// {"save": DIR} saves the design's trained judge (to score it again with "load", or to adopt it as trained).
// --unsafe-by-readers scores the held-out `unsafe` group against readers' labels instead of BeaverTails': its pairs
// are replaced by the read sample data/judge/beavertails-read/pairs.jsonl (group `unsafe-read`), less any pair a
// design trains on (docs/judge-adoption.md's rule 4).
import { buildJudgeDataset, loadReadPairs, pairKey, stackPairs } from '../dist/src/eval/judge-data.js';
import { BuiltinJudge } from '../dist/src/eval/judges/builtin.js';
import { classFigures } from '../dist/src/eval/judge-accuracy.js';
import { discordantPairs, mcnemarExact } from '../dist/src/eval/statistics.js';

const round = (x) => +x.toFixed(3);
const unsafeByReaders = process.argv.includes('--unsafe-by-readers');
const args = process.argv
  .slice(2)
  .filter((a) => a !== '--unsafe-by-readers')
  .map((a) => JSON.parse(a));
const key = (e) => `${e.group}\u0000${e.prompt}\u0000${e.response}`;
const readSample = unsafeByReaders
  ? loadReadPairs('data/judge/beavertails-read/pairs.jsonl').map((r) => ({ ...r, group: 'unsafe-read' }))
  : [];
const datasets = args.map(({ data }) => {
  const d = buildJudgeDataset({ seed: 0, ...data });
  if (!unsafeByReaders) return d;
  const trained = new Set(d.train.map(pairKey));
  const heldOut = [
    ...d.heldOut.filter((e) => e.group !== 'unsafe'),
    ...readSample.filter((r) => !trained.has(pairKey(r))),
  ];
  return { ...d, heldOut };
});
// The held-out pairs every design is scored on (the same pairs whatever data options a design has).
const sharedKeys = datasets
  .map((d) => new Set(d.heldOut.map(key)))
  .reduce((a, b) => new Set([...a].filter((k) => b.has(k))));
const sharedOrder = [...sharedKeys].sort();
let firstRight = null; // the first design's right/wrong on the shared pairs, in sharedOrder
// The same comparison without the gold dev pairs, for a design chosen after reading some of them (rule 8).
const notGold = sharedOrder.map((k) => !k.startsWith('gold-'));
for (const [n, { data, load, save, ...overrides }] of args.entries()) {
  const { train, heldOut } = datasets[n];
  const t0 = performance.now();
  // A sentenceStack is fitted on held-out pairs (stackGroups), so the figures of those below are then not out of sample.
  const judge = load
    ? BuiltinJudge.load(load, overrides)
    : BuiltinJudge.train(
        train,
        overrides,
        undefined,
        stackPairs(
          heldOut.filter((e) => e.group !== 'unsafe-read'), // the read sample stays a diagnostic
          overrides.stackGroups,
        ),
      );
  const trainSeconds = (performance.now() - t0) / 1000;
  if (save) judge.save(save);
  const t1 = performance.now();
  const said = judge.scores(heldOut).map((s) => s > judge.config.threshold);
  const scoreSeconds = (performance.now() - t1) / 1000;
  const figuresOf = (keep) => {
    const idx = heldOut.flatMap((e, i) => (keep(e) ? [i] : []));
    if (idx.length === 0) return null; // e.g. no written pairs in this design's data
    const f = classFigures(
      idx.map((i) => heldOut[i].harmful),
      idx.map((i) => said[i]),
    );
    return {
      accuracy: round(f.accuracy),
      recall_harmful: round(f.recall_harmful),
      recall_safe: round(f.recall_safe),
      correct: idx.filter((i) => said[i] === heldOut[i].harmful).length,
      count: idx.length,
    };
  };
  const rightByKey = new Map(heldOut.map((e, i) => [key(e), said[i] === e.harmful]));
  const right = sharedOrder.map((k) => rightByKey.get(k));
  let versusFirst = null;
  if (firstRight === null) firstRight = right;
  else {
    const versus = (keep) => {
      const [onlyThis, onlyFirst] = discordantPairs(
        right.filter((_, i) => keep[i]),
        firstRight.filter((_, i) => keep[i]),
      );
      return { only_this: onlyThis, only_first: onlyFirst, mcnemar_p: round(mcnemarExact(onlyThis, onlyFirst)) };
    };
    versusFirst = { ...versus(right.map(() => true)), without_gold_dev: versus(notGold) };
  }
  const groups = Object.fromEntries(
    [...new Set(heldOut.map((e) => e.group))].map((group) => [group, figuresOf((e) => e.group === group).accuracy]),
  );
  console.log(
    JSON.stringify({
      ...(load ? { load } : {}),
      overrides,
      data: data ?? {},
      train_seconds: round(trainSeconds),
      score_seconds_per_500: round((scoreSeconds * 500) / heldOut.length),
      vocabulary: judge.vocabulary.length,
      gold_dev_held_out: figuresOf((e) => e.group.startsWith('gold-')),
      shared_held_out: figuresOf((e) => sharedKeys.has(key(e))),
      shared_not_written: figuresOf((e) => sharedKeys.has(key(e)) && !e.group.startsWith('written-')),
      // Neither gold nor hand-written: the generated and public groups alone (rule 14's condition 3).
      shared_other: figuresOf(
        (e) => sharedKeys.has(key(e)) && !e.group.startsWith('written-') && !e.group.startsWith('gold-'),
      ),
      versus_first: versusFirst,
      written_held_out: figuresOf((e) => e.group.startsWith('written-')),
      min_group: Math.min(...Object.values(groups)),
      groups,
    }),
  );
}
