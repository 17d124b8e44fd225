import type { Command } from 'commander';
import { loadGridConfig } from '../../pipeline/grid-config.js';
import { runGrid } from '../../pipeline/grid.js';
import { runGridOnQueue } from '../../queue/coordinator.js';
import { reportAfterRun } from '../reporting.js';
import { formatTable, summarize } from '../../pipeline/results.js';
import { nonNegativeNumber, positiveInt } from '../parse.js';

interface RunFlags {
  queue?: string;
  attempts: number;
  backoff: number;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .argument('<config>', 'grid config (YAML); see configs/ for examples')
    .description(
      'run a grid (selectors x ratios x defenses x tasks x n x p x seeds) with stage caching and resume; prints the table',
    )
    .option(
      '--queue <url>',
      'enqueue the stages on Redis (redis://HOST:PORT/DB) for `pharmacist worker`s and follow them',
    )
    .option('--attempts <n>', 'with --queue: tries of a failing stage before it counts as failed', positiveInt, 3)
    .option('--backoff <seconds>', "with --queue: the first retry's delay, doubled each time", nonNegativeNumber, 10)
    .action(async (file: string, flags: RunFlags) => {
      const config = loadGridConfig(file);
      let results;
      if (flags.queue) {
        const run = await runGridOnQueue(config, {
          url: flags.queue,
          attempts: flags.attempts,
          backoffSeconds: flags.backoff,
          log: console.error,
          progress: console.error,
        });
        results = run.results;
        if (run.failures.length > 0) {
          for (const f of run.failures)
            console.error(`cell ${f.cell + 1}: ${f.stage} stage ${f.job} failed after ${f.attempts} tries: ${f.error}`);
          console.log(
            JSON.stringify({
              results: `${config.run_dir}/results.json`,
              cells: results.length,
              failed: run.failures.length,
            }),
          );
          throw new Error(
            `${run.failures.length} of ${results.length + run.failures.length} cells failed (run ${run.run})`,
          );
        }
      } else results = (await runGrid(config)).results;
      reportAfterRun(config);
      console.log('');
      console.log(formatTable(summarize(results)));
      console.log(JSON.stringify({ results: `${config.run_dir}/results.json`, cells: results.length }));
    });
}
