/**
 * What a grid run is before anything runs: its cells, the stage folders each cell's stages live in (named by
 * the content hash of everything the stage depends on), the embedded world each cell draws its data from,
 * and the groups of cells that worker processes can run side by side. Nothing here trains or evaluates.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { TaskName } from '../data/tasks.js';
import { buildWorld, WORLD_DEFAULTS, type World, type WorldConfig } from '../data/world.js';
import { loadMarginRefusals } from '../eval/harmful-margin.js';
import type { Judge } from '../eval/judges/judge.js';
import { createDefense } from '../defenses/registry.js';
import { createJudge } from '../eval/judges/registry.js';
import { contentId, sha256Files } from '../io/hash.js';
import { modelWeightFiles } from '../io/safetensors.js';
import { readRecord } from '../io/json-record.js';
import { fromSection, keyedKnobs } from '../config/knobs.js';
import { isTunableSelector, SELECTOR_KNOBS } from '../select/registry.js';
import { subsetSize } from '../select/selector.js';
import { stepsFor, TRAINING_KNOBS } from '../train/sft.js';
import type { PromptStyle } from '../data/prompt-format.js';
import { ATTACK_KNOBS, promptStyle } from './stage-runs.js';
import { EVAL_DEFAULTS } from './stages.js';
import { defenseOptionsOf, judgeOptionsOf, STEP_MATCHED_FULL, stagesDir, type GridConfig } from './grid-config.js';
import { DONE_FIELDS, type AlignDone, type GridCell } from './records.js';
import { SEED_STAGES, stageSeeds, type StageSeeds } from './seeds.js';
import { CUSTOM_TASK, dataFiles, dataKey, roleLoader, withUserData, type DataRole } from './user-data.js';

/** The committed refusal sentences of the harmful margin and their content id (part of the eval key), read once. */
let marginRefusalsCache: { sentences: string[]; id: string } | undefined;
export function marginRefusals(): { sentences: string[]; id: string } {
  if (!marginRefusalsCache) {
    const sentences = loadMarginRefusals();
    marginRefusalsCache = { sentences, id: contentId('margin-refusals', sentences) };
  }
  return marginRefusalsCache;
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
export function selectorOf(arm: string): string {
  return arm === STEP_MATCHED_FULL ? 'full' : arm;
}

/** The step-matched Full arm's optimizer steps: those of the arm's k-sample subset (null for every other arm). */
export function matchedSteps(config: GridConfig, cell: GridCell): number | null {
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

/** A cell's stage folders; the attack's and evaluation's are null while the flow is unknown (see stageDirs). */
export interface StageDirs {
  select: string;
  align: string;
  flow: 'double' | 'single' | null;
  attack: string | null;
  eval: string | null;
}

/**
 * The stage folders of a cell, named by the content hash of everything each stage depends on. The attack's
 * flow under 'auto' comes from the alignment stage's done.json (null while the alignment is not done).
 * Every field of every key below is part of the stage cache's identity: changing one orphans cached stages
 * (test/stage-keys.test.ts pins the names).
 */
export function stageDirs(
  config: GridConfig,
  cell: GridCell,
  modelHash: string,
  judgeId: string,
  formatHash: string | null = null,
): StageDirs {
  const selector = selectorOf(cell.selector);
  const selectorKnobs = isTunableSelector(selector)
    ? keyedKnobs(SELECTOR_KNOBS[selector], fromSection(SELECTOR_KNOBS[selector], config.select[selector]))
    : {};
  const seeds = cell.seeds;
  // One ranking serves every ratio (and every defense and attack): the stage keeps the scores, each cell its top k.
  const selectKey = stageKey({
    stage: 'select',
    modelHash,
    selector,
    seeds: { world: seeds.world, select: seeds.select },
    world: config.world,
    maxLength: config.select.max_length,
    // The selector's knobs (those keyed: keyedKnobs), null when it has none. The field keeps the name it had when
    // Pharmacist's were the only settable ones: renaming it would rename every selection folder.
    pharmacist: Object.keys(selectorKnobs).length > 0 ? selectorKnobs : null,
    ...keyedData(config, ['pool', 'validation', 'harmful']),
    // The chat format's template (every later stage's key holds this one): absent under Alpaca's, as before.
    ...(formatHash === null ? {} : { promptFormat: { name: config.prompt_format, id: formatHash } }),
  });
  // A defense's knobs key the stages it acts in: Lisa's the attack, not its alignment (plain SFT's).
  const knobs = defenseOptionsOf(config, cell.defense);
  const { actsIn } = createDefense(cell.defense, knobs);
  const steps = matchedSteps(config, cell);
  const alignKey = stageKey({
    stage: 'align',
    selectKey,
    ratio: cell.ratio,
    defense: cell.defense,
    defenseOptions: actsIn.includes('align') ? knobs : {},
    // Knobs settable since (LoRA alpha, dropout, targets) stay out of the key at their defaults (keyedKnobs).
    align: keyedKnobs(TRAINING_KNOBS, fromSection(TRAINING_KNOBS, config.align)),
    seed: seeds.align,
    ...(steps === null ? {} : { arm: STEP_MATCHED_FULL, steps }),
    // The curves' sizes key the stage whose record holds the curve, and only away from their defaults (the whole
    // validation set; 200 harmful samples), which every stage made before they were settable used.
    ...(config.eval.validation_curve === null ? {} : { validationCurve: config.eval.validation_curve }),
  });
  const dir = stagesDir(config);
  const select = join(dir, `select-${selectKey}`),
    align = join(dir, `align-${alignKey}`);
  const flow = config.attack.flow !== 'auto' ? config.attack.flow : alignedFlow(align);
  if (flow === null) return { select, align, flow, attack: null, eval: null };
  const attackKey = stageKey({
    stage: 'attack',
    alignKey,
    // The knobs of a defense acting in fine-tuning. The field keeps the name it had when Lisa was the only
    // such defense: renaming it would rename every attack folder (the value names the defense).
    lisa: actsIn.includes('attack') ? knobs : null,
    flow,
    task: cell.task,
    n: cell.n,
    p: cell.p,
    attack: keyedKnobs(ATTACK_KNOBS, fromSection(ATTACK_KNOBS, config.attack)),
    seed: seeds.attack,
    probe: config.eval.probe_prompts,
    // The probe's prompts are the head of the evaluation draw.
    probeSeed: config.eval.probe_prompts > 0 ? seeds.eval : null,
    ...(config.eval.harmful_curve === EVAL_DEFAULTS.harmfulCurve ? {} : { harmfulCurve: config.eval.harmful_curve }),
    judge: judgeId,
    evalHarmful: config.world.eval_harmful,
    ...keyedData(config, ['harmful', 'finetune', 'task_train', 'attack_harmful', 'eval_prompts']),
  });
  // The judge's content hash (judgeId) keys the verdicts, not the folder it was loaded from: a judge moved or
  // copied elsewhere reuses them (judge_dir stays out of the key, as it was before grids could set it).
  // The curves are keyed by the stages that measure them (above); the evaluation does not read them.
  const { judge_dir: _judgeFolder, validation_curve: _v, harmful_curve: _h, ...evalSettings } = config.eval;
  const evalKey = stageKey({
    stage: 'eval',
    attackKey,
    eval: evalSettings,
    judge: judgeId,
    margin: marginRefusals().id,
    seed: seeds.eval,
    sizes: [config.world.eval_harmful, config.world.eval_task],
    ...keyedData(config, ['eval_prompts', 'task_test']),
  });
  return { select, align, flow, attack: join(dir, `attack-${attackKey}`), eval: join(dir, `eval-${evalKey}`) };
}

/** The user's files a stage reads, as a `data` field of its key; nothing when it reads none (embedded world). */
function keyedData(config: GridConfig, roles: readonly DataRole[]): { data?: object } {
  const key = dataKey(dataFiles(config.data), roles);
  return key === null ? {} : { data: key };
}

/** The flow a finished alignment stage calls for (null: not finished). */
function alignedFlow(alignDir: string): 'double' | 'single' | null {
  const done = join(alignDir, 'done.json');
  return existsSync(done) ? readRecord<AlignDone>(done, DONE_FIELDS.align).flow : null;
}

/** The embedded world a cell draws its data from (pool, validation and harmful sets, fine-tuning, evaluation). */
export function worldConfig(config: GridConfig, cell: GridCell): WorldConfig {
  return {
    seed: cell.seeds.world,
    evalSeed: cell.seeds.eval,
    validation: config.world.validation,
    poolSize: config.world.pool_size,
    validationSize: config.world.validation_size,
    harmfulSize: config.world.harmful_size,
    // The custom task's data comes from the user's files (withUserData); the rest of its world is the default's.
    task: (cell.task === CUSTOM_TASK ? WORLD_DEFAULTS.task : cell.task) as TaskName,
    finetuneSize: cell.n,
    harmfulRatio: cell.p,
    evalHarmfulSize: config.world.eval_harmful,
    evalTaskSize: config.world.eval_task,
    plant: config.world.plant,
  };
}

/** A grid ready to run: its config, the model's and judge's identities (part of the stage keys), its cells. */
export interface GridPlan {
  config: GridConfig;
  /** sha256 of the base model's weights. */
  modelHash: string;
  /** How examples become text (an Alpaca profile, or the model's chat template) and, for chat, its content id. */
  style: PromptStyle;
  formatHash: string | null;
  judge: Judge;
  cells: GridCell[];
  /** Each cell's world, built once for the cells that share it. */
  world(cell: GridCell): World;
}

export function planGrid(config: GridConfig): GridPlan {
  const modelHash = sha256Files(...modelWeightFiles(config.model));
  const judge = createJudge(config.eval.judge, judgeOptionsOf(config));
  const worlds = new Map<string, World>();
  const files = dataFiles(config.data);
  const loaded = roleLoader(files);
  const world = (cell: GridCell): World => {
    const w = worldConfig(config, cell);
    const id = JSON.stringify([w, cell.task]);
    if (!worlds.has(id)) worlds.set(id, withUserData(buildWorld(w), files, loaded, w.seed));
    return worlds.get(id)!;
  };
  const style = promptStyle(config.prompt_format, config.model);
  const formatHash = typeof style === 'string' ? null : style.id;
  return { config, modelHash, style, formatHash, judge, cells: gridCells(config.grid), world };
}

/** A cell's stage folders under the plan. */
export function cellStageDirs(plan: GridPlan, cell: GridCell): StageDirs {
  return stageDirs(plan.config, cell, plan.modelHash, plan.judge.id, plan.formatHash);
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
 * The groups with a cell left to evaluate; `after` re-pointed into this list, and dropped where the selection
 * a group waits for is already done (it need not wait for the group that would compute it).
 */
export function pendingGroups(plan: GridPlan): WorkGroup[] {
  const allDone = (grid: GridConfig['grid'], stage: 'select' | 'eval') =>
    gridCells(grid).every((cell) => {
      const dir = cellStageDirs(plan, cell)[stage];
      return dir !== null && existsSync(join(dir, 'done.json'));
    });
  const groups: WorkGroup[] = [];
  const position = new Map<number, number>(); // a kept group's index in all -> in groups (`after` points backwards)
  independentGroups(plan.config.grid).forEach((g, i) => {
    if (allDone(g.grid, 'eval')) return;
    position.set(i, groups.length);
    const waitsFor = g.after === null || allDone(g.grid, 'select') ? undefined : position.get(g.after);
    groups.push({ grid: g.grid, after: waitsFor ?? null });
  });
  return groups;
}

/**
 * How many worker processes, and the kernel threads of each (threads[i] for worker slot i): workers 0 means one
 * per core, as groups allow. The cores are split whole, the first `cores % workers` slots taking one more, so that
 * none sits idle (16 cores over 3 workers: 6, 5, 5 rather than 5 each); results do not depend on thread counts.
 */
export function workerPlan(
  config: GridConfig,
  groups: number,
  cores = availableParallelism(),
): { workers: number; threads: number[] } {
  const workers = Math.max(1, Math.min(groups, config.workers > 0 ? config.workers : cores));
  return { workers, threads: splitCores(cores, workers) };
}

/**
 * Node's flags for a process that computes stages on its share of the cores (a grid worker, a queue worker's
 * stage process). V8 collects garbage on helper threads beside the main one by default, and the engine's tensors
 * (one buffer per op) make much garbage: beside a one-thread stage on the embedded model those threads took
 * about a third of a core, cores that belong to the other workers. Collected on the main thread, with a young
 * generation large enough that it is collected as often as before, a stage takes the same wall time alone, and
 * two such processes on 2 cores finished in 28.7 s against 34.9 s with the defaults (each alone: 25.9 s; medians
 * of 3 rounds of one 1-cell grid at reduced scale, twice at once).
 */
export const STAGE_PROCESS_NODE_FLAGS: readonly string[] = ['--single-threaded-gc', '--max-semi-space-size=64'];

/** `cores` split whole over `parts` (at least one thread each), the first `cores % parts` taking one more. */
export function splitCores(cores: number, parts: number): number[] {
  const share = Math.floor(cores / parts),
    extra = cores % parts;
  return Array.from({ length: parts }, (_, i) => Math.max(1, share + (i < extra ? 1 : 0)));
}
