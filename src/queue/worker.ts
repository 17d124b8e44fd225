/**
 * `pharmacist worker --queue URL`: takes stage jobs from the queue and computes them in child processes
 * (stage-child.ts, one per concurrent job, kept from job to job), C at a time with their share of kernel threads, so
 * that this process's event loop stays free to renew the jobs' locks. A worker killed mid-stage leaves its
 * job to stall: after the lock's duration another worker takes it and, under the stage's lease, starts the
 * stage folder over. A job whose run this worker
 * cannot serve (another build or model, a stage store it cannot write) goes back to the queue for the others
 * and the worker stops with the reason.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DelayedError, Worker, type Job } from 'bullmq';
import { STAGE_PROCESS_NODE_FLAGS } from '../pipeline/grid-plan.js';
import { checkRedis, QUEUE_NAME, QUEUE_PREFIX, redisClient } from './connection.js';
import type { StageChildReply, StageChildRequest } from './stage-child.js';
import type { StageJobData, StageJobResult } from './stage-job.js';
import { codeVersion } from './version.js';

export interface WorkerOptions {
  url: string;
  /** Kernel threads of each concurrent stage process (PHARMACIST_THREADS): threads[i] for slot i. */
  threads: readonly number[];
  /** Stage jobs at a time. */
  concurrency: number;
  /** How long a job's lock lasts unrenewed: a killed worker's job is taken over after about this long. */
  lockSeconds: number;
  log: (line: string) => void;
}

/** How many times a job may stall (its worker died) before it counts as failed. */
export const MAX_STALLED = 10;

/**
 * The worker's stage processes, one per concurrent job, each kept from job to job; one that died is replaced
 * at the next job. Their output lines carry the id of the job they compute.
 */
class StageProcesses {
  private idle: ChildProcess[] = [];
  private readonly all = new Set<ChildProcess>();
  private readonly jobOf = new Map<ChildProcess, string>();
  /** The slot (index into threads) of each live process: a replacement takes the slot its predecessor left. */
  private readonly slotOf = new Map<ChildProcess, number>();

  constructor(
    private readonly threads: readonly number[],
    private readonly log: (line: string) => void,
  ) {}

  private spawn(): ChildProcess {
    const taken = new Set(this.slotOf.values());
    const slot = this.threads.findIndex((_, i) => !taken.has(i));
    const child = fork(fileURLToPath(new URL('./stage-child.js', import.meta.url)), [], {
      execArgv: [...process.execArgv, ...STAGE_PROCESS_NODE_FLAGS],
      env: { ...process.env, PHARMACIST_THREADS: String(this.threads[Math.max(0, slot)]) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.all.add(child);
    this.slotOf.set(child, slot);
    child.on('exit', () => {
      this.all.delete(child);
      this.slotOf.delete(child);
      this.idle = this.idle.filter((c) => c !== child);
    });
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on('line', (line) => {
        if (line.trim()) this.log(`[${this.jobOf.get(child) ?? 'idle'}] ${line}`);
      });
    return child;
  }

  /** Compute the job in a stage process: its reply, or an error when the process died without one. */
  run(job: Job<StageJobData>): Promise<StageChildReply> {
    const child = this.idle.pop() ?? this.spawn();
    this.jobOf.set(child, job.id!);
    return new Promise<StageChildReply>((resolve, reject) => {
      const onMessage = (reply: StageChildReply) => {
        child.off('exit', onExit);
        this.jobOf.delete(child);
        this.idle.push(child);
        resolve(reply);
      };
      const onExit = (code: number | null, signal: string | null) => {
        child.off('message', onMessage);
        reject(new Error(`the stage process of ${job.id} on ${hostname()} died (${signal ?? `exit code ${code}`})`));
      };
      child.once('message', onMessage);
      child.once('exit', onExit);
      child.send({ jobId: job.id!, data: job.data } satisfies StageChildRequest);
    });
  }

  /** End them all: idle ones at once; `abandon` kills busy ones too (their jobs stall and move on). */
  close(abandon: boolean): void {
    for (const child of this.all) if (abandon || this.idle.includes(child)) child.kill('SIGKILL');
  }
}

/** Run a worker until it is stopped (SIGINT/SIGTERM) or refuses a run; resolves with the exit code. */
export async function runWorker(options: WorkerOptions): Promise<number> {
  const { url, log } = options;
  await checkRedis(url, log);
  const connection = redisClient(url);
  let lastError = '';
  connection.on('error', (error: Error) => {
    if (error.message !== lastError) log(`redis ${url}: ${error.message} (retrying)`);
    lastError = error.message;
  });
  connection.on('ready', () => (lastError = ''));
  const stages = new StageProcesses(options.threads, log);
  let refusal: string | null = null;
  const worker: Worker<StageJobData, StageJobResult> = new Worker<StageJobData, StageJobResult>(
    QUEUE_NAME,
    async (job, token) => {
      log(`[${job.id}] started (attempt ${job.attemptsMade + 1}, run ${job.data.run})`);
      const reply = await stages.run(job);
      if (reply.ok) {
        const { cached, seconds } = reply.result;
        log(`[${job.id}] done in ${seconds.toFixed(1)} s${cached ? ' (found done)' : ''}`);
        return reply.result;
      }
      if (reply.refused) {
        // Back to the queue for a worker that can serve the run; this one stops (see runWorker's end).
        refusal = reply.message;
        await job.moveToDelayed(Date.now() + 1000, token);
        setImmediate(() => void worker.close());
        throw new DelayedError();
      }
      log(`[${job.id}] failed: ${reply.message}`);
      throw new Error(reply.message);
    },
    {
      connection,
      prefix: QUEUE_PREFIX,
      // Stored on each job it takes (job.processedBy), host and pid as its log lines and leases name it: status
      // shows who computes what, the bench each worker's turns.
      name: `${hostname()}:${process.pid}`,
      concurrency: options.concurrency,
      lockDuration: options.lockSeconds * 1000,
      stalledInterval: options.lockSeconds * 1000,
      maxStalledCount: MAX_STALLED,
      autorun: false,
    },
  );
  worker.on('error', (error) => {
    if (error.message !== lastError) log(`worker: ${error.message}`);
    lastError = error.message;
  });
  let signals = 0;
  const stop = (): void => {
    signals++;
    if (signals === 1) {
      log('stopping: finishing the stages in progress (again to abandon them to other workers)');
      void worker.close();
    } else {
      stages.close(true);
      process.exit(130);
    }
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  log(
    `worker ${hostname()} pid ${process.pid}, pharmacist ${codeVersion()}: ${options.concurrency} stage(s) at a ` +
      `time, ${options.threads.join(' / ')} thread(s) each, queue ${url}`,
  );
  await worker.run();
  stages.close(false);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  connection.disconnect();
  if (refusal) {
    log(`refused: ${refusal}`);
    return 2;
  }
  return 0;
}
