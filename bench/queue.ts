/**
 * npm run bench:queue — the grid on the queue: a small grid run from an empty stage store by 1, 2 and 4
 * single-thread workers (cells per hour: linear until the cores run out, flat after); the queue's overhead
 * (the workers' utilisation, the coordinator's enqueue latency and a worker's turnaround between two jobs); and
 * an estimate of the paper preset's wall time on 1, 8 and 32 machines (one stage at a time each): its five
 * grids' stage DAG (shared stages once) scheduled greedily with per-stage times, by default the mean of each
 * kind in this run's first worker count, or --stage-times '{"select":S,"align":S,"attack":S,"eval":S}' from a
 * paper-scale store (done.json `seconds`).
 * Flags: --workers 1,2,4, --machines 1,8,32, --stage-times JSON, --model tiny|embedded, --cells small|tiny
 * (tiny: 2 cells, to check the script), --work K (tiny model only: pool, fine-tuning and evaluation sets K times
 * the smallest; default 8).
 * --model tiny (default): the test model, stages well under a second: what the queue itself costs.
 * --model embedded: the embedded Llama on a 4-cell grid at reduced scale (pool 96, attack n 48, 24 evaluation
 * prompts), stages of 3-15 s: what a grid of real stages gains from more workers (a few minutes).
 * Prints one JSON line last.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { stringify } from 'yaml';
import { loadGridConfig, type GridConfig } from '../src/pipeline/grid-config.js';
import { cellStageDirs, gridCells, planGrid, stageDirs } from '../src/pipeline/grid-plan.js';
import { QUEUE_NAME, QUEUE_PREFIX, redisClient } from '../src/queue/connection.js';
import { runJobsKey, runIdOf } from '../src/queue/coordinator.js';
import { STAGES, type StageJobData, type StageJobResult, type StageName } from '../src/queue/stage-job.js';
import { pharmacist, startRedis, startWorker } from '../test/queue-harness.js';
import { writeTinyModel } from '../test/tiny-model.js';

const { values: args } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2,4' },
    machines: { type: 'string', default: '1,8,32' },
    'stage-times': { type: 'string' },
    cells: { type: 'string', default: 'small' },
    model: { type: 'string', default: 'tiny' },
    work: { type: 'string', default: '8' },
    preset: { type: 'string', default: 'configs/reproduce-paper' },
  },
});
const workerCounts = args.workers.split(',').map(Number);
const machineCounts = args.machines.split(',').map(Number);

type StageSeconds = Record<StageName, number>;

/** A stage of a DAG: its kind and the stage whose output it needs. */
interface DagStage {
  kind: StageName;
  after: string | null;
}

/**
 * The stage DAG of grids sharing one stage store: every cell's four stages by folder, shared ones once. The
 * folders are keyed as the run keys them, the model's hash left out (one model) and the attack's flow fixed
 * (under 'auto' it is known only once the alignment is done; it changes no count).
 */
export function presetDag(configs: GridConfig[]): Map<string, DagStage> {
  const dag = new Map<string, DagStage>();
  for (const config of configs) {
    const fixed: GridConfig = { ...config, attack: { ...config.attack, flow: 'double' } };
    for (const cell of gridCells(config.grid)) {
      const dirs = stageDirs(fixed, cell, 'model', config.eval.judge);
      let after: string | null = null;
      for (const kind of STAGES) {
        const dir = dirs[kind]!;
        if (!dag.has(dir)) dag.set(dir, { kind, after });
        after = dir;
      }
    }
  }
  return dag;
}

/**
 * The wall time of a stage DAG on `machines` machines each computing one stage at a time: a stage starts when
 * its input is done and a machine is free, the stages ready earliest first (as the coordinator enqueues them).
 */
export function estimateWallSeconds(dag: Map<string, DagStage>, seconds: StageSeconds, machines: number): number {
  const finish = new Map<string, number>();
  const free = new Array<number>(machines).fill(0);
  const pending = [...dag.entries()];
  while (pending.length > 0) {
    // The next stage: the one whose input finished first (inputs before their successors: DAG order).
    let best = -1,
      bestReady = Infinity;
    for (let i = 0; i < pending.length; i++) {
      const [, stage] = pending[i];
      const ready = stage.after === null ? 0 : finish.get(stage.after);
      if (ready !== undefined && ready < bestReady) [best, bestReady] = [i, ready];
    }
    const [dir, stage] = pending.splice(best, 1)[0];
    const m = free.indexOf(Math.min(...free));
    const start = Math.max(free[m], bestReady);
    free[m] = start + seconds[stage.kind];
    finish.set(dir, free[m]);
  }
  return Math.max(...free);
}

