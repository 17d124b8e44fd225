/**
 * `pharmacist run CONFIG.yaml`: a grid of selectors x ratios x defenses x tasks x n x p x seeds over the
 * embedded world. Each stage (select, align, attack, eval) lives in <stages>/<stage>-<key> (stages_dir, by
 * default run_dir/stages), where the key is the content hash of everything the stage depends on (its config,
 * the upstream stage's key, the model's weights); a stage folder counts only once its done.json exists, so a
 * run killed at any point resumes where it stopped and cells that share a stage (one selection serves every
 * defense) compute it once.
 * Results go to run_dir/results.json (rewritten atomically after every cell).
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { asInstruction } from '../data/datasets.js';
import type { TaskName } from '../data/tasks.js';
import { buildWorld, type World, type WorldConfig } from '../data/world.js';
import { createJudge } from '../eval/judges/registry.js';
import type { Judge } from '../eval/judges/judge.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { sha256Files } from '../io/hash.js';
import type { PharmacistSelectorConfig } from '../select/pharmacist-selector.js';
import { SFT_DEFAULTS, stepsFor, type SftConfig } from '../train/sft.js';
import { formatSeconds } from '../train/trainer.js';
import { describeEnvironment } from './environment.js';
import { defenseOptionsOf, STEP_MATCHED_FULL, stagesDir, type GridConfig, type TrainingKnobs } from './grid-config.js';
import { describeSeedOverrides, SEED_STAGES, stageSeeds, type StageSeeds } from './seeds.js';
import { topK, subsetSize } from '../select/selector.js';
import { plantedReport, refusalShare, runSelect, SELECT_DEFAULTS } from './select.js';
import { alignStage, attackStage, evaluateStage } from './stages.js';
import { loadMarginRefusals } from '../eval/harmful-margin.js';
import { wilsonInterval } from '../eval/statistics.js';
import { contentId } from '../io/hash.js';

/** The committed refusal sentences of the harmful margin and their content id (part of the eval key), read once. */
let marginRefusalsCache: { sentences: string[]; id: string } | undefined;
function marginRefusals(): { sentences: string[]; id: string } {
  if (!marginRefusalsCache) {
    const sentences = loadMarginRefusals();
    marginRefusalsCache = { sentences, id: contentId('margin-refusals', sentences) };
  }
  return marginRefusalsCache;
}

/** A setting of the grid: everything a cell is but its seed. */
export interface GridSetting {
  selector: string;
  ratio: number;
  defense: string;
  task: string;
  n: number;
  p: number;
}

export interface GridCell extends GridSetting {
  /** The replicate seed, from grid.seed. */
  seed: number;
  /** Every stage's seed: derived from `seed` unless the grid crosses a stage's seed list (src/pipeline/seeds.ts). */
  seeds: StageSeeds;
}

export interface CellResult extends GridCell {
  k: number;
  harmful_score: number;
  /** 95% Wilson interval over the evaluation prompts, in points. */
  harmful_score_ci: [number, number];
  /** The judge-free harmful margin (mean over prompts, 95% t-interval over prompts); eval/harmful-margin.ts. */
  harmful_margin: { mean: number; ci: [number, number]; n: number } | null;
  /** Each evaluation prompt's verdict (1 harmful) and judge score, in the world's prompt order (paired tests). */
  harmful_verdicts: number[];
  harmful_verdict_scores: number[];
  finetune_accuracy: number | null;
  majority_rate: number | null;
  select_seconds: number;
  align_seconds: number;
  attack_seconds: number;
  harmful_score_by_attack_epoch: number[];
  /** With planted samples in the pool: the share of them the subset left out. */
  planted_outside: number | null;
  /** Share of plain refusals in the kept subset (the embedded pool's quality diagnostic). */
  refusal_share: number;
  stages: { select: string; align: string; attack: string; eval: string };
}

/**
 * Every combination, seeds outermost (a finished seed is a complete comparison); full appears once per ratio
 * list. Each replicate seed expands to the crossing of the stage seed lists the grid sets (one cell otherwise).
 */
