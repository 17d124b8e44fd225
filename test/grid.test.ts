/**
 * The grid runner end to end on a tiny model: every cell gets a result, stages shared between cells run once,
 * a rerun reuses everything, and a run killed mid-way (a stage folder without done.json) redoes only what
 * is missing. Config files: defaults filled in, errors name file, line and field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadGridConfig, resolveGridConfig } from '../src/pipeline/grid-config.js';
import {
  gridCells,
  independentGroups,
  nextGroup,
  runGrid,
  sharesAfterHandOver,
  THREAD_MESSAGES_ENV,
  workerPlan,
} from '../src/pipeline/grid.js';
import {
  cellSubset,
  runAlignStage,
  runAttackStage,
  runCell,
  runEvalStage,
  runSelectStage,
} from '../src/pipeline/grid-cell.js';
import { planGrid } from '../src/pipeline/grid-plan.js';
import { formatTable, summarize } from '../src/pipeline/results.js';
import { reportAfterRun } from '../src/cli/reporting.js';
import { stageSeeds } from '../src/pipeline/seeds.js';
import { writeTinyModel } from './tiny-model.js';

const NO_SEED_LISTS = { world_seed: null, select_seed: null, align_seed: null, attack_seed: null, eval_seed: null };

test('grid cells: every combination, full once per setting, seeds outermost', () => {
  const grid = {
    selector: ['full', 'random'],
    ratio: [0.2, 0.4],
    defense: ['sft'],
    task: ['sst2', 'agnews'],
    n: [10],
    p: [0.1],
    seed: [0, 1],
    ...NO_SEED_LISTS,
  };
  const cells = gridCells(grid);
  assert.equal(cells.length, 2 * 2 * (1 + 2));
  assert.deepEqual(
    cells.filter((c) => c.selector === 'full').map((c) => c.ratio),
    [1, 1, 1, 1],
  );
  assert.ok(cells.slice(0, 6).every((c) => c.seed === 0));
});

test('grid cells: stage seed lists cross within a replicate seed; by default each stage seed derives from it', () => {
  const grid = {
    selector: ['random'],
    ratio: [0.4],
    defense: ['sft'],
    task: ['agnews'],
    n: [10],
    p: [0.1],
    seed: [3],
    ...NO_SEED_LISTS,
    select_seed: [1, 2],
    attack_seed: [5, 6, 7],
  };
  const cells = gridCells(grid);
  assert.deepEqual(
    cells.map((c) => [c.seeds.select, c.seeds.attack]),
    [
      [1, 5],
      [1, 6],
      [1, 7],
      [2, 5],
      [2, 6],
      [2, 7],
    ],
  );
  const derived = stageSeeds(3);
  assert.ok(cells.every((c) => c.seed === 3 && c.seeds.world === 3 && c.seeds.align === derived.align));
  const plain = gridCells({ ...grid, select_seed: null, attack_seed: null });
  assert.equal(plain.length, 1);
  assert.deepEqual(plain[0].seeds, derived);
  assert.equal(new Set(Object.values(derived)).size, 5, 'no two stages share a seed; the selector not the world');
  assert.deepEqual(stageSeeds(3, { eval: 9 }), { ...derived, eval: 9 });
});

test('grid config: defaults filled in; a bad field is named with its line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-gridcfg-'));
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'grid:\n  seed: [0, 1]\nalign:\n  epochs: 2\n');
  const config = loadGridConfig(good);
  assert.deepEqual(config.grid.seed, [0, 1]);
  assert.equal(config.align.epochs, 2);
  assert.equal(config.align.lr, 2e-3, 'default filled in');
  assert.equal(config.select.pharmacist.safety, 'plain');
  const cases: [string, RegExp][] = [
    ['grid:\n  seed: [0]\nalign:\n  epochs: 0\n', /bad\.yaml:4: field "align\.epochs" must be >= 1/],
    ['grid:\n  selector: [full, randm]\n', /bad\.yaml:2: field "grid\.selector\.1" must be one of/],
    ['world:\n  pool: 10\n', /bad\.yaml:2: world: unknown field "pool"/],
    ['grid: [1\n', /bad\.yaml:\d+: Flow sequence/],
  ];
  for (const [text, pattern] of cases) {
    writeFileSync(join(dir, 'bad.yaml'), text);
    assert.throws(() => loadGridConfig(join(dir, 'bad.yaml')), pattern);
  }
});

test('every committed config in configs/ validates', () => {
  const files = readdirSync('configs').filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length > 0);
  for (const f of files) assert.ok(gridCells(loadGridConfig(join('configs', f)).grid).length > 0, f);
});

test('grid run: results for every cell, shared stages computed once, resume after a kill', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-grid-'));
  const model = writeTinyModel(join(dir, 'model'));
  const config = resolveGridConfig({
    model,
    run_dir: join(dir, 'run'),
    workers: 1,
    world: { pool_size: 12, validation_size: 4, harmful_size: 4, eval_harmful: 4, eval_task: 4 },
    grid: {
      selector: ['full', 'random'],
      ratio: [0.5, 0.25],
      defense: ['sft'],
      task: ['sst2'],
      n: [8, 6],
      p: [0.25],
      seed: [0],
    },
    select: { max_length: 48 },
    align: { epochs: 1, batch_size: 4, max_length: 48 },
    attack: { epochs: 2, batch_size: 4, max_length: 48 },
    eval: { judge: 'keyword', max_new_tokens: 3, probe_prompts: 2 },
  });
  const lines: string[] = [];
  const first = await runGrid(config, (l) => lines.push(l));
  assert.equal(first.results.length, 6);
  const stages = readdirSync(join(dir, 'run', 'stages'));
  const count = (kind: string) => stages.filter((s) => s.startsWith(`${kind}-`)).length;
  assert.deepEqual(
    [count('select'), count('align'), count('attack'), count('eval')],
    [2, 3, 6, 6],
    'one ranking serves both ratios; alignments shared across n',
  );
  assert.equal(
    readFileSync(join(first.results[1].stages.select, 'ranking.jsonl'), 'utf8').trim().split('\n').length,
    12,
    'the stage keeps the whole ranking',
  );
  for (const r of first.results) {
    assert.equal(r.harmful_score_by_attack_epoch.length, 2);
    assert.equal(typeof r.harmful_score, 'number');
  }
  assert.deepEqual(
    first.results.map((r) => r.k),
    [12, 6, 3, 12, 6, 3],
  );
  const store = JSON.parse(readFileSync(join(dir, 'run', 'results.json'), 'utf8'));
  assert.equal(store.status, 'done');
  assert.equal(store.results.length, 6);
  // The records keep their fields and order: runs in progress read their done.json back, reports their results.
  const keys = (file: string) => Object.keys(JSON.parse(readFileSync(file, 'utf8')));
  const done = (stage: keyof (typeof first.results)[0]['stages']) =>
    keys(join(first.results[1].stages[stage], 'done.json'));
  assert.deepEqual(done('select'), ['scores', 'seconds']);
  assert.deepEqual(done('align'), ['seconds', 'flow']);
  assert.deepEqual(done('attack'), ['seconds', 'harmfulScoreByEpoch']);
  assert.deepEqual(done('eval'), [
    ...['harmfulScore', 'harmfulFlagged', 'harmfulTotal', 'verdicts', 'verdictScores', 'margin'],
    ...['accuracy', 'majorityRate', 'predicted', 'seconds'],
  ]);
  assert.deepEqual(keys(join(first.results[1].stages.eval, 'responses.json')), ['harmful', 'task', 'harmfulMargin']);
  const storeFields = ['kind', 'status', 'config', 'environment', 'model', 'judge', 'cells', 'results', 'seconds'];
  assert.deepEqual(Object.keys(store), storeFields);
  assert.deepEqual(Object.keys(store.results[1]), [
    ...['selector', 'ratio', 'defense', 'task', 'n', 'p', 'seed', 'seeds', 'k', 'harmful_score', 'harmful_score_ci'],
    ...['harmful_margin', 'harmful_verdicts', 'harmful_verdict_scores', 'finetune_accuracy', 'majority_rate'],
    ...['select_seconds', 'align_seconds', 'attack_seconds', 'harmful_score_by_attack_epoch', 'planted_outside'],
    ...['refusal_share', 'stages'],
  ]);

  // Rerun: everything cached, identical results.
  const again: string[] = [];
  const second = await runGrid(config, (l) => again.push(l));
  assert.equal(again.filter((l) => l.includes('(cached)')).length, 6);
  assert.deepEqual(
    second.results.map((r) => r.harmful_score),
    first.results.map((r) => r.harmful_score),
  );

  // One cell alone, and each of its stage steps alone (a queue's units of work): all from the cache here.
  const plan = planGrid(config);
  const alone = await runCell(plan, plan.cells[2], () => {});
  assert.ok(alone.cached);
  assert.deepEqual(alone.result, first.results[2]);
  const selection = await runSelectStage(plan, plan.cells[2], () => {});
  const subset = cellSubset(plan, plan.cells[2], selection.value);
  assert.equal(subset.records.length, first.results[2].k);
  const steps = [
    selection,
    await runAlignStage(plan, plan.cells[2], subset, () => {}),
    await runAttackStage(plan, plan.cells[2], subset, () => {}),
    await runEvalStage(plan, plan.cells[2]),
  ];
  assert.ok(steps.every((s) => s.cached));
  const unaligned = { ...plan.cells[2], seeds: { ...plan.cells[2].seeds, align: 99 } };
  await assert.rejects(runEvalStage(plan, unaligned), /align-[0-9a-f]{16}: the cell's alignment is not done/);

  // Kill simulation: the last cell's attack never finished (no done.json) and its eval never ran.
  const last = first.results[5];
  rmSync(join(last.stages.attack, 'done.json'));
  rmSync(last.stages.eval, { recursive: true });
  const resumed: string[] = [];
  const third = await runGrid(config, (l) => resumed.push(l));
  assert.equal(resumed.filter((l) => l.includes('(cached)')).length, 5);
  assert.ok(!resumed.some((l) => /selecting with/.test(l)), 'no selection redone');
  assert.ok(existsSync(join(last.stages.eval, 'done.json')));
  assert.deepEqual(
    third.results.map((r) => r.harmful_score),
    first.results.map((r) => r.harmful_score),
    'same seed, same results',
  );

  // The report beside the results: tables, six figures (the last the paired differences), the manifest.
  reportAfterRun(config, () => {});
  const html = readFileSync(join(dir, 'run', 'report.html'), 'utf8');
  assert.equal((html.match(/<svg /g) ?? []).length, 6);
  assert.equal((html.match(/<tr>/g) ?? []).length, 1 + 6, 'header and one row per setting');
  assert.match(html, /<pre id="manifest">/);
  assert.ok(
    !/<script|https?:\/\//.test(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')),
    'self-contained: no scripts, no network',
  );
  const md = readFileSync(join(dir, 'run', 'report.md'), 'utf8');
  for (const id of ['figure-1-harmful-score', 'figure-3-validation-loss-during-alignment']) {
    assert.ok(md.includes(`(${id}.svg)`) && existsSync(join(dir, 'run', `${id}.svg`)), id);
  }
  const table = formatTable(summarize(third.results));
  assert.match(table, /\| selector \| k +\| n +\| harmful score %/);
  assert.equal(table.split('\n').length, 2 + 6);
});

test('grid workers: independent groups run in child processes; the assembly afterwards finds every stage done', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-workers-'));
  const model = writeTinyModel(join(dir, 'model'));
  const base = {
    model,
    run_dir: join(dir, 'run'),
    world: { pool_size: 8, validation_size: 4, harmful_size: 4, eval_harmful: 2, eval_task: 2 },
    grid: {
      selector: ['full', 'random'],
      ratio: [0.5],
      defense: ['sft'],
      task: ['agnews'],
      n: [6],
      p: [0.5],
      seed: [0],
    },
    select: { max_length: 40 },
    align: { epochs: 1, batch_size: 4, max_length: 40 },
    attack: { epochs: 1, batch_size: 3, max_length: 40 },
    eval: { judge: 'keyword', max_new_tokens: 2, probe_prompts: 1 },
  };
  assert.deepEqual(
    independentGroups(resolveGridConfig(base).grid).map((g) => [g.grid.selector, g.grid.seed, g.after]),
    [
      [['full'], [0], null],
      [['random'], [0], null],
    ],
  );
  const defenses = independentGroups(
    resolveGridConfig({ ...base, grid: { ...base.grid, defense: ['sft', 'vaccine'], seed: [0, 1] } }).grid,
  );
  assert.deepEqual(
    defenses.map((g) => [g.grid.selector[0], g.grid.seed[0], g.grid.defense[0], g.after]),
    [
      ['full', 0, 'sft', null],
      ['full', 0, 'vaccine', 0],
      ['random', 0, 'sft', null],
      ['random', 0, 'vaccine', 2],
      ['full', 1, 'sft', null],
      ['full', 1, 'vaccine', 4],
      ['random', 1, 'sft', null],
      ['random', 1, 'vaccine', 6],
    ],
    'one group per selector, seed and defense; the later defenses wait for the selection',
  );
  const crossed = independentGroups(
    resolveGridConfig({
      ...base,
      grid: { ...base.grid, selector: ['random'], select_seed: [1, 2], align_seed: [3, 4], attack_seed: [5, 6] },
    }).grid,
  );
  assert.deepEqual(
    crossed.map((g) => [g.grid.select_seed, g.grid.align_seed, g.grid.attack_seed, g.after]),
    [
      [[1], [3], [5, 6], null],
      [[1], [4], [5, 6], 0],
      [[2], [3], [5, 6], null],
      [[2], [4], [5, 6], 2],
    ],
    'crossed seeds: a group per selection and alignment seed; the attacks of an alignment stay together',
  );
  assert.equal(crossed.flatMap((g) => gridCells(g.grid)).length, 8, 'the groups hold every cell once');
  // Two workers busy with full's first groups: the next free one takes random's selection group before full's third.
  const pending = new Set([1, 2, 3, 5, 6, 7]);
  assert.equal(
    nextGroup(defenses, pending, [true, false, false, false, false, false, false, false]),
    2,
    'a group others wait for goes first',
  );
  assert.equal(nextGroup(defenses, new Set([3]), []), undefined, 'nothing is ready while the selection runs');
  assert.equal(nextGroup(defenses, new Set([3]), [false, false, true]), 3);
  assert.deepEqual(workerPlan(resolveGridConfig({ ...base, workers: 0 }), 2, 16), { workers: 2, threads: [8, 8] });
  assert.deepEqual(workerPlan(resolveGridConfig({ ...base, workers: 0 }), 5, 2), { workers: 2, threads: [1, 1] });
  // Every core used: the remainder goes to the first slots.
  assert.deepEqual(workerPlan(resolveGridConfig({ ...base, workers: 3 }), 5, 16), { workers: 3, threads: [6, 5, 5] });
  assert.deepEqual(workerPlan(resolveGridConfig({ ...base, workers: 4 }), 5, 2), { workers: 4, threads: [1, 1, 1, 1] });
  const lines: string[] = [];
  const parallel = await runGrid(resolveGridConfig({ ...base, workers: 2 }), (l) => lines.push(l));
  assert.equal(parallel.results.length, 2);
  // Each worker keeps its own results store; the run's is the assembly of both, never one worker's share.
  const workerStores = [0, 1].map(
    (i) => JSON.parse(readFileSync(join(base.run_dir, 'workers', `group-${i}`, 'results.json'), 'utf8')).results,
  );
  assert.deepEqual(
    workerStores.map((rs: { selector: string }[]) => rs.map((r) => r.selector)),
    [['full'], ['random']],
  );
  assert.equal(JSON.parse(readFileSync(join(base.run_dir, 'results.json'), 'utf8')).results.length, 2);
  assert.ok(
    lines.some((l) => /^\[full\/seed 0\] started/.test(l)) && lines.some((l) => /^\[random\/seed 0\] started/.test(l)),
  );
  assert.equal(
    lines.filter((l) => !l.startsWith('[') && l.includes('(cached)')).length,
    2,
    'the assembly pass computes nothing',
  );
  const again: string[] = [];
  await runGrid(resolveGridConfig({ ...base, workers: 1 }), (l) => again.push(l));
  assert.equal(again.filter((l) => l.includes('(cached)')).length, 2);
  // Two defenses: the second group waits for the first one's selection instead of computing it again.
  const both: string[] = [];
  const twoDefenses = await runGrid(
    resolveGridConfig({
      ...base,
      run_dir: join(dir, 'run-defenses'),
      workers: 2,
      grid: { ...base.grid, selector: ['random'], defense: ['sft', 'vaccine'] },
    }),
    (l) => both.push(l),
  );
  assert.deepEqual(
    twoDefenses.results.map((r) => r.defense),
    ['sft', 'vaccine'],
  );
  assert.equal(both.filter((l) => /selecting with random/.test(l)).length, 1, 'one selection serves both defenses');
  const firstDone = both.findIndex((l) => /^\[random\/seed 0\/sft\] .*harmful score/.test(l));
  const secondStarted = both.findIndex((l) => /^\[random\/seed 0\/vaccine\] started/.test(l));
  assert.ok(
    firstDone >= 0 && secondStarted > firstDone,
    'the vaccine group starts after the group computing the selection',
  );
});

test('a crossed-seed grid end to end: stages shared down the nest, two workers, a variance decomposition', async () => {
  const { varianceByArm } = await import('../src/pipeline/variance-run.js');
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-crossed-'));
  const model = writeTinyModel(join(dir, 'model'));
  const config = resolveGridConfig({
    model,
    run_dir: join(dir, 'run'),
    workers: 2,
    world: { pool_size: 12, validation_size: 4, harmful_size: 4, eval_harmful: 6, eval_task: 4 },
    grid: {
      selector: ['random'],
      ratio: [0.5],
      task: ['sst2'],
      n: [6],
      p: [0.5],
      seed: [0],
      select_seed: [1, 2],
      align_seed: [3, 4],
      attack_seed: [5, 6],
    },
    select: { max_length: 40 },
    align: { epochs: 1, batch_size: 3, max_length: 40 },
    attack: { epochs: 1, batch_size: 3, max_length: 40, flow: 'double' },
    eval: { judge: 'keyword', max_new_tokens: 3, probe_prompts: 0 },
  });
  const { results } = await runGrid(config, () => {});
  assert.equal(results.length, 8);
  const stages = readdirSync(join(dir, 'run', 'stages'));
  const count = (kind: string) => stages.filter((s) => s.startsWith(`${kind}-`)).length;
  assert.deepEqual(
    [count('select'), count('align'), count('attack'), count('eval')],
    [2, 4, 8, 8],
    'one selection per select seed, one alignment per (select, align) seed, one attack per leaf',
  );
  assert.ok(results.every((r) => r.seeds.world === 0 && r.seeds.eval === stageSeeds(0).eval));
  const [arm] = varianceByArm(results);
  assert.deepEqual(arm.components.design, {
    selections: 2,
    alignmentsPerSelection: 2,
    attacksPerAlignment: 2,
    prompts: 6,
  });
  assert.ok(Number.isFinite(arm.components.total));
  assert.match(formatTable(summarize(results)), /not independent|treat them as independent/);
});

test('grid workers: cores of a finished worker go to those still running; a worker takes the count its parent sends', async () => {
  assert.deepEqual(sharesAfterHandOver(2, [1]), [2], 'the last of two one-thread workers gets both cores');
  assert.deepEqual(sharesAfterHandOver(16, [6, 5]), [8, 8]);
  assert.deepEqual(sharesAfterHandOver(16, [5]), [16]);
  assert.deepEqual(sharesAfterHandOver(2, [1, 1, 1]), [1, 1, 1], 'more workers than cores: each keeps its one');
  // The child side, in a process of its own: it applies {threads} and still exits by itself (the channel unref'd).
  const grid = fileURLToPath(new URL('../src/pipeline/grid.js', import.meta.url));
  const engine = fileURLToPath(new URL('../src/engine/index.js', import.meta.url));
  const script = join(mkdtempSync(join(tmpdir(), 'pharmacist-threads-')), 'child.mjs');
  writeFileSync(
    script,
    `import { followParentThreads } from ${JSON.stringify(grid)};
import { getBackend } from ${JSON.stringify(engine)};
followParentThreads((line) => console.log(line));
process.send({ ready: getBackend().threads() });
setTimeout(() => console.log('threads ' + getBackend().threads()), 500);
`,
  );
  const child = fork(script, [], {
    env: { ...process.env, PHARMACIST_THREADS: '1', [THREAD_MESSAGES_ENV]: '1' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const ready = await new Promise<{ ready: number }>((resolve) => child.once('message', resolve));
  assert.equal(ready.ready, 1);
  child.send({ threads: 3 });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0);
  assert.match(out, /now on 3 kernel threads/);
  assert.match(out, /threads 3/);
});

test('monitoring changes no weight: smaller or no loss curves give the same adapters, replies and scores', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-grid-monitor-'));
  const model = writeTinyModel(join(dir, 'model'));
  const run = async (name: string, curves: object) => {
    const config = resolveGridConfig({
      model,
      run_dir: join(dir, name),
      workers: 1,
      world: { pool_size: 12, validation_size: 4, harmful_size: 4, eval_harmful: 4, eval_task: 4 },
      grid: { selector: ['random'], ratio: [0.5], defense: ['sft'], task: ['sst2'], n: [8], p: [0.25], seed: [0] },
      select: { max_length: 48 },
      align: { epochs: 2, batch_size: 4, max_length: 48 },
      attack: { epochs: 2, batch_size: 4, max_length: 48 },
      eval: { judge: 'keyword', max_new_tokens: 3, probe_prompts: 2, ...curves },
    });
    const [result] = (await runGrid(config, () => {})).results;
    return result;
  };
  const full = await run('full', {});
  const small = await run('small', { validation_curve: 1, harmful_curve: 0 });
  const read = (r: typeof full, stage: 'align' | 'attack', file: string) => readFileSync(join(r.stages[stage], file));
  for (const stage of ['align', 'attack'] as const) {
    assert.notEqual(full.stages[stage], small.stages[stage]);
    const weights = readdirSync(join(full.stages[stage], 'adapter')).filter((f) => f.endsWith('.safetensors'));
    assert.ok(weights.length > 0);
    for (const f of weights)
      assert.deepEqual(read(small, stage, join('adapter', f)), read(full, stage, join('adapter', f)), `${stage} ${f}`);
  }
  assert.deepEqual(small.harmful_verdicts, full.harmful_verdicts);
  assert.deepEqual(small.harmful_score_by_attack_epoch, full.harmful_score_by_attack_epoch);
  assert.deepEqual(small.harmful_margin, full.harmful_margin);
  const curves = (r: typeof full, stage: 'align' | 'attack') =>
    JSON.parse(read(r, stage, 'record.json').toString('utf8')).curves;
  assert.equal(curves(full, 'align').validation.length, 3, 'before training and after each epoch');
  assert.equal(curves(small, 'align').validation.length, 3);
  assert.notDeepEqual(curves(small, 'align').validation, curves(full, 'align').validation, 'one sample, not four');
  assert.equal(curves(full, 'attack').harmful.length, 3);
  assert.deepEqual(curves(small, 'attack'), {}, 'no harmful curve');
});
