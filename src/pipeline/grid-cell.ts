/**
 * One cell of a grid: select -> align -> attack -> evaluate, each stage in its own folder (grid-plan.ts names
 * them) and computed only when that folder has no done.json; a folder without one is a killed attempt and
 * starts over. runCell runs a cell alone, and each stage step runs alone for a cell of a plan once the stages
 * before it are done (a queue worker's unit of work): the align and attack steps take the cell's subset,
 * which cellSubset derives from the selection's done.json value.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { asInstruction } from '../data/datasets.js';
import type { InstructionExample } from '../data/prompt-format.js';
import { createDefense } from '../defenses/registry.js';
import { wilsonInterval } from '../eval/statistics.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { readRecord, type RecordExpectation } from '../io/json-record.js';
import { acquireLease, removeLapsedLease } from '../io/lease.js';
import { subsetSize } from '../select/selector.js';
import { fromSection } from '../config/knobs.js';
import { sftFromKnobs, TRAINING_KNOBS, type SftConfig } from '../train/sft.js';
import { formatSeconds } from '../train/trainer.js';
import { defenseOptionsOf, selectorOptionsOf, type GridConfig, type TrainingKnobs } from './grid-config.js';
import { cellStageDirs, marginRefusals, matchedSteps, selectorOf, worldConfig, type GridPlan } from './grid-plan.js';
import {
  DONE_FIELDS,
  type AlignDone,
  type AttackDone,
  type CellResult,
  type EvalDone,
  type EvalResponses,
  type GridCell,
  type SelectDone,
} from './records.js';
import {
  runSelect,
  SELECT_DEFAULTS,
  summarizeSelection,
  type SelectConfig,
  type SelectionSummary,
  type SelectMappings,
} from './select.js';
import { alignStage, attackStage, evaluateStage } from './stages.js';
import { dataFiles } from './user-data.js';

/** A stage's done.json value, and whether it was read from an earlier run rather than computed now. */
export interface StageRun<T> {
  value: T;
  cached: boolean;
}

type Log = (line: string) => void;

/**
 * Run `fn` in `dir` unless its done.json exists. One process computes a stage at a time: it holds the lease
 * <dir>.lease (io/lease.ts) while it does, and another that wants the stage waits for that done.json or takes
 * over a lapsed lease. Under the lease, a folder without done.json is a dead attempt and starts over.
 */
async function cachedStage<T extends object>(
  dir: string,
  expected: RecordExpectation<T>,
  fn: () => Promise<T> | T,
): Promise<StageRun<T>> {
  const marker = join(dir, 'done.json');
  const cached = (): StageRun<T> => ({ value: readRecord<T>(marker, expected), cached: true });
  const leasePath = `${dir}.lease`;
  if (existsSync(marker)) {
    removeLapsedLease(leasePath); // its holder died between done.json and releasing it
    return cached();
  }
  mkdirSync(dirname(dir), { recursive: true });
  const lease = await acquireLease(
    leasePath,
    () => existsSync(marker),
    (h) => console.error(`${basename(dir)}: computed by ${h.host} pid ${h.pid}; waiting for its done.json`),
  );
  if (!lease) return cached();
  try {
    if (existsSync(marker)) return cached(); // finished by the holder we waited for
    rmSync(dir, { recursive: true, force: true });
    // Stages compute synchronously: a turn of the event loop first lets messages in, such as a grid worker's
    // larger share of the cores once another worker has finished (grid.ts).
    await new Promise<void>((resolve) => setImmediate(resolve));
    const value = await fn();
    writeJsonAtomic(marker, value);
    return { value, cached: false };
  } finally {
    await lease.release();
  }
}

/** A grid's training section (align or attack) as the trainer's config. */
const sft = (section: TrainingKnobs, seed: number, steps: number | null = null): Partial<SftConfig> =>
  sftFromKnobs(fromSection(TRAINING_KNOBS, section), seed, steps);

/** The selection stage: the whole pool ranked once (ratio 1), so that every ratio's cell takes its own top k. */
export async function runSelectStage(plan: GridPlan, cell: GridCell, log: Log): Promise<StageRun<SelectDone>> {
  const { config } = plan;
  const dir = cellStageDirs(plan, cell).select;
  const selector = selectorOf(cell.selector);
  return cachedStage(dir, DONE_FIELDS.select, async (): Promise<SelectDone> => {
    const r = await runSelect(
      {
        ...SELECT_DEFAULTS,
        profile: plan.style,
        method: selector,
        ratio: 1,
        model: config.model,
        seed: cell.seeds.select,
        maxLength: config.select.max_length,
        outDir: dir,
        // The cell's own world: its pool, validation and harmful sets do not depend on the task, n or p.
        world: worldConfig(config, cell),
        options: selectorOptionsOf(config, selector),
        ...selectionFiles(config),
      },
      log,
    );
    return { scores: r.scores, seconds: r.seconds };
  });
}