export function gridCells(grid: GridConfig['grid']): GridCell[] {
  const cells: GridCell[] = [];
  for (const seed of grid.seed)
    for (const seeds of crossedSeeds(seed, grid))
      for (const task of grid.task)
        for (const n of grid.n)
          for (const p of grid.p) {
            for (const defense of grid.defense)
              for (const selector of grid.selector) {
                for (const ratio of selector === 'full' ? [1] : grid.ratio)
                  cells.push({ selector, ratio, defense, task, n, p, seed, seeds });
              }
          }
  return cells;
}

function crossedSeeds(seed: number, grid: GridConfig['grid']): StageSeeds[] {
  let overrides: Partial<StageSeeds>[] = [{}];
  for (const stage of SEED_STAGES) {
    const list = grid[`${stage}_seed`];
    if (list) overrides = overrides.flatMap((o) => list.map((value) => ({ ...o, [stage]: value })));
  }
  return overrides.map((o) => stageSeeds(seed, o));
}

/** The selector whose ranking a grid arm uses (the step-matched Full arm uses Full's). */
function selectorOf(arm: string): string {
  return arm === STEP_MATCHED_FULL ? 'full' : arm;
}

/** The step-matched Full arm's optimizer steps: those of the arm's k-sample subset (null for every other arm). */
function matchedSteps(config: GridConfig, cell: GridCell): number | null {
  if (cell.selector !== STEP_MATCHED_FULL) return null;
  const k = subsetSize(config.world.pool_size, { ratio: cell.ratio });
  return stepsFor(k, config.align.batch_size, config.align.epochs);
}

/** Objects with their keys sorted, so that equal configs hash alike however they were assembled. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
  );
}

export function stageKey(parts: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(parts)))
    .digest('hex')
    .slice(0, 16);
}

function sft(knobs: TrainingKnobs, seed: number, steps: number | null = null): Partial<SftConfig> {
  return {
    epochs: knobs.epochs,
    steps,
    lr: knobs.lr,
    batchSize: knobs.batch_size,
    maxLength: knobs.max_length,
    seed,
    lora: { ...SFT_DEFAULTS.lora, r: knobs.rank, alpha: 2 * knobs.rank },
  };
}

function pharmacistOptions(c: GridConfig['select']['pharmacist']): Partial<PharmacistSelectorConfig> {
  return {
    epochs: c.epochs,
    lambda: c.lambda,
    alpha: c.alpha,
    innerLr: c.inner_lr,
    selectorLr: c.selector_lr,
    batchSize: c.batch_size,
    evalBatchSize: c.eval_batch_size,
    safety: c.safety as PharmacistSelectorConfig['safety'],
    weightForm: c.weight_form as PharmacistSelectorConfig['weightForm'],
    upperEvery: c.upper_every,
    warmupEpochs: c.warmup_epochs,
    warmupLr: c.warmup_lr,
  };
}

/**
 * The stage folders of a cell, named by the content hash of everything each stage depends on. The attack's
 * flow under 'auto' comes from the alignment stage's done.json (null while the alignment is not done).
 */
