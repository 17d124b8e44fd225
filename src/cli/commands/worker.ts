import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { splitCores } from '../../pipeline/grid-plan.js';
import { runWorker } from '../../queue/worker.js';
import { positiveInt, positiveNumber } from '../parse.js';

interface WorkerFlags {
  queue: string;
  threads?: number;
  concurrency: number;
  lockSeconds: number;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'compute the stages that `pharmacist run --queue` enqueues; run one per machine that sees the stage store',
    )
    .requiredOption('--queue <url>', 'the Redis of the runs (redis://HOST:PORT/DB)')
    .option(
      '--threads <n>',
      'kernel threads per stage (default: the cores split whole over the concurrent stages)',
      positiveInt,
    )
    .option('--concurrency <c>', 'stages at a time', positiveInt, 1)
    .option(
      '--lock-seconds <s>',
      "a job's lock; a killed worker's stage moves to another after about this",
      positiveNumber,
      30,
    )
    .action(async (flags: WorkerFlags) => {
      process.exitCode = await runWorker({
        url: flags.queue,
        concurrency: flags.concurrency,
        threads: flags.threads
          ? Array.from({ length: flags.concurrency }, () => flags.threads!)
          : splitCores(availableParallelism(), flags.concurrency),
        lockSeconds: flags.lockSeconds,
        log: console.error,
      });
    });
}
