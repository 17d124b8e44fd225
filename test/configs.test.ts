/** The committed grid configs validate, and every world their grids ask for can be built (data ranges suffice). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildWorld } from '../src/data/world.js';
import { loadGridConfig, presetConfigs, resolveGridConfig, stagesDir } from '../src/pipeline/grid-config.js';
import { stageDirs, type GridCell } from '../src/pipeline/grid.js';
import { stageSeeds } from '../src/pipeline/seeds.js';

const configs = join(import.meta.dirname, '..', '..', 'configs');

/** A grid cell for the stage-key tests: Random at 40% + SFT on AG News, n = 10, p = 0.1, replicate seed 0. */
const cellOf = (over: Partial<GridCell> = {}): GridCell => ({
  selector: 'random',
  ratio: 0.4,
  defense: 'sft',
  task: 'agnews',
  n: 10,
  p: 0.1,
  seed: 0,
  seeds: stageSeeds(0),
  ...over,
});

test('every committed config validates and builds the worlds of its grid', () => {
  const files = [
    ...readdirSync(configs)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join(configs, f)),
    ...presetConfigs('quick'),
    ...presetConfigs('paper'),
  ];
  assert.ok(presetConfigs('paper').length >= 4, 'the paper preset is one grid per table');
  for (const file of files) {
    const c = loadGridConfig(file);
    for (const task of c.grid.task)
      for (const n of c.grid.n)
        for (const p of c.grid.p) {
          const world = buildWorld({
            seed: 0,
            poolSize: c.world.pool_size,
            validationSize: c.world.validation_size,
            harmfulSize: c.world.harmful_size,
            task: task as never,
            finetuneSize: n,
            harmfulRatio: p,
            evalHarmfulSize: c.world.eval_harmful,
            evalTaskSize: c.world.eval_task,
            plant: c.world.plant,
          });
          assert.equal(world.finetune.length, n, `${file}: ${task} n=${n} p=${p}`);
        }
  }
  const paperStages = new Set(presetConfigs('paper').map((f) => stagesDir(loadGridConfig(f))));
  assert.equal(paperStages.size, 1, 'the paper grids share one stage cache');
});

test('stages_dir: grids that share it name the same stage folders for the same cell', () => {
  const cell = cellOf();
  const a = resolveGridConfig({ run_dir: 'runs/a', stages_dir: 'runs/shared' }),
    b = resolveGridConfig({ run_dir: 'runs/b', stages_dir: 'runs/shared', grid: { p: [0.1, 0.2] } });
  assert.equal(stageDirs(a, cell, 'hash', 'builtin').select, stageDirs(b, cell, 'hash', 'builtin').select);
  assert.equal(
    stageDirs(a, cell, 'hash', 'builtin').align,
    join('runs/shared', stageDirs(a, cell, 'hash', 'builtin').align.split('/').at(-1)!),
  );
  assert.equal(stagesDir(resolveGridConfig({ run_dir: 'runs/c' })), join('runs/c', 'stages'));
});

test('stage keys: equal configs hash alike whatever the order of their fields', async () => {
  const { stageKey } = await import('../src/pipeline/grid.js');
  assert.equal(
    stageKey({ a: 1, b: { c: [1, { d: 2, e: 3 }], f: null } }),
    stageKey({ b: { f: null, c: [1, { e: 3, d: 2 }] }, a: 1 }),
  );
  assert.notEqual(stageKey({ a: [1, 2] }), stageKey({ a: [2, 1] }), 'lists keep their order');
  const cell = cellOf({ selector: 'pharmacist' });
  const viaOverrides = resolveGridConfig({ select: { pharmacist: { epochs: 1, warmup_epochs: 0, safety: 'plain' } } });
  assert.equal(
    stageDirs(viaOverrides, cell, 'h', 'builtin').select,
    stageDirs(resolveGridConfig({}), cell, 'h', 'builtin').select,
  );
});

test('stage keys know the judge by content: a retrained judge renames the attack and eval stages only', () => {
  const cell = cellOf();
  const config = resolveGridConfig({ attack: { flow: 'double' } });
  const a = stageDirs(config, cell, 'h', 'builtin-0000000000000001'),
    b = stageDirs(config, cell, 'h', 'builtin-0000000000000002');
  assert.equal(a.select, b.select);
  assert.equal(a.align, b.align);
  assert.notEqual(a.attack, b.attack, 'the attack probes with the judge');
  assert.notEqual(a.eval, b.eval);
});