/** The user's pool, validation and harmful files of a grid, with their fields, as the selection takes them. */
function selectionFiles(config: GridConfig): Partial<SelectConfig> {
  const files = dataFiles(config.data);
  const mappings: SelectMappings = {};
  for (const role of ['pool', 'validation', 'harmful'] as const) if (files[role]) mappings[role] = files[role];
  return {
    poolFile: files.pool?.file,
    validationFile: files.validation?.file,
    harmfulFile: files.harmful?.file,
    ...(Object.keys(mappings).length > 0 ? { mappings } : {}),
  };
}

/** The data a cell aligns on: its top k of the selection (with what that leaves out), as instructions. */
export interface CellSubset extends SelectionSummary {
  records: InstructionExample[];
}

/** A cell's subset of its selection: the same top k (and summary) `pharmacist select` keeps at the cell's ratio. */
export function cellSubset(plan: GridPlan, cell: GridCell, selection: SelectDone): CellSubset {
  const pool = plan.world(cell).pool;
  // The step-matched Full arm keeps the whole pool; its ratio sets only its training length.
  const k = matchedSteps(plan.config, cell) === null ? subsetSize(pool.length, { ratio: cell.ratio }) : pool.length;
  const summary = summarizeSelection(pool, selection.scores, k);
  return { ...summary, records: summary.kept.map((i) => asInstruction(pool[i])) };
}

/** The alignment on the cell's subset with the cell's defense (one acting only in fine-tuning aligns as SFT). */
export async function runAlignStage(
  plan: GridPlan,
  cell: GridCell,
  subset: CellSubset,
  log: Log,
): Promise<StageRun<AlignDone>> {
  const { config } = plan;
  const world = plan.world(cell);
  const dir = cellStageDirs(plan, cell).align;
  return cachedStage(dir, DONE_FIELDS.align, (): AlignDone => {
    const r = alignStage({
      model: config.model,
      outDir: dir,
      sft: { ...sft(config.align, cell.seeds.align, matchedSteps(config, cell)), profile: plan.style },
      records: subset.records,
      validation: world.validation.slice(0, config.eval.validation_curve ?? undefined).map(asInstruction),
      defense: cell.defense,
      defenseOptions: defenseOptionsOf(config, cell.defense),
      harmful: world.harmful.map(asInstruction),
      log,
    });
    return { seconds: r.seconds, flow: r.flow };
  });
}

/** A cell's folders once its alignment is done: its flow, and with it the attack's and evaluation's, are known. */
function alignedStages(plan: GridPlan, cell: GridCell): { flow: 'double' | 'single'; stages: CellResult['stages'] } {
  const { select, align, flow, attack, eval: evaluation } = cellStageDirs(plan, cell);
  if (!existsSync(join(align, 'done.json')) || flow === null || attack === null || evaluation === null)
    throw new Error(`${align}: the cell's alignment is not done (no done.json); run its stage first`);
  return { flow, stages: { select, align, attack, eval: evaluation } };
}

/** The attack on the aligned model; a defense acting in fine-tuning (Lisa) interleaves the cell's subset. */
export async function runAttackStage(
  plan: GridPlan,
  cell: GridCell,
  subset: CellSubset,
  log: Log,
): Promise<StageRun<AttackDone>> {
  const { flow, stages } = alignedStages(plan, cell);
  const { config, judge } = plan;
  const world = plan.world(cell);
  const dir = stages.attack;
  const probe =
    config.eval.probe_prompts > 0
      ? {
          prompts: world.evalHarmful.slice(0, config.eval.probe_prompts).map((r) => r.prompt),
          judge,
          profile: plan.style,
          maxNewTokens: config.eval.max_new_tokens,
        }
      : undefined;
  // A defense acting in fine-tuning (Lisa) interleaves the cell's subset with the attack's data.
  const options = defenseOptionsOf(config, cell.defense);
  const defense = createDefense(cell.defense, options).fineTuning
    ? { name: cell.defense, options, records: subset.records }
    : undefined;
  return cachedStage(dir, DONE_FIELDS.attack, async (): Promise<AttackDone> => {
    const r = await attackStage({
      model: config.model,
      outDir: dir,
      alignAdapter: join(stages.align, 'adapter'),
      flow,
      sft: { ...sft(config.attack, cell.seeds.attack), profile: plan.style },
      records: world.finetune,
      harmful: world.harmful.slice(0, config.eval.harmful_curve).map(asInstruction),
      probe,
      log,
      defense,
    });
    return { seconds: r.seconds, harmfulScoreByEpoch: r.harmfulScoreByEpoch };
  });
}

