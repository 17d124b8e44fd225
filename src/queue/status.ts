/**
 * `pharmacist status --queue URL [--run RUN]`: the queue's stage jobs by state (the whole queue, or the jobs
 * of one run), the runs it has seen, and the failed jobs with their errors.
 */
import { resolve } from 'node:path';
import { Queue, type Job } from 'bullmq';
import { checkRedis, QUEUE_NAME, QUEUE_PREFIX, redisClient } from './connection.js';
import { RUNS_KEY, runJobsKey, runKey } from './coordinator.js';
import type { StageJobData } from './stage-job.js';

export interface RunInfo {
  run: string;
  run_dir: string;
  stages_dir: string;
  code_version: string;
  status: string;
  cells: number;
  /** Seconds since its coordinator last looked at the queue. */
  seen_seconds_ago: number;
}

export interface QueueStatus {
  url: string;
  run: string | null;
  counts: { waiting: number; active: number; done: number; failed: number };
  runs: RunInfo[];
  failures: { job: string; run: string; attempts: number; error: string }[];
  /** The stages being computed: by which worker (host:pid) and for how long. */
  active: { job: string; run: string; worker: string; seconds: number }[];
}

const STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed', 'waiting-children'] as const;

export async function queueStatus(
  url: string,
  runName: string | null,
  warn: (line: string) => void,
): Promise<QueueStatus> {
  await checkRedis(url, warn);
  const connection = redisClient(url);
  const queue = new Queue<StageJobData>(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
  try {
    const runs: RunInfo[] = [];
    for (const id of (await connection.smembers(RUNS_KEY)).sort()) {
      const h = await connection.hgetall(runKey(id));
      runs.push({
        run: id,
        run_dir: h.run_dir,
        stages_dir: h.stages_dir,
        code_version: h.code_version,
        status: h.status,
        cells: Number(h.cells),
        seen_seconds_ago: Math.round((Date.now() - Number(h.heartbeat)) / 1000),
      });
    }
    const selected = runName === null ? null : runs.find((r) => r.run === runName || r.run_dir === resolve(runName));
    if (runName !== null && !selected)
      throw new Error(
        `--run ${runName}: no such run on ${url} ` +
          `(known: ${runs.map((r) => `${r.run} ${r.run_dir}`).join(', ') || 'none'})`,
      );
    const counts = { waiting: 0, active: 0, done: 0, failed: 0 };
    const tally = (state: string, n = 1) => {
      if (state === 'completed') counts.done += n;
      else if (state === 'active') counts.active += n;
      else if (state === 'failed') counts.failed += n;
      else if (state !== 'unknown') counts.waiting += n;
    };
    let jobIds: Set<string> | null = null;
    if (selected) {
      jobIds = new Set(await connection.smembers(runJobsKey(selected.run)));
      for (const id of jobIds) tally(await queue.getJobState(id));
    } else for (const [state, n] of Object.entries(await queue.getJobCounts(...STATES))) tally(state, n);
    // A job's entry may be gone between listing and reading it; with --run, only that run's jobs.
    const ofRun = (job: Job<StageJobData> | undefined): job is Job<StageJobData> =>
      job !== undefined && job !== null && (jobIds === null || jobIds.has(job.id!));
    const failures = (await queue.getJobs(['failed']))
      .filter(ofRun)
      .map((job) => ({ job: job.id!, run: job.data.run, attempts: job.attemptsMade, error: job.failedReason }));
    const active = (await queue.getJobs(['active']))
      .filter(ofRun)
      .map((job) => ({
        job: job.id!,
        run: job.data.run,
        worker: job.processedBy ?? 'unknown',
        seconds: Math.round((Date.now() - (job.processedOn ?? Date.now())) / 1000),
      }))
      .sort((a, b) => a.job.localeCompare(b.job));
    return { url, run: selected?.run ?? null, counts, runs: selected ? [selected] : runs, failures, active };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

export function formatStatus(status: QueueStatus): string {
  const { waiting, active, done, failed } = status.counts;
  const lines = [
    `${status.run ? `run ${status.run}` : 'queue'} ${status.url}: ${waiting} waiting, ${active} active, ` +
      `${done} done, ${failed} failed`,
  ];
  for (const r of status.runs)
    lines.push(
      `  ${r.run}  ${r.status}  ${r.cells} cells  ${r.run_dir}  (pharmacist ${r.code_version}, ` +
        `seen ${r.seen_seconds_ago} s ago)`,
    );
  for (const a of status.active) lines.push(`  active ${a.job} (run ${a.run}) on ${a.worker} for ${a.seconds} s`);
  for (const f of status.failures) lines.push(`  failed ${f.job} (run ${f.run}, ${f.attempts} tries): ${f.error}`);
  return lines.join('\n');
}
