import type { Command } from 'commander';
import { formatStatus, queueStatus } from '../../queue/status.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("a queue's stage jobs: waiting, active, done and failed, the runs, and the failures with their errors")
    .requiredOption('--queue <url>', 'the Redis of the runs (redis://HOST:PORT/DB)')
    .option('--run <run>', "one run's jobs: its id (run-...) or its run_dir")
    .option('--json', 'one JSON object instead of text')
    .action(async (flags: { queue: string; run?: string; json?: boolean }) => {
      const status = await queueStatus(flags.queue, flags.run ?? null, console.error);
      console.log(flags.json ? JSON.stringify(status) : formatStatus(status));
    });
}
