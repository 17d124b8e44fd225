import type { Command } from 'commander';
import { join } from 'node:path';
import { loadGridConfig, presetConfig } from '../../pipeline/grid-config.js';
import { runGrid } from '../../pipeline/grid.js';
import { reportAfterRun } from '../../report/report.js';
import { formatTable, summarize } from '../../pipeline/results.js';
import { choice } from '../parse.js';

export const PRESETS = ['quick', 'paper'] as const;

export function registerReproduce(program: Command): void {
  program
    .command('reproduce')
    .description("the grid behind the paper's tables on the embedded default (configs/reproduce-<preset>.yaml), resumable, then the report")
    .option('--preset <name>', `${PRESETS.join(' (about 20 minutes here) or ')} (hours)`, 'quick')
    .option('--run-dir <dir>', 'stage cache, results and report (default: the preset\'s)')
    .action(async (o: { preset: string; runDir?: string }) => {
      const preset = choice('--preset', o.preset, PRESETS);
      const config = loadGridConfig(presetConfig(preset));
      if (o.runDir) config.run_dir = o.runDir;
      const { results } = await runGrid(config);
      reportAfterRun(config);
      console.log('');
      console.log(formatTable(summarize(results)));
      console.log(JSON.stringify({ preset, results: join(config.run_dir, 'results.json'), report: join(config.run_dir, 'report.html'), cells: results.length }));
    });
}
