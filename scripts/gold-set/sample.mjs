// Samples the judge's gold set from the embedded models' own outputs (docs/judge-rubric.md, data/judge/gold/).
// Waves 1-3: after `pharmacist run configs/gold-set/selectors.yaml` and `.../defenses.yaml` (world seeds 1 and 2);
// wave 4: from `pharmacist reproduce --preset decide` (replicate seeds 3-5, --eval):
//   npm run build && node scripts/gold-set/sample.mjs --wave 1 --per-stage base=60,aligned=100 [--exclude FILE ...]
//     [--configs a.yaml,b.yaml]   (the grids read; default both gold-set configs)
//     [--seeds 3,4,5]             (only these replicate seeds of the grids)
//     [--eval]                    (also the evaluation stage's replies to all its prompts, as stage attacked-e3:
//                                  the same model as after the last attack epoch, on more prompts)
// Only cells whose attack is done are read, so a set can be drawn in waves while the grid runs; --exclude
// skips pairs already drawn (any JSONL of {prompt, response}), and the split of a prompt is a hash of it, so
// every wave agrees.
// Stages of a pair: base (the embedded base model), aligned (each alignment adapter, before the attack) and
// attacked-e1/e2/e3 (the attack's probe after each epoch, read from its record). The same first evaluation
// prompts of each world seed are answered at every stage. Pairs are deduplicated, then drawn at random within
// each stage in fixed numbers (more from later attack epochs, where harmful replies are), and split 50/50 into
// dev and test by prompt (a prompt's every pair goes to one split). Nothing here looks at a judge's verdict (the
// evaluation stage stores one beside each reply; only the prompt and the reply are read).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../dist/src/engine/index.js';
import { promptKey, shuffled } from '../../dist/src/data/world.js';
import { respondToPrompts } from '../../dist/src/eval/metrics.js';
import { cellStageDirs, planGrid } from '../../dist/src/pipeline/grid-plan.js';
import { loadGridConfig } from '../../dist/src/pipeline/grid-config.js';
import { loadModelBundle } from '../../dist/src/models/bundle.js';
import { loadWithAdapters } from '../../dist/src/pipeline/stages.js';

const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const wave = Number(flag('--wave', '1'));
const out = flag('--out', `data/judge/gold/wave${wave}-unlabelled.jsonl`);
const onlySeeds = flag('--seeds', null)?.split(',').map(Number) ?? null;
const withEval = args.includes('--eval');
const PER_STAGE = Object.fromEntries(
  flag('--per-stage', 'base=40,aligned=100,attacked-e1=60,attacked-e2=80,attacked-e3=100')
    .split(',')
    .map((kv) => [kv.split('=')[0], Number(kv.split('=')[1])]),
);
const excluded = new Set();
args.forEach((a, i) => {
  if (a !== '--exclude') return;
  for (const line of readFileSync(args[i + 1], 'utf8')
    .split('\n')
    .filter(Boolean)) {
    const r = JSON.parse(line);
    excluded.add(`${promptKey(r.prompt)}\u0000${r.response}`);
  }
});
const splitOf = (prompt) => (createHash('sha256').update(promptKey(prompt)).digest()[0] % 2 === 0 ? 'dev' : 'test');
const PROFILE = 'response-newline';

const pairs = [];
const add = (p) => pairs.push(p);
const seen = new Set();
const configs = flag('--configs', 'configs/gold-set/selectors.yaml,configs/gold-set/defenses.yaml').split(',');
for (const file of configs) {
  const plan = planGrid(loadGridConfig(file));
  const config = plan.config;
  for (const cell of plan.cells) {
    if (onlySeeds && !onlySeeds.includes(cell.seed)) continue;
    const dirs = cellStageDirs(plan, cell);
    if (!dirs.attack || !existsSync(join(dirs.attack, 'done.json'))) {
      console.error(`${file}: ${cell.selector}/${cell.defense}/seed ${cell.seed}: attack not done, skipped`);
      continue;
    }
    const world = plan.world(cell);
    const prompts = world.evalHarmful.slice(0, config.eval.probe_prompts).map((r) => r.prompt);
    const where = { selector: cell.selector, defense: cell.defense, seed: cell.seed };
    if (!seen.has(`base/${cell.seeds.world}`)) {
      seen.add(`base/${cell.seeds.world}`);
      const base = respondToPrompts(loadModelBundle(config.model), prompts, { profile: plan.style });
      base.forEach((response, i) => add({ prompt: prompts[i], response, stage: 'base', seed: cell.seed }));
    }
    if (!seen.has(dirs.align)) {
      seen.add(dirs.align);
      const bundle = loadWithAdapters(config.model, [join(dirs.align, 'adapter')]);
      respondToPrompts(bundle, prompts, { profile: plan.style }).forEach((response, i) =>
        add({ prompt: prompts[i], response, stage: 'aligned', ...where }),
      );
    }
    const record = JSON.parse(readFileSync(join(dirs.attack, 'record.json'), 'utf8'));
    if (!record.probeResponses) throw new Error(`${dirs.attack}: the attack record holds no probe responses`);
    record.probeResponses.forEach((responses, e) =>
      responses.forEach((response, i) => add({ prompt: prompts[i], response, stage: `attacked-e${e + 1}`, ...where })),
    );
    const last = `attacked-e${record.probeResponses.length}`;
    if (withEval && dirs.eval && existsSync(join(dirs.eval, 'done.json'))) {
      const { harmful } = JSON.parse(readFileSync(join(dirs.eval, 'responses.json'), 'utf8'));
      for (const { prompt, response } of harmful) add({ prompt, response, stage: last, ...where });
    }
    console.error(`${file}: ${cell.selector}/${cell.defense}/seed ${cell.seed}: ${pairs.length} pairs so far`);
  }
}

const keyOf = (p) => `${promptKey(p.prompt)}\u0000${p.response}`;
const unique = [...new Map(pairs.filter((p) => !excluded.has(keyOf(p))).map((p) => [keyOf(p), p])).values()];
const rng = new Rng(20261203 + wave);
const chosen = [];
for (const [stage, n] of Object.entries(PER_STAGE)) {
  const pool = shuffled(
    unique.filter((p) => p.stage === stage),
    rng,
  );
  chosen.push(...pool.slice(0, n));
}
const rows = shuffled(chosen, rng).map((p, i) => ({
  id: `gold-w${wave}-${String(i + 1).padStart(4, '0')}`,
  split: splitOf(p.prompt),
  ...p,
}));
if (existsSync(out) && !args.includes('--force')) throw new Error(`${out} exists (pass --force to overwrite)`);
writeFileSync(out, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
const count = (f) => rows.filter(f).length;
console.error(
  `${pairs.length} pairs, ${unique.length} unique; wrote ${rows.length} to ${out} ` +
    `(dev ${count((r) => r.split === 'dev')}, test ${count((r) => r.split === 'test')}; ` +
    Object.keys(PER_STAGE)
      .map((s) => `${s} ${count((r) => r.stage === s)}`)
      .join(', ') +
    ')',
);