const dir = mkdtempSync(join(tmpdir(), 'pharmacist-bench-queue-'));
if (!['tiny', 'embedded'].includes(args.model)) throw new Error(`--model: tiny or embedded, got "${args.model}"`);
const embedded = args.model === 'embedded';
// Left out of the config, the model is the embedded one.
const model = embedded ? undefined : writeTinyModel(join(dir, 'model'));
const small = args.cells === 'small';
// The stages' size: at 1 a stage takes well under a second on the tiny model and process start-up dominates;
// larger values give stages of seconds, so that the scaling over workers shows the cores, not the overhead.
const work = Number(args.work);
if (!(Number.isInteger(work) && work >= 1)) throw new Error(`--work: expected a whole number >= 1, got "${args.work}"`);
function gridFile(name: string): { file: string; runDir: string; cells: number } {
  const runDir = join(dir, name);
  const grid = small
    ? {
        selector: ['full', 'random'],
        ratio: [0.5, 0.25],
        task: ['agnews'],
        n: [8 * work, 6 * work],
        p: [0.5],
        seed: [0, 1],
      }
    : { selector: ['full', 'random'], ratio: [0.5], task: ['agnews'], n: [6 * work], p: [0.5], seed: [0] };
  const config = embedded
    ? {
        run_dir: runDir,
        workers: 1,
        world: { pool_size: 96, eval_harmful: 24, eval_task: 24 },
        grid: {
          selector: ['full', 'random'],
          ratio: [0.5],
          task: ['agnews'],
          n: [48],
          p: [0.1],
          seed: small ? [0, 1] : [0],
        },
        select: { max_length: 64 },
        align: { max_length: 64 },
        attack: { max_length: 64 },
        eval: { judge: 'keyword', max_new_tokens: 16, probe_prompts: 8 },
      }
    : {
        model,
        run_dir: runDir,
        workers: 1,
        world: {
          pool_size: 16 * work,
          validation_size: 4,
          harmful_size: 4 * work,
          eval_harmful: 4 * work,
          eval_task: 4 * work,
        },
        grid,
        select: { max_length: 48 },
        align: { epochs: 2, batch_size: 4, max_length: 48 },
        attack: { epochs: 2, batch_size: 3, max_length: 48 },
        eval: { judge: 'keyword', max_new_tokens: 4, probe_prompts: 2 },
      };
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(config));
  return { file, runDir, cells: gridCells(loadGridConfig(file).grid).length };
}

const redis = await startRedis(join(dir, 'redis'));
/** One run's figures: throughput, and where the time beyond the stages' own compute went. */
interface RunFigures {
  workers: number;
  cells: number;
  stages: number;
  /** The coordinator's wall time: planning, the queue, and assembling results.json and the report. */
  seconds: number;
  cells_per_hour: number;
  /** From the first job's enqueueing to the last job's end. */
  queue_seconds: number;
  /** The jobs' time in the workers' hands (sum over jobs) over workers x queue_seconds. */
  utilisation: number;
  /** Mean, from a stage's input job ending to its own job being enqueued (the coordinator's polling). */
  enqueue_latency_seconds: number;
  /** Mean, from a worker's job ending to its next start when that job was already waiting. */
  turnaround_seconds: number;
  /** Mean seconds of each stage kind as the stage process measured it (cores shared by more workers: longer). */
  stage_seconds: StageSeconds;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b) / xs.length : 0);
