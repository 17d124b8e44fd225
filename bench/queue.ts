/**
 * npm run bench:queue — the grid on the queue: a small grid (tiny model, 12 cells, 34 stages) run from an empty
 * stage store by 1, 2 and 4 single-thread workers (cells per hour: linear until the cores run out, flat after);
 * the queue's overhead per stage (the wall time of the one-worker run beyond the stages' own compute, per stage,
 * and the hand-off: from a stage's input finishing to the stage starting); and an estimate of the paper
 * preset's wall time on 1, 8 and 32 machines (one stage at a time each): its five grids' stage DAG (shared
 * stages once) scheduled greedily with per-stage times, by default the mean of each kind in this run (tiny:
 * the machinery, not the paper's numbers), or --stage-times '{"select":S,"align":S,"attack":S,"eval":S}' from a
 * paper-scale store (done.json `seconds`; evaluations made before it was kept there: from their jobs' results).
 * Flags: --workers 1,2,4, --machines 1,8,32, --stage-times JSON, --cells small|tiny (tiny: 2 cells, to check
 * the script), --work K (stage size: pool, fine-tuning and evaluation sets K times the smallest; default 8).
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
const model = writeTinyModel(join(dir, 'model'));
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
  const config = {
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
const runs: { workers: number; cells: number; stages: number; seconds: number; cells_per_hour: number }[] = [];
const byKind: Record<StageName, number[]> = { select: [], align: [], attack: [], eval: [] };
let overhead: { per_stage_seconds: number; handoff_seconds: number } | null = null;
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
    runs.push({ workers: w, cells, stages: jobs.length, seconds, cells_per_hour: (cells / seconds) * 3600 });
    if (w === workerCounts[0]) {
      for (const job of jobs) byKind[job.data.stage].push(job.returnvalue.seconds);
      const compute = jobs.reduce((sum, job) => sum + job.returnvalue.seconds, 0);
      // The hand-off: from the input stage's job finishing to this stage's job starting.
      const finished = new Map(jobs.map((job) => [job.id!, job.finishedOn!]));
      const gaps: number[] = [];
      const plan = planGrid(loadGridConfig(file));
      for (const job of jobs) {
        if (job.data.stage === 'select') continue;
        const inputKind = STAGES[STAGES.indexOf(job.data.stage) - 1];
        const input = basename(cellStageDirs(plan, plan.cells[job.data.cell])[inputKind]!);
        if (finished.has(input)) gaps.push((job.processedOn! - finished.get(input)!) / 1000);
      }
      overhead = {
        per_stage_seconds: (seconds - compute) / jobs.length,
        handoff_seconds: gaps.length ? gaps.reduce((a, b) => a + b) / gaps.length : NaN,
      };
    }
    console.error(
      `${w} worker(s): ${cells} cells in ${seconds.toFixed(1)} s (${runs.at(-1)!.cells_per_hour.toFixed(0)}/h)`,
    );
  }
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b) / xs.length : 0);
const measured: StageSeconds = {
  select: mean(byKind.select),
  align: mean(byKind.align),
  attack: mean(byKind.attack),
  eval: mean(byKind.eval),
};
const stageSeconds: StageSeconds = args['stage-times'] ? JSON.parse(args['stage-times']) : measured;
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
    overhead,
    stage_seconds: { source: args['stage-times'] ? 'given' : 'this run (tiny model)', ...stageSeconds },
    preset: { path: args.preset, stages: dag.size, estimate },
  }),
);