test('stage keys follow the stage seeds: each seed renames its stage and the stages downstream only', () => {
  const config = resolveGridConfig({ attack: { flow: 'double' }, eval: { probe_prompts: 0 } });
  const cell = (seeds = {}) => cellOf({ seeds: stageSeeds(0, seeds) });
  const dirs = (seeds = {}) => stageDirs(config, cell(seeds), 'h', 'builtin');
  const base = dirs();
  const changed = (seeds: object) =>
    (['select', 'align', 'attack', 'eval'] as const).filter((s) => dirs(seeds)[s] !== base[s]);
  assert.deepEqual(changed({ world: 7 }), ['select', 'align', 'attack', 'eval']);
  assert.deepEqual(changed({ select: 7 }), ['select', 'align', 'attack', 'eval']);
  assert.deepEqual(changed({ align: 7 }), ['align', 'attack', 'eval']);
  assert.deepEqual(changed({ attack: 7 }), ['attack', 'eval']);
  assert.deepEqual(changed({ eval: 7 }), ['eval']);
  const probing = resolveGridConfig({ attack: { flow: 'double' }, eval: { probe_prompts: 10 } });
  assert.notEqual(
    stageDirs(probing, cell({ eval: 7 }), 'h', 'builtin').attack,
    stageDirs(probing, cell(), 'h', 'builtin').attack,
    "the attack's probe draws its prompts with the evaluation seed",
  );
});

test("the step-matched Full arm: Full's selection, its own alignment, the subset's steps", () => {
  const config = resolveGridConfig({ attack: { flow: 'double' }, world: { pool_size: 800 } });
  const at = (selector: string, ratio: number) => stageDirs(config, cellOf({ selector, ratio }), 'h', 'builtin');
  assert.equal(at('full-steps', 0.4).select, at('full', 1).select);
  assert.notEqual(at('full-steps', 0.4).align, at('full', 1).align);
  assert.notEqual(at('full-steps', 0.4).align, at('full-steps', 0.2).align);
  assert.throws(() => resolveGridConfig({ grid: { selector: ['full-stepz'] } }), /grid.selector\/0|must be one of/);
});

test('defense knobs: the grid fills every default, keys the stages that use a knob by it, and the CLI checks them', async () => {
  const { DEFENSE_DEFAULTS, parseDefenseOptions } = await import('../src/defenses/registry.js');
  const { defenseOptionsOf } = await import('../src/pipeline/grid-config.js');
  const base = resolveGridConfig({});
  assert.deepEqual(defenseOptionsOf(base, 'tvaccine'), { tvaccine: DEFENSE_DEFAULTS.tvaccine });
  assert.deepEqual(defenseOptionsOf(base, 'sft'), {});
  const tuned = resolveGridConfig({ defenses: { tvaccine: { active_layers: 3 }, lisa: { rho: 0.5 } } });
  assert.equal(defenseOptionsOf(tuned, 'tvaccine').tvaccine!.activeLayers, 3);
  const cell = (defense: string) => cellOf({ selector: 'full', ratio: 1, defense });
  const dirs = (c: ReturnType<typeof resolveGridConfig>, defense: string) =>
    stageDirs(c, cell(defense), 'h', 'builtin');
  assert.notEqual(dirs(base, 'tvaccine').align, dirs(tuned, 'tvaccine').align, 'a T-Vaccine knob keys its alignment');
  assert.equal(dirs(base, 'sft').align, dirs(tuned, 'sft').align, 'and leaves SFT cells alone');
  assert.equal(
    dirs(base, 'lisa').align,
    dirs(tuned, 'lisa').align,
    "Lisa's knobs act in the attack, not the alignment",
  );
  assert.throws(
    () => resolveGridConfig({ defenses: { tvaccine: { active_layers: 0 } } }),
    /defenses\.tvaccine\.active_layers" must be >= 1/,
  );
  assert.throws(() => resolveGridConfig({ defenses: { vaccine: { radius: 1 } } }), /unknown field "radius"/);

  assert.deepEqual(parseDefenseOptions('booster', ['lambda=25', 'alpha=0.2']), { booster: { lambda: 25, alpha: 0.2 } });
  assert.deepEqual(parseDefenseOptions('sft', []), {});
  assert.throws(() => parseDefenseOptions('vaccine', ['rh=3']), /vaccine has no option "rh" \(choose rho\)/);
  assert.throws(
    () => parseDefenseOptions('tvaccine', ['activeLayers=1.5']),
    /"activeLayers" takes a whole number >= 1/,
  );
  assert.throws(() => parseDefenseOptions('repnoise', ['beta=']), /"beta" takes a number/);
  assert.throws(() => parseDefenseOptions('sft', ['rho=1']), /sft has no options/);
});