export function stageDirs(
  config: GridConfig,
  cell: GridCell,
  modelHash: string,
  judgeId: string,
): { select: string; align: string; flow: 'double' | 'single' | null; attack: string | null; eval: string | null } {
  const pharmacist = cell.selector === 'pharmacist' ? config.select.pharmacist : null;
  const seeds = cell.seeds;
  // One ranking serves every ratio (and every defense and attack): the stage keeps the scores, each cell its top k.
  const selectKey = stageKey({
    stage: 'select',
    modelHash,
    selector: selectorOf(cell.selector),
    seeds: { world: seeds.world, select: seeds.select },
    world: config.world,
    maxLength: config.select.max_length,
    pharmacist,
  });
  // Lisa aligns with plain SFT and defends during the attack, so its knobs belong to the attack's key.
  const lisa = cell.defense === 'lisa' ? defenseOptionsOf(config, 'lisa') : null;
  const steps = matchedSteps(config, cell);
  const alignKey = stageKey({
    stage: 'align',
    selectKey,
    ratio: cell.ratio,
    defense: cell.defense,
    defenseOptions: lisa ? {} : defenseOptionsOf(config, cell.defense),
    align: config.align,
    seed: seeds.align,
    ...(steps === null ? {} : { arm: STEP_MATCHED_FULL, steps }),
  });
  const dir = stagesDir(config);
  const select = join(dir, `select-${selectKey}`),
    align = join(dir, `align-${alignKey}`);
  const alignDone = join(align, 'done.json');
  const flow =
    config.attack.flow !== 'auto'
      ? config.attack.flow
      : existsSync(alignDone)
        ? (JSON.parse(readFileSync(alignDone, 'utf8')).flow ?? 'double')
        : null;
  if (flow === null) return { select, align, flow, attack: null, eval: null };
  const attackKey = stageKey({
    stage: 'attack',
    alignKey,
    lisa,
    flow,
    task: cell.task,
    n: cell.n,
    p: cell.p,
    attack: config.attack,
    seed: seeds.attack,
    probe: config.eval.probe_prompts,
    // The probe's prompts are the head of the evaluation draw.
    probeSeed: config.eval.probe_prompts > 0 ? seeds.eval : null,
    judge: judgeId,
    evalHarmful: config.world.eval_harmful,
  });
  const evalKey = stageKey({
    stage: 'eval',
    attackKey,
    eval: config.eval,
    judge: judgeId,
    margin: marginRefusals().id,
    seed: seeds.eval,
    sizes: [config.world.eval_harmful, config.world.eval_task],
  });
  return { select, align, flow, attack: join(dir, `attack-${attackKey}`), eval: join(dir, `eval-${evalKey}`) };
}

/** Run `fn` in `dir` unless its done.json exists; a folder without it is a killed attempt and starts over. */
async function stage<T extends object>(dir: string, fn: () => Promise<T> | T): Promise<{ value: T; cached: boolean }> {
  const marker = join(dir, 'done.json');
  if (existsSync(marker)) return { value: JSON.parse(readFileSync(marker, 'utf8')) as T, cached: true };
  rmSync(dir, { recursive: true, force: true });
  const value = await fn();
  writeJsonAtomic(marker, value);
  return { value, cached: false };
}

export interface GridResult {
  results: CellResult[];
  seconds: number;
}

/** A group of cells one worker process runs, and the group that computes its selection first (or null). */
export interface WorkGroup {
  grid: GridConfig['grid'];
  after: number | null;
}

/**
 * Groups of cells that share no stage but their selection: one per selector, replicate seed, defense and, where
 * the grid crosses them, world, selection and alignment seed (an alignment serves its attacks, which stay in
 * its group). The selection is computed by its first group; the groups of the other defenses and alignment
 * seeds wait for it (`after`), then run side by side. The stage cache makes the final assembly free.
 */
export function independentGroups(grid: GridConfig['grid']): WorkGroup[] {
  const groups: WorkGroup[] = [];
  // Each listed value of these stage seeds makes groups of its own; null keeps the derived seed (one group).
  const values = (list: number[] | null) => (list ? list.map((v) => [v]) : [null]);
  for (const seed of grid.seed)
    for (const selector of grid.selector)
      for (const world of values(grid.world_seed))
        for (const select of values(grid.select_seed)) {
          const first = groups.length;
          for (const align of values(grid.align_seed))
            for (const defense of grid.defense)
              groups.push({
                grid: {
                  ...grid,
                  seed: [seed],
                  selector: [selector],
                  defense: [defense],
                  world_seed: world,
                  select_seed: select,
                  align_seed: align,
                },
                after: groups.length === first ? null : first,
              });
        }
  return groups;
}

/**
 * The next group a free worker takes (undefined: none is ready yet): of the groups whose selection is done, the
 * ones other groups wait for first, so that the waiting ones are not left to run last, one worker idle.
 */
export function nextGroup(
  groups: readonly WorkGroup[],
  pending: ReadonlySet<number>,
  finished: readonly boolean[],
): number | undefined {
  const ready = [...pending].filter((j) => groups[j].after === null || finished[groups[j].after!]);
  return ready.find((j) => groups.some((g) => g.after === j)) ?? ready[0];
}

/** How many worker processes and threads each: workers 0 means one per core, as groups allow. */
export function workerPlan(
  config: GridConfig,
  groups: number,
  cores = availableParallelism(),
): { workers: number; threads: number } {
  const workers = Math.max(1, Math.min(groups, config.workers > 0 ? config.workers : cores));
  return { workers, threads: Math.max(1, Math.floor(cores / workers)) };
}