const runs: RunFigures[] = [];
try {
  for (const [i, w] of workerCounts.entries()) {
    const { file, cells } = gridFile(`workers-${w}`);
    // A database of its own: each run starts from an empty store, and one database serves one store.
    const url = redis.url.replace(/\/0$/, `/${i}`);
    const pool = Array.from({ length: w }, () => startWorker(url));
    const t0 = Date.now();
    const coordinator = pharmacist(['run', file, '--queue', url]);
    const code = await coordinator.exited;
    const seconds = (Date.now() - t0) / 1000;
    for (const p of pool) p.child.kill('SIGTERM');
    await Promise.all(pool.map((p) => p.exited));
    if (code !== 0) throw new Error(`the ${w}-worker run failed:\n${coordinator.lines.slice(-20).join('\n')}`);
    const connection = redisClient(url);
    const queue = new Queue<StageJobData, StageJobResult>(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
    const ids = await connection.smembers(runJobsKey(runIdOf(loadGridConfig(file))));
    const jobs = (await Promise.all(ids.map((id) => queue.getJob(id)))).filter((j) => j !== undefined);
    await queue.close();
    connection.disconnect();

    const queueStart = Math.min(...jobs.map((job) => job.timestamp));
    const queueSeconds = (Math.max(...jobs.map((job) => job.finishedOn!)) - queueStart) / 1000;
    const held = jobs.reduce((sum, job) => sum + (job.finishedOn! - job.processedOn!) / 1000, 0);
    const finished = new Map(jobs.map((job) => [job.id!, job.finishedOn!]));
    const plan = planGrid(loadGridConfig(file));
    const enqueueLatency: number[] = [];
    for (const job of jobs) {
      if (job.data.stage === 'select') continue;
      const inputKind = STAGES[STAGES.indexOf(job.data.stage) - 1];
      const input = basename(cellStageDirs(plan, plan.cells[job.data.cell])[inputKind]!);
      if (finished.has(input)) enqueueLatency.push((job.timestamp - finished.get(input)!) / 1000);
    }
    const turnaround: number[] = [];
    const byWorker = new Map<string, typeof jobs>();
    for (const job of jobs) {
      const own = byWorker.get(job.processedBy ?? '') ?? [];
      own.push(job);
      byWorker.set(job.processedBy ?? '', own);
    }
    for (const own of byWorker.values()) {
      own.sort((a, b) => a.processedOn! - b.processedOn!);
      for (let k = 1; k < own.length; k++)
        if (own[k].timestamp <= own[k - 1].finishedOn!)
          turnaround.push((own[k].processedOn! - own[k - 1].finishedOn!) / 1000);
    }
    const kindMean = (kind: StageName) =>
      mean(jobs.filter((job) => job.data.stage === kind).map((job) => job.returnvalue.seconds));
    runs.push({
      workers: w,
      cells,
      stages: jobs.length,
      seconds,
      cells_per_hour: (cells / seconds) * 3600,
      queue_seconds: queueSeconds,
      utilisation: held / (w * queueSeconds),
      enqueue_latency_seconds: mean(enqueueLatency),
      turnaround_seconds: mean(turnaround),
      stage_seconds: {
        select: kindMean('select'),
        align: kindMean('align'),
        attack: kindMean('attack'),
        eval: kindMean('eval'),
      },
    });
    const r = runs.at(-1)!;
    console.error(
      `${w} worker(s): ${cells} cells in ${seconds.toFixed(1)} s (${r.cells_per_hour.toFixed(0)}/h); queue ` +
        `${queueSeconds.toFixed(1)} s, utilisation ${r.utilisation.toFixed(2)}, enqueue latency ` +
        `${r.enqueue_latency_seconds.toFixed(2)} s, turnaround ${r.turnaround_seconds.toFixed(2)} s`,
    );
  }
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}

const stageSeconds: StageSeconds = args['stage-times'] ? JSON.parse(args['stage-times']) : runs[0].stage_seconds;
const presetFiles = readdirSync(args.preset)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => join(args.preset, f));
const dag = presetDag(presetFiles.map((f) => loadGridConfig(f)));
const estimate = machineCounts.map((m) => ({ machines: m, hours: estimateWallSeconds(dag, stageSeconds, m) / 3600 }));
console.log(
  JSON.stringify({
    bench: 'queue',
    work,
    runs,
    model: args.model,
    stage_seconds: {
      source: args['stage-times'] ? 'given' : `this bench's ${runs[0].workers}-worker run (${args.model} model)`,
      ...stageSeconds,
    },
    preset: { path: args.preset, stages: dag.size, estimate },
  }),
);
