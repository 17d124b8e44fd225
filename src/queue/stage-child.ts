/**
 * The process in which a queue worker (worker.ts) computes its stage jobs, one at a time: a stage is
 * synchronous CPU work for minutes, so it runs here while the worker's event loop keeps renewing the jobs'
 * locks. It lives on from job to job (a stage costs no process start, and the plan of a run is built once) and
 * exits when its worker closes the channel. If its worker dies (killed with SIGKILL; its job then stalls and
 * goes to another worker), a watcher thread ends this process too, rather than let it compute on unseen,
 * holding the stage's lease.
 */
import { Worker } from 'node:worker_threads';
import { RefusedError, runStageJob, type StageJobData } from './stage-job.js';

export interface StageChildRequest {
  jobId: string;
  data: StageJobData;
}

export type StageChildReply =
  | { ok: true; result: Awaited<ReturnType<typeof runStageJob>> }
  | { ok: false; refused: boolean; message: string; stack?: string };

// process.ppid is read afresh each time: a child whose parent died has been handed to another (init).
const ORPHAN_WATCH = `
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData.ppid) process.kill(process.pid, 'SIGKILL');
}, 500);
`;

if (process.send) {
  new Worker(ORPHAN_WATCH, { eval: true, workerData: { ppid: process.ppid } }).unref();
  process.on('disconnect', () => process.exit(0));
  process.on('message', (request: StageChildRequest) => {
    runStageJob(request.jobId, request.data, (line) => console.error(line)).then(
      (result) => process.send!({ ok: true, result } satisfies StageChildReply),
      (error: Error) =>
        process.send!({
          ok: false,
          refused: error instanceof RefusedError,
          message: error.message,
          stack: error.stack,
        } satisfies StageChildReply),
    );
  });
}