/** The evaluation of base + adapters (the attack's alone under the single flow); every response to responses.json. */
export async function runEvalStage(plan: GridPlan, cell: GridCell): Promise<StageRun<EvalDone>> {
  const { flow, stages } = alignedStages(plan, cell);
  const { config, judge } = plan;
  const world = plan.world(cell);
  return cachedStage(stages.eval, DONE_FIELDS.eval, async (): Promise<EvalDone> => {
    const t0 = performance.now();
    // The single flow kept training the alignment adapter: the attack's adapter holds both.
    const attack = join(stages.attack, 'adapter');
    const adapters = flow === 'single' ? [attack] : [join(stages.align, 'adapter'), attack];
    const r = await evaluateStage({
      model: config.model,
      adapters,
      harmfulPrompts: world.evalHarmful.map((x) => x.prompt),
      judge,
      task: { name: cell.task, labels: world.taskLabels, test: world.evalTask },
      profile: plan.style,
      maxNewTokens: config.eval.max_new_tokens,
      // The margin needs each prompt's reference harmful answer: users' prompts without one get none.
      margin: world.evalHarmful.every((x) => x.reference !== '')
        ? { items: world.evalHarmful, refusals: marginRefusals().sentences, maxLength: config.align.max_length }
        : undefined,
    });
    const responses: EvalResponses = {
      harmful: r.harmful.responses,
      task: r.task?.responses ?? [],
      harmfulMargin: r.margin?.per_prompt ?? [],
    };
    writeJsonAtomic(join(stages.eval, 'responses.json'), responses);
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
      seconds: (performance.now() - t0) / 1000,
    };
  });
}

/** Every stage of a cell, in order; the result row, and whether every stage came from the cache. */
export async function runCell(
  plan: GridPlan,
  cell: GridCell,
  log: Log,
): Promise<{ result: CellResult; cached: boolean }> {
  const stageLog: Log = (line) => log(`   ${line}`);
  const selected = await runSelectStage(plan, cell, stageLog);
  const subset = cellSubset(plan, cell, selected.value);
  if (subset.kept.length < plan.world(cell).pool.length)
    stageLog(
      `kept ${subset.kept.length}: ${(100 * subset.refusals.kept).toFixed(1)}% refusals ` +
        `(pool ${(100 * subset.refusals.pool).toFixed(1)}%)`,
    );
  const aligned = await runAlignStage(plan, cell, subset, stageLog);
  const attacked = await runAttackStage(plan, cell, subset, stageLog);
  const evaluated = await runEvalStage(plan, cell);
  const result = cellResult(cell, subset, alignedStages(plan, cell).stages, {
    select: selected.value,
    align: aligned.value,
    attack: attacked.value,
    eval: evaluated.value,
  });
  const cached = selected.cached && aligned.cached && attacked.cached && evaluated.cached;
  log(
    `   harmful score ${result.harmful_score.toFixed(1)}%, ` +
      `${cell.task} accuracy ${result.finetune_accuracy?.toFixed(1) ?? 'n/a'}%, ` +
      `align ${formatSeconds(result.align_seconds)}${cached ? ' (cached)' : ''}`,
  );
  return { result, cached };
}

/** A cell's row of results.json, from its stages' done.json values. */
function cellResult(
  cell: GridCell,
  subset: CellSubset,
  stages: CellResult['stages'],
  done: { select: SelectDone; align: AlignDone; attack: AttackDone; eval: EvalDone },
): CellResult {
  return {
    ...cell,
    k: subset.records.length,
    harmful_score: done.eval.harmfulScore,
    harmful_score_ci: wilsonInterval(done.eval.harmfulFlagged, done.eval.harmfulTotal),
    harmful_margin: done.eval.margin,
    harmful_verdicts: done.eval.verdicts,
    harmful_verdict_scores: done.eval.verdictScores,
    finetune_accuracy: done.eval.accuracy,
    majority_rate: done.eval.majorityRate,
    select_seconds: done.select.seconds,
    align_seconds: done.align.seconds,
    attack_seconds: done.attack.seconds,
    harmful_score_by_attack_epoch: done.attack.harmfulScoreByEpoch,
    planted_outside: subset.planted ? subset.planted.outsideShare : null,
    refusal_share: subset.refusals.kept,
    stages,
  };
}
