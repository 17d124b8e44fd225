/**
 * `pharmacist run CONFIG.yaml`: a grid of selectors x ratios x defenses x tasks x n x p x seeds over the
 * embedded world. Each stage (select, align, attack, eval) lives in <stages>/<stage>-<key> (stages_dir, by
 * default run_dir/stages), where the key is the content hash of everything the stage depends on (its config,
 * the upstream stage's key, the model's weights); a stage folder counts only once its done.json exists, so a
 * run killed at any point resumes where it stopped and cells that share a stage (one selection serves every
 * defense) compute it once.
 * A run is planned (grid-plan.ts: cells, stage folders, worker groups), each cell run (grid-cell.ts), and the
 * results stored in run_dir/results.json (rewritten atomically after every cell).
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setThreads } from '../engine/index.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { formatSeconds } from '../train/trainer.js';
import { describeEnvironment } from './environment.js';
import { stagesDir, type GridConfig } from './grid-config.js';
import { runCell } from './grid-cell.js';
import {
  pendingGroups,
  planGrid,
  splitCores,
  STAGE_PROCESS_NODE_FLAGS,
  workerPlan,
  type GridPlan,
  type WorkGroup,
} from './grid-plan.js';
import type { CellResult, GridCell, GridResultsRecord } from './records.js';
import { describeSeedOverrides } from './seeds.js';

// The grid's pieces, where callers have always found them.
export { gridCells, independentGroups, stageDirs, stageKey, workerPlan, type WorkGroup } from './grid-plan.js';
export type { CellResult, GridCell, GridSetting } from './records.js';

export interface GridResult {
  results: CellResult[];
  seconds: number;
}

/** Set in a grid worker's environment: its parent may send `{threads}` messages (see runGroupsInWorkers). */
export const THREAD_MESSAGES_ENV = 'PHARMACIST_GRID_THREAD_MESSAGES';

/** In a grid worker: take the thread counts its parent sends, without the channel keeping the process alive. */
export function followParentThreads(log: (line: string) => void): void {
  if (process.env[THREAD_MESSAGES_ENV] !== '1' || !process.send) return;
  process.on('message', (message: { threads?: unknown }) => {
    if (typeof message?.threads !== 'number') return;
    setThreads(message.threads);
    log(`now on ${message.threads} kernel threads`);
  });
  process.channel?.unref();
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

/**
 * The thread counts of the workers still running once the others have finished: the cores split whole among them
 * (splitCores), never fewer than a worker has (4 workers on 2 cores run on 1 each, and keep 1).
 */
export function sharesAfterHandOver(cores: number, current: readonly number[]): number[] {
  const shares = splitCores(cores, current.length);
  return current.map((threads, k) => Math.max(threads, shares[k]));
}

/**
 * Run the groups in `workers` child processes (`pharmacist run` on a one-group config, PHARMACIST_THREADS
 * set), their output prefixed; a group starts once the group it waits for has finished. Resolves when all
 * are done, rejects if one fails.
 */
async function runGroupsInWorkers(
  config: GridConfig,
  groups: readonly WorkGroup[],
  processes: { workers: number; threads: number[] },
  log: (line: string) => void,
): Promise<void> {
  const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const dir = join(config.run_dir, 'workers');
  mkdirSync(dir, { recursive: true });
  const several = config.grid.defense.length > 1;
  const finished = new Array<boolean>(groups.length).fill(false);
  const pending = new Set(groups.keys());
  let waiting: (() => void)[] = [];
  const running = new Map<number, { name: string; threads: number; send: (threads: number) => void }>();
  const runOne = (slot: number, i: number, threads: number): Promise<void> => {
    const group = groups[i].grid;
    const name = `${group.selector[0]}/seed ${group.seed[0]}${several ? `/${group.defense[0]}` : ''}`;
    const file = join(dir, `group-${i}.json`);
    // The worker shares the stage cache but keeps its results store to itself: the run's results.json is the
    // assembly of every group, written by this process, not the last worker's share of it.
    const store = { run_dir: join(dir, `group-${i}`), stages_dir: stagesDir(config) };
    writeJsonAtomic(file, { ...config, ...store, workers: 1, grid: group, report: false });
    log(`[${name}] started (${threads} thread${threads > 1 ? 's' : ''})`);
    return new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [...STAGE_PROCESS_NODE_FLAGS, cli, 'run', file], {
        env: { ...process.env, PHARMACIST_THREADS: String(threads), [THREAD_MESSAGES_ENV]: '1' },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      const send = (n: number) => {
        if (child.connected) child.send({ threads: n }, () => {}); // one that has just exited needs none
      };
      running.set(slot, { name, threads, send });
      // Whole lines only: a chunk may end mid-line.
      for (const stream of [child.stdout!, child.stderr!])
        createInterface({ input: stream }).on('line', (line) => {
          if (line.trim()) log(`[${name}] ${line}`);
        });
      child.on('error', reject);
      child.on('close', (code) => {
        running.delete(slot);
        if (code === 0) resolve();
        else reject(new Error(`grid worker for ${name} exited with ${code} (config ${file})`));
      });
    });
  };
  // Once no group is left to start, a worker that finishes hands its cores to those still running (from their
  // next stage on), so that the last groups do not run on one core while the others sit idle. Results do not
  // depend on thread counts.
  // The machine's cores: the threads' sum, unless there are more workers than cores (each then has one).
  const cores = Math.min(
    processes.threads.reduce((a, b) => a + b, 0),
    availableParallelism(),
  );
  const handOverCores = () => {
    const slots = [...running.values()];
    const shares = sharesAfterHandOver(
      cores,
      slots.map((r) => r.threads),
    );
    slots.forEach((r, k) => {
      if (shares[k] === r.threads) return;
      r.threads = shares[k];
      log(`[${r.name}] ${r.threads} threads from its next stage on (another worker finished)`);
      r.send(r.threads);
    });
  };
  // Worker slot `slot` runs its groups on processes.threads[slot] threads.
  const worker = async (slot: number): Promise<void> => {
    while (pending.size > 0) {
      const i = nextGroup(groups, pending, finished);
      if (i === undefined) {
        await new Promise<void>((r) => waiting.push(r));
        continue;
      }
      pending.delete(i);
      await runOne(slot, i, processes.threads[slot]);
      finished[i] = true;
      const wake = waiting;
      waiting = [];
      for (const r of wake) r();
    }
    handOverCores();
  };
  await Promise.all(Array.from({ length: processes.workers }, (_, slot) => worker(slot)));
}