/**
 * Run the groups in `workers` child processes (`pharmacist run` on a one-group config, PHARMACIST_THREADS
 * set), their output prefixed; a group starts once the group it waits for has finished. Resolves when all
 * are done, rejects if one fails.
 */
async function runGroupsInWorkers(
  config: GridConfig,
  groups: readonly WorkGroup[],
  plan: { workers: number; threads: number },
  log: (line: string) => void,
): Promise<void> {
  const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const dir = join(config.run_dir, 'workers');
  mkdirSync(dir, { recursive: true });
  const several = config.grid.defense.length > 1;
  const finished = new Array<boolean>(groups.length).fill(false);
  const pending = new Set(groups.keys());
  let waiting: (() => void)[] = [];
  const runOne = (i: number): Promise<void> => {
    const group = groups[i].grid;
    const name = `${group.selector[0]}/seed ${group.seed[0]}${several ? `/${group.defense[0]}` : ''}`;
    const file = join(dir, `group-${i}.json`);
    writeJsonAtomic(file, { ...config, workers: 1, grid: group, report: false });
    log(`[${name}] started (${plan.threads} thread${plan.threads > 1 ? 's' : ''})`);
    return new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, 'run', file], {
        env: { ...process.env, PHARMACIST_THREADS: String(plan.threads) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Whole lines only: a chunk may end mid-line.
      for (const stream of [child.stdout, child.stderr])
        createInterface({ input: stream }).on('line', (line) => {
          if (line.trim()) log(`[${name}] ${line}`);
        });
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`grid worker for ${name} exited with ${code} (config ${file})`)),
      );
    });
  };
  const worker = async (): Promise<void> => {
    while (pending.size > 0) {
      const i = nextGroup(groups, pending, finished);
      if (i === undefined) {
        await new Promise<void>((r) => waiting.push(r));
        continue;
      }
      pending.delete(i);
      await runOne(i);
      finished[i] = true;
      const wake = waiting;
      waiting = [];
      for (const r of wake) r();
    }
  };
  await Promise.all(Array.from({ length: plan.workers }, worker));
}

