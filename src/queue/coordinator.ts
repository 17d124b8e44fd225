/**
 * `pharmacist run CONFIG --queue URL`: the grid planned as in the local run (content-hashed stage folders,
 * shared stages once), its stages enqueued as jobs named by their folders, and the run followed until every
 * cell is done or failed; then results.json is assembled exactly as the local run writes it (runCell on stages
 * that are all done reads them back).
 *
 * The stages form a DAG (one selection feeds many alignments), which BullMQ's flows, trees, do not express:
 * this process enqueues a stage once the stages before it are done, looking at the stage store (a done.json
 * is the truth; the queue only says who computes what). A job's id is its stage folder, so a stage is never
 * queued twice however many cells or runs need it, and rerunning the command re-attaches: done stages are
 * read, queued ones followed, and jobs that failed in an earlier attempt retried. A job Redis lost (restarted
 * without persistence) is enqueued again; one whose stage folder was since deleted is redone.
 */
import { basename, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Queue, type Job } from 'bullmq';
import { storeResults } from '../pipeline/grid.js';
import { stagesDir, type GridConfig } from '../pipeline/grid-config.js';
import { runCell } from '../pipeline/grid-cell.js';
import { planGrid, stageKey, type GridPlan } from '../pipeline/grid-plan.js';
import type { CellResult } from '../pipeline/records.js';
import { formatSeconds } from '../train/trainer.js';
import { checkRedis, QUEUE_NAME, QUEUE_PREFIX, redisClient } from './connection.js';
import { STAGES, stageFolder, type StageJobData, type StageName } from './stage-job.js';
import { codeVersion } from './version.js';

export interface QueueRunOptions {
  url: string;
  /** Tries of a failing stage before it counts as failed. */
  attempts: number;
  /** The first retry's delay; each next one doubles it. */
  backoffSeconds: number;
  /** The run's lines (stdout). */
  log: (line: string) => void;
  /** Progress and warnings (stderr). */
  progress: (line: string) => void;
  pollMs?: number;
}

/** A cell that could not finish: the stage that failed, after how many tries, and its error. */
export interface CellFailure {
  cell: number;
  stage: StageName;
  job: string;
  attempts: number;
  error: string;
}

export interface QueueRunResult {
  run: string;
  results: CellResult[];
  failures: CellFailure[];
  seconds: number;
}

/** The Redis keys of the run registry `pharmacist status` reads. */
export const RUNS_KEY = `${QUEUE_PREFIX}:runs`;
export const runKey = (run: string): string => `${QUEUE_PREFIX}:run:${run}`;
export const runJobsKey = (run: string): string => `${QUEUE_PREFIX}:run:${run}:jobs`;

/** A run's id: its run_dir's absolute path, hashed (the same command from the same folder re-attaches). */
export function runIdOf(config: GridConfig): string {
  return `run-${stageKey({ run_dir: resolve(config.run_dir) }).slice(0, 12)}`;
}

/** Where a cell stands: done, waiting on a stage (its folder), or failed. */
type CellState = { done: true } | { done: false; stage: StageName; folder: string };

function cellState(plan: GridPlan, index: number): CellState {
  const cell = plan.cells[index];
  for (const stage of STAGES) {
    const folder = stageFolder(plan, cell, stage)!; // attack/eval are known once align is done, checked first
    if (!existsSync(join(folder, 'done.json'))) return { done: false, stage, folder };
  }
  return { done: true };
}

/** The stages not yet done that the run will still need (the attack and evaluation of an unaligned cell: two). */
function remainingStages(plan: GridPlan, failed: ReadonlySet<number>): number {
  const folders = new Set<string>();
  let unknown = 0;
  plan.cells.forEach((cell, i) => {
    if (failed.has(i)) return;
    for (const stage of STAGES) {
      const folder = stageFolder(plan, cell, stage);
      if (folder === null) unknown++;
      else if (!existsSync(join(folder, 'done.json'))) folders.add(folder);
    }
  });
  return folders.size + unknown;
}