test('the decide preset: the issue arms over ten seeds, sharing the demo stage cache stage for stage', async () => {
  const { demoConfig } = await import('../src/pipeline/demo.js');
  const { gridCells } = await import('../src/pipeline/grid.js');
  const [file] = presetConfigs('decide');
  const decide = loadGridConfig(file);
  assert.deepEqual(decide.grid.selector, ['full', 'full-steps', 'random', 'refusal', 'shortest', 'dsir', 'pharmacist']);
  assert.equal(decide.grid.seed.length, 10);
  const demo = demoConfig({ seeds: 1, firstSeed: 0 });
  for (const cell of gridCells(demo.grid)) {
    const a = stageDirs(demo, cell, 'h', 'j'),
      b = stageDirs(decide, cell, 'h', 'j');
    assert.deepEqual([a.select, a.align], [b.select, b.align], `${cell.selector}: the same stages`);
  }
});

test('the variance config: one world, a balanced 3 x 2 x 2 nest of seeds per arm', async () => {
  const { gridCells } = await import('../src/pipeline/grid.js');
  const { varianceByArm } = await import('../src/pipeline/variance-run.js');
  const config = loadGridConfig(join(configs, 'variance.yaml'));
  const cells = gridCells(config.grid).map((c, i) => ({
    ...c,
    harmful_score: i % 7,
    harmful_verdicts: new Array(config.world.eval_harmful).fill(0),
  }));
  const arms = varianceByArm(cells as never);
  assert.deepEqual(
    arms.map((a) => [a.arm, a.components.design.selections * a.components.design.alignmentsPerSelection]),
    [
      ['pharmacist 0.4 + sft', 6],
      ['random 0.4 + sft', 6],
    ],
  );
  assert.ok(arms.every((a) => a.cells === 12));
});

test('selector knobs: every selector with knobs has a grid section with its defaults, and a knob keys its selection', async () => {
  const { SELECTOR_KNOBS } = await import('../src/select/registry.js');
  const { defaultsOf } = await import('../src/config/knobs.js');
  const { selectorOptionsOf } = await import('../src/pipeline/grid-config.js');
  const base = resolveGridConfig({});
  for (const [name, knobs] of Object.entries(SELECTOR_KNOBS))
    assert.deepEqual(selectorOptionsOf(base, name), { [name]: defaultsOf(knobs) }, name);
  assert.deepEqual(selectorOptionsOf(base, 'random'), {});
  const dirs = (grid: object, selector: string) =>
    stageDirs(resolveGridConfig({ attack: { flow: 'double' }, ...grid }), cellOf({ selector }), 'h', 'j');
  // Knobs first settable after stages were cached key a selection only when set to something else.
  assert.equal(dirs({ select: { seal: { upper_weight: 1 } } }, 'seal').select, dirs({}, 'seal').select);
  assert.notEqual(dirs({ select: { seal: { upper_weight: 2 } } }, 'seal').select, dirs({}, 'seal').select);
  assert.notEqual(dirs({ select: { dsir: { gumbel: false } } }, 'dsir').select, dirs({}, 'dsir').select);
  const directional = { select: { pharmacist: { inner_products: 'directional' } } };
  assert.notEqual(dirs(directional, 'pharmacist').select, dirs({}, 'pharmacist').select);
  // One selector's knobs leave the others' stages alone.
  assert.equal(dirs({ select: { seal: { epochs: 5 } } }, 'pharmacist').select, dirs({}, 'pharmacist').select);
  assert.throws(() => resolveGridConfig({ select: { seal: { upper_wieght: 2 } } }), /unknown field "upper_wieght"/);
  assert.throws(() => resolveGridConfig({ select: { dsir: { buckets: 0 } } }), /select.dsir.buckets/);
});