export async function runGrid(config: GridConfig, log: (line: string) => void = console.log): Promise<GridResult> {
  const t0 = performance.now();
  const modelHash = sha256Files(join(config.model, 'model.safetensors'));
  const judge: Judge = createJudge(config.eval.judge, {
    url: config.eval.url ?? undefined,
    model: config.eval.model_name ?? undefined,
    format: config.eval.judge_format,
  });
  const done = (g: GridConfig['grid']) =>
    gridCells(g).every((cell) => {
      const e = stageDirs(config, cell, modelHash, judge.id).eval;
      return e !== null && existsSync(join(e, 'done.json'));
    });
  // A group whose selection stage is already done need not wait for the group that would compute it.
  const selectionDone = (g: GridConfig['grid']) =>
    gridCells(g).every((cell) => existsSync(join(stageDirs(config, cell, modelHash, judge.id).select, 'done.json')));
  const groups: WorkGroup[] = [];
  const position = new Map<number, number>(); // a kept group's index in all -> in groups (`after` points backwards)
  independentGroups(config.grid).forEach((g, i) => {
    if (done(g.grid)) return;
    position.set(i, groups.length);
    const waitsFor = g.after === null || selectionDone(g.grid) ? undefined : position.get(g.after);
    groups.push({ grid: g.grid, after: waitsFor ?? null });
  });
  const plan = workerPlan(config, groups.length);
  if (plan.workers > 1) {
    log(
      `running ${groups.length} independent groups of cells in ${plan.workers} processes, ${plan.threads} thread(s) each`,
    );
    await runGroupsInWorkers(config, groups, plan, log);
  }
  const cells = gridCells(config.grid);
  const worlds = new Map<string, World>();
  const worldFor = (cell: GridCell): World => {
    const w: WorldConfig = {
      seed: cell.seeds.world,
      evalSeed: cell.seeds.eval,
      validation: config.world.validation,
      poolSize: config.world.pool_size,
      validationSize: config.world.validation_size,
      harmfulSize: config.world.harmful_size,
      task: cell.task as TaskName,
      finetuneSize: cell.n,
      harmfulRatio: cell.p,
      evalHarmfulSize: config.world.eval_harmful,
      evalTaskSize: config.world.eval_task,
      plant: config.world.plant,
    };
    const id = JSON.stringify(w);
    if (!worlds.has(id)) worlds.set(id, buildWorld(w));
    return worlds.get(id)!;
  };
  const results: CellResult[] = [];
  let computed = 0,
    computeSeconds = 0;
  const store = (status: string) =>
    writeJsonAtomic(join(config.run_dir, 'results.json'), {
      kind: 'grid',
      status,
      config,
      environment: describeEnvironment(),
      model: { path: config.model, sha256: modelHash },
      judge: { name: judge.name, id: judge.id },
      cells: cells.length,
      results,
      seconds: (performance.now() - t0) / 1000,
    });

  for (const [index, cell] of cells.entries()) {
    const cellStart = performance.now();
    const remaining = cells.length - index;
    const eta = computed > 0 ? `, ETA ≤ ${formatSeconds((computeSeconds / computed) * remaining)}` : '';
    const overrides = describeSeedOverrides(cell.seed, cell.seeds);
    log(
      `== cell ${index + 1}/${cells.length}: ${cell.selector}${cell.selector === 'full' ? '' : ` k=${cell.ratio}`} ` +
        `+ ${cell.defense}, ${cell.task} n=${cell.n} p=${cell.p}, seed ${cell.seed}` +
        `${overrides ? ` (${overrides})` : ''}${eta}`,
    );
    const stageLog = (line: string) => log(`   ${line}`);
    const world = worldFor(cell);
    const pharmacist = cell.selector === 'pharmacist' ? config.select.pharmacist : null;
    const { select: selectDir, align: alignDir } = stageDirs(config, cell, modelHash, judge.id);
    const selected = await stage(selectDir, async () => {
      const r = await runSelect(
        {
          ...SELECT_DEFAULTS,
          method: selectorOf(cell.selector),
          ratio: 1,
          model: config.model,
          seed: cell.seeds.select,
          maxLength: config.select.max_length,
          outDir: selectDir,
          world: {
            seed: cell.seeds.world,
            evalSeed: cell.seeds.eval,
            validation: config.world.validation,
            poolSize: config.world.pool_size,
            validationSize: config.world.validation_size,
            harmfulSize: config.world.harmful_size,
          },
          plant: config.world.plant,
          pharmacist: pharmacist ? pharmacistOptions(pharmacist) : undefined,
        },
        stageLog,
      );
      return { scores: r.scores, seconds: r.seconds };
    });
    const steps = matchedSteps(config, cell);
    // The step-matched Full arm keeps the whole pool; its ratio sets only its training length.
    const kept = topK(
      selected.value.scores,
      steps === null ? subsetSize(world.pool.length, { ratio: cell.ratio }) : world.pool.length,
    );
    const subset = kept.map((i) => asInstruction(world.pool[i]));
    const planted = plantedReport(world.pool, kept);
    const refusals = refusalShare(world.pool, kept);
    if (kept.length < world.pool.length)
      stageLog(
        `kept ${kept.length}: ${(100 * refusals).toFixed(1)}% refusals (pool ${(
          100 *
          refusalShare(
            world.pool,
            world.pool.map((_, i) => i),
          )
        ).toFixed(1)}%)`,
      );

    const aligned = await stage(alignDir, () => {
      const r = alignStage({
        model: config.model,
        outDir: alignDir,
        sft: sft(config.align, cell.seeds.align, steps),
        records: subset,
        validation: world.validation.map(asInstruction),
        defense: cell.defense,
        defenseOptions: defenseOptionsOf(config, cell.defense),
        harmful: world.harmful.map(asInstruction),
        log: stageLog,
      });
      return { seconds: r.seconds, flow: r.flow };
    });

    // The alignment is done now, so its flow, and with it the attack's and evaluation's folders, are known.
    const after = stageDirs(config, cell, modelHash, judge.id);
    const flow = after.flow!,
      attackDir = after.attack!,
      evalDir = after.eval!;
    const probe =
      config.eval.probe_prompts > 0
        ? {
            prompts: world.evalHarmful.slice(0, config.eval.probe_prompts).map((r) => r.prompt),
            judge,
            profile: SELECT_DEFAULTS.profile,
            maxNewTokens: config.eval.max_new_tokens,
          }
        : undefined;
    const attacked = await stage(attackDir, async () => {
      const r = await attackStage({
        model: config.model,
        outDir: attackDir,
        alignAdapter: join(alignDir, 'adapter'),
        flow,
        sft: sft(config.attack, cell.seeds.attack),
        records: world.finetune,
        harmful: world.harmful.slice(0, 200).map(asInstruction),
        probe,
        log: stageLog,
        lisa: cell.defense === 'lisa' ? { records: subset, config: defenseOptionsOf(config, 'lisa').lisa } : undefined,
      });
      return { seconds: r.seconds, harmfulScoreByEpoch: r.harmfulScoreByEpoch };
    });

    const evaluated = await stage(evalDir, async () => {
      const adapters =
        flow === 'single' ? [join(attackDir, 'adapter')] : [join(alignDir, 'adapter'), join(attackDir, 'adapter')];
      const r = await evaluateStage({
        model: config.model,
        adapters,
        harmfulPrompts: world.evalHarmful.map((x) => x.prompt),
        judge,
        task: { name: cell.task, labels: world.taskLabels, test: world.evalTask },
        profile: SELECT_DEFAULTS.profile,
        maxNewTokens: config.eval.max_new_tokens,
        margin: { items: world.evalHarmful, refusals: marginRefusals().sentences, maxLength: config.align.max_length },
      });
      writeJsonAtomic(join(evalDir, 'responses.json'), {
        harmful: r.harmful.responses,
        task: r.task?.responses ?? [],
        harmfulMargin: r.margin?.per_prompt ?? [],
      });
      return {
        harmfulScore: r.harmful.score,
        harmfulFlagged: r.harmful.flagged,
        harmfulTotal: r.harmful.total,
        verdicts: r.harmful.responses.map((x) => (x.harmful ? 1 : 0)),
        verdictScores: r.harmful.responses.map((x) => Math.round(x.score * 1e4) / 1e4),
        margin: r.margin ? { mean: r.margin.mean, ci: r.margin.ci, n: r.margin.n } : null,
        accuracy: r.task?.accuracy ?? null,
        majorityRate: r.task?.majorityRate ?? null,
        predicted: r.task?.predicted ?? null,
      };
    });

    const result: CellResult = {
      ...cell,
      k: subset.length,
      harmful_score: evaluated.value.harmfulScore,
      harmful_score_ci: wilsonInterval(evaluated.value.harmfulFlagged, evaluated.value.harmfulTotal),
      harmful_margin: evaluated.value.margin,
      harmful_verdicts: evaluated.value.verdicts,
      harmful_verdict_scores: evaluated.value.verdictScores,
      finetune_accuracy: evaluated.value.accuracy,
      majority_rate: evaluated.value.majorityRate,
      select_seconds: selected.value.seconds,
      align_seconds: aligned.value.seconds,
      attack_seconds: attacked.value.seconds,
      harmful_score_by_attack_epoch: attacked.value.harmfulScoreByEpoch,
      planted_outside: planted ? planted.outsideShare : null,
      refusal_share: refusals,
      stages: { select: selectDir, align: alignDir, attack: attackDir, eval: evalDir },
    };
    results.push(result);
    const allCached = selected.cached && aligned.cached && attacked.cached && evaluated.cached;
    if (!allCached) {
      computed++;
      computeSeconds += (performance.now() - cellStart) / 1000;
    }
    log(
      `   harmful score ${result.harmful_score.toFixed(1)}%, ` +
        `${cell.task} accuracy ${result.finetune_accuracy?.toFixed(1) ?? 'n/a'}%, ` +
        `align ${formatSeconds(result.align_seconds)}${allCached ? ' (cached)' : ''}`,
    );
    store('running');
  }
  store('done');
  return { results, seconds: (performance.now() - t0) / 1000 };
}