export async function runGridOnQueue(config: GridConfig, options: QueueRunOptions): Promise<QueueRunResult> {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const { url, log, progress } = options;
  await checkRedis(url, progress);
  const plan = planGrid(config);
  const run = runIdOf(config);
  const version = codeVersion();
  const connection = redisClient(url);
  let lastError = '';
  connection.on('error', (error: Error) => {
    if (error.message !== lastError) progress(`redis ${url}: ${error.message} (retrying)`);
    lastError = error.message;
  });
  connection.on('ready', () => (lastError = ''));
  const queue = new Queue<StageJobData>(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
  queue.on('error', () => {}); // the connection's handler reports it
  const register = (status: string) =>
    connection.hset(runKey(run), {
      run_dir: resolve(config.run_dir),
      stages_dir: resolve(stagesDir(config)),
      code_version: version,
      model_hash: plan.modelHash,
      cells: plan.cells.length,
      status,
      heartbeat: Date.now(),
    });
  // Whatever happens, the connection closes: an open one would keep the process alive after an error.
  try {
    await connection.sadd(RUNS_KEY, run);
    await connection.hsetnx(runKey(run), 'started', Date.now());
    await register('running');
    log(`run ${run}: ${plan.cells.length} cells on the queue ${url} (pharmacist ${version})`);

    const jobOptions = (jobId: string) => ({
      jobId,
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffSeconds * 1000 },
      removeOnComplete: false,
      removeOnFail: false,
    });
    const dataFor = (stage: StageName, cell: number): StageJobData => ({
      run,
      stage,
      cell,
      config: plan.config,
      codeVersion: version,
      modelHash: plan.modelHash,
    });
    const add = async (folder: string, stage: StageName, cell: number) => {
      const jobId = basename(folder);
      await queue.add(stage, dataFor(stage, cell), jobOptions(jobId));
      await connection.sadd(runJobsKey(run), jobId);
    };

    /**
     * The first time this process sees a job it settles what an earlier attempt left: a failed job is retried,
     * one queued by another build or for another model is replaced, one completed whose folder is gone is redone.
     */
    const attached = new Set<string>();
    const attach = async (folder: string, stage: StageName, cell: number): Promise<void> => {
      const jobId = basename(folder);
      const job: Job<StageJobData> | undefined = await queue.getJob(jobId);
      const state = job ? await job.getState() : 'unknown';
      if (job && job.data.run !== run && resolve(stagesDir(job.data.config)) !== resolve(stagesDir(config)))
        throw new Error(
          `the queue ${url} holds ${jobId} for the stage store ${stagesDir(job.data.config)}, this run's is ` +
            `${stagesDir(config)}: one Redis database serves one stage store ` +
            '(use another database: redis://HOST:PORT/N)',
        );
      const stale = job && (job.data.codeVersion !== version || job.data.modelHash !== plan.modelHash);
      const doneNow = existsSync(join(folder, 'done.json')); // finished since this pass looked at the folder
      if (doneNow) {
        // nothing to settle
      } else if (!job || state === 'unknown') await add(folder, stage, cell);
      else if (state === 'failed' && !stale) {
        progress(`${jobId}: failed in an earlier attempt (${job.failedReason}); retrying`);
        await job.retry('failed', { resetAttemptsMade: true });
      } else if ((stale && state !== 'active') || state === 'completed') {
        if (state === 'completed') progress(`${jobId}: its job completed but the folder has no done.json; redoing`);
        await job.remove();
        await add(folder, stage, cell);
      }
      await connection.sadd(runJobsKey(run), jobId);
      attached.add(jobId);
    };

    const failures = new Map<number, CellFailure>();
    const doneCells = new Set<number>();
    const stagesAtStart = remainingStages(plan, new Set());
    let lastLine = '';
    for (;;) {
      // Each cell's next stage; one job per folder, however many cells wait on it.
      const waitingOn = new Map<string, { stage: StageName; cells: number[] }>();
      for (let i = 0; i < plan.cells.length; i++) {
        if (failures.has(i) || doneCells.has(i)) continue;
        const state = cellState(plan, i);
        if (state.done) doneCells.add(i);
        else {
          const entry = waitingOn.get(state.folder) ?? { stage: state.stage, cells: [] };
          entry.cells.push(i);
          waitingOn.set(state.folder, entry);
        }
      }
      const counts = { active: 0, waiting: 0 };
      for (const [folder, { stage, cells }] of waitingOn) {
        const jobId = basename(folder);
        if (!attached.has(jobId)) await attach(folder, stage, cells[0]);
        const state = await queue.getJobState(jobId);
        if (state === 'active') counts.active++;
        else if (state === 'failed' && existsSync(join(folder, 'done.json')))
          continue; // finished after all
        else if (state === 'failed') {
          const job = (await queue.getJob(jobId))!;
          for (const cell of cells)
            failures.set(cell, { cell, stage, job: jobId, attempts: job.attemptsMade, error: job.failedReason });
        } else if (state === 'unknown' || state === 'completed') {
          // Lost by Redis, or completed in the instant between our look at the folder and at the job.
          if (!existsSync(join(folder, 'done.json')) && state === 'unknown') await add(folder, stage, cells[0]);
        } else counts.waiting++;
      }
      const remaining = remainingStages(plan, new Set(failures.keys()));
      const computed = stagesAtStart - remaining;
      const eta = computed > 0 ? `, ETA ${formatSeconds((elapsed() / computed) * remaining)}` : '';
      const line =
        `[${run}] cells ${doneCells.size}/${plan.cells.length} done, ${failures.size} failed; stages: ` +
        `${counts.active} running, ${counts.waiting} queued, ${remaining} to go${eta}`;
      if (line.replace(/, ETA .*/, '') !== lastLine.replace(/, ETA .*/, '')) progress(line);
      lastLine = line;
      if (doneCells.size + failures.size === plan.cells.length) break;
      await register('running');
      await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
    }

    // Every stage of a done cell is in the store: runCell reads them back and builds the rows as the local run does.
    const results: CellResult[] = [];
    for (const [index, cell] of plan.cells.entries()) {
      if (failures.has(index)) continue;
      results.push((await runCell(plan, cell, () => {})).result);
    }
    storeResults(plan, results, failures.size > 0 ? 'running' : 'done', elapsed());
    await register(failures.size > 0 ? 'failed' : 'done');
    return { run, results, failures: [...failures.values()], seconds: elapsed() };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
