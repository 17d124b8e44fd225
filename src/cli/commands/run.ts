import type { Command } from 'commander';
import { loadGridConfig } from '../../pipeline/grid-config.js';
import { runGrid } from '../../pipeline/grid.js';
import { reportAfterRun } from '../../report/report.js';
import { formatTable, summarize } from '../../pipeline/results.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .argument('<config>', 'grid config (YAML); see configs/ for examples')
    .description(
      'run a grid (selectors x ratios x defenses x tasks x n x p x seeds) with stage caching and resume; prints the table',
    )
    .action(async (file: string) => {
      const config = loadGridConfig(file);
      const { results } = await runGrid(config);
      reportAfterRun(config);
      console.log('');
      console.log(formatTable(summarize(results)));
      console.log(JSON.stringify({ results: `${config.run_dir}/results.json`, cells: results.length }));
    });
}