/** The groups with cells left to compute, in worker processes when the config allows several (else none). */
async function runPendingGroups(plan: GridPlan, log: (line: string) => void): Promise<void> {
  const groups = pendingGroups(plan);
  const processes = workerPlan(plan.config, groups.length);
  if (processes.workers <= 1) return;
  log(
    `running ${groups.length} independent groups of cells in ${processes.workers} processes, ` +
      `with ${processes.threads.join(', ')} thread(s)`,
  );
  await runGroupsInWorkers(plan.config, groups, processes, log);
}

/** The line that opens a cell's output: which cell, its setting and seeds, and how long the rest may take. */
function cellHeading(cell: GridCell, index: number, cells: number, eta: string): string {
  const overrides = describeSeedOverrides(cell.seed, cell.seeds);
  return (
    `== cell ${index + 1}/${cells}: ${cell.selector}${cell.selector === 'full' ? '' : ` k=${cell.ratio}`} ` +
    `+ ${cell.defense}, ${cell.task} n=${cell.n} p=${cell.p}, seed ${cell.seed}` +
    `${overrides ? ` (${overrides})` : ''}${eta}`
  );
}

/** results.json, atomically: the cells finished so far, with the config, environment, model and judge. */
export function storeResults(plan: GridPlan, results: CellResult[], status: 'running' | 'done', seconds: number): void {
  const record: GridResultsRecord = {
    kind: 'grid',
    status,
    config: plan.config,
    environment: describeEnvironment(),
    model: { path: plan.config.model, sha256: plan.modelHash },
    judge: { name: plan.judge.name, id: plan.judge.id },
    cells: plan.cells.length,
    results,
    seconds,
  };
  writeJsonAtomic(join(plan.config.run_dir, 'results.json'), record);
}

export async function runGrid(config: GridConfig, log: (line: string) => void = console.error): Promise<GridResult> {
  followParentThreads(log);
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const plan = planGrid(config);
  await runPendingGroups(plan, log);
  const results: CellResult[] = [];
  // The ETA counts only cells that computed something: cached ones take no time and say nothing of the rest.
  let computed = 0,
    computeSeconds = 0;
  for (const [index, cell] of plan.cells.entries()) {
    const cellStart = performance.now();
    const remaining = plan.cells.length - index;
    const eta = computed > 0 ? `, ETA ≤ ${formatSeconds((computeSeconds / computed) * remaining)}` : '';
    log(cellHeading(cell, index, plan.cells.length, eta));
    const { result, cached } = await runCell(plan, cell, log);
    results.push(result);
    if (!cached) {
      computed++;
      computeSeconds += (performance.now() - cellStart) / 1000;
    }
    storeResults(plan, results, 'running', elapsed());
  }
  storeResults(plan, results, 'done', elapsed());
  return { results, seconds: elapsed() };
}
