import type { Command } from 'commander';
import { SELFTEST_DEFAULTS, runSelftest } from '../../pipeline/selftest.js';
import { nonNegativeInt, positiveInt } from '../parse.js';

export function registerSelftest(program: Command): void {
  program
    .command('selftest')
    .description('train a small GPT on a fixed batch to check the engine here; writes a run record')
    .option('--seed <n>', 'random seed', nonNegativeInt, SELFTEST_DEFAULTS.seed)
    .option('--steps <n>', 'training steps', positiveInt, SELFTEST_DEFAULTS.steps)
    .option('--out <dir>', 'output directory for record.json', SELFTEST_DEFAULTS.outDir)
    .action((opts: { seed: number; steps: number; out: string }) => {
      const result = runSelftest({ seed: opts.seed, steps: opts.steps, outDir: opts.out });
      const ok = result.lastLoss < 0.5 * result.firstLoss;
      console.log(
        `loss ${result.firstLoss.toFixed(4)} -> ${result.lastLoss.toFixed(4)} ` +
          `(${ok ? 'ok' : 'did not fall by half'}); record: ${result.recordPath}`,
      );
      if (!ok) process.exitCode = 1;
    });
}
