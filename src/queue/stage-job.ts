/**
 * One job of a queued grid: one stage of one cell, computed with the grid's own stage functions (grid-cell.ts)
 * on the plan rebuilt from the job's data (the grid config and the cell's index), once the stages before it
 * are done. The stage folder is the job's id; it counts once its done.json is written (atomically, last).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { stagesDir, type GridConfig } from '../pipeline/grid-config.js';
import {
  cellSubset,
  runAlignStage,
  runAttackStage,
  runEvalStage,
  runSelectStage,
  type StageRun,
} from '../pipeline/grid-cell.js';
import { cellStageDirs, planGrid, type GridPlan } from '../pipeline/grid-plan.js';
import { DONE_FIELDS, type GridCell, type SelectDone } from '../pipeline/records.js';
import { readRecord } from '../io/json-record.js';
import { codeVersion, incompatibility } from './version.js';

export const STAGES = ['select', 'align', 'attack', 'eval'] as const;
export type StageName = (typeof STAGES)[number];

/** What a stage job carries: enough for any worker to rebuild the plan, and the identity it must match. */
export interface StageJobData {
  run: string;
  stage: StageName;
  /** The index in the plan's cells of a cell that needs this stage (any one: they share it). */
  cell: number;
  config: GridConfig;
  codeVersion: string;
  modelHash: string;
}

/** What a finished stage job returns. */
export interface StageJobResult {
  stage: StageName;
  cached: boolean;
  seconds: number;
  host: string;
}

/** This worker cannot serve the run (another build or model, a stage store it cannot write): not the job's fault. */
export class RefusedError extends Error {}

/**
 * A test-only fault: the stage whose folder name this variable holds throws before computing. The queue tests
 * need an exception in exactly one stage of an otherwise valid grid, and any invalid config is refused when
 * it is loaded, before a stage runs. It can only make a named stage fail, never change what a stage computes.
 */
export const FAIL_STAGE_ENV = 'PHARMACIST_TEST_FAIL_STAGE';

/** A cell's stage folder for a stage (null: the attack's and evaluation's before the alignment is done). */
export function stageFolder(plan: GridPlan, cell: GridCell, stage: StageName): string | null {
  return cellStageDirs(plan, cell)[stage];
}

function checkWritable(dir: string): void {
  const probe = join(dir, `.write-probe-${hostname()}-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (error) {
    throw new RefusedError(
      `the stage store ${dir} is not writable from this worker (${hostname()}): ${(error as Error).message}`,
    );
  }
}

function inputDone(plan: GridPlan, cell: GridCell, stage: StageName): void {
  const before = STAGES[STAGES.indexOf(stage) - 1];
  const dir = before ? stageFolder(plan, cell, before) : null;
  if (before && (dir === null || !existsSync(join(dir, 'done.json'))))
    throw new Error(`the ${stage} stage's input ${dir ?? `${before} stage`} is not done (no done.json)`);
}

/** The plan of the last run this process served: its model hashed and its worlds built once, not per job. */
let lastPlan: { key: string; plan: GridPlan } | undefined;
function planOf(config: GridConfig): GridPlan {
  const key = JSON.stringify(config);
  if (lastPlan?.key !== key) lastPlan = { key, plan: planGrid(config) };
  return lastPlan.plan;
}

/** Run the job's stage (read back when done.json exists); throws RefusedError when this worker may not. */
export async function runStageJob(
  jobId: string,
  data: StageJobData,
  log: (line: string) => void,
): Promise<StageJobResult> {
  const t0 = Date.now();
  const plan = planOf(data.config);
  const host = hostname();
  const why = incompatibility(
    { codeVersion: data.codeVersion, modelHash: data.modelHash, model: data.config.model },
    { codeVersion: codeVersion(), modelHash: plan.modelHash, model: data.config.model },
    host,
  );
  if (why) throw new RefusedError(why);
  checkWritable(stagesDir(plan.config));
  const cell = plan.cells[data.cell];
  if (!cell) throw new Error(`job ${jobId}: the grid has no cell ${data.cell}`);
  inputDone(plan, cell, data.stage);
  const folder = stageFolder(plan, cell, data.stage);
  // The job's id is the folder its coordinator planned: another folder means the plan differs here.
  if (folder === null || basename(folder) !== jobId)
    throw new RefusedError(`job ${jobId}: this worker plans the stage as ${folder ?? 'unknown'}; check the data paths`);
  if (process.env[FAIL_STAGE_ENV] === jobId) throw new Error(`${FAIL_STAGE_ENV}: ${jobId} fails on purpose`);
  let run: StageRun<object>;
  if (data.stage === 'select') run = await runSelectStage(plan, cell, log);
  else if (data.stage === 'eval') run = await runEvalStage(plan, cell);
  else {
    const selection = readRecord<SelectDone>(join(stageFolder(plan, cell, 'select')!, 'done.json'), DONE_FIELDS.select);
    const subset = cellSubset(plan, cell, selection);
    run =
      data.stage === 'align'
        ? await runAlignStage(plan, cell, subset, log)
        : await runAttackStage(plan, cell, subset, log);
  }
  return { stage: data.stage, cached: run.cached, seconds: (Date.now() - t0) / 1000, host };
}
