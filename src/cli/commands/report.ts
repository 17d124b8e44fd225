import type { Command } from 'commander';
import { dirname, join } from 'node:path';
import { statSync } from 'node:fs';
import { loadResults } from '../../report/report.js';
import { reportOf } from '../reporting.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .argument('<results>', "a grid's run folder or its results.json")
    .option('--out <dir>', 'output folder (default: the run folder)')
    .description('rebuild report.md (with SVG figures) and a self-contained report.html from a results store')
    .action((results: string, o: { out?: string }) => {
      const store = loadResults(results);
      const out = o.out ?? (statSync(results).isDirectory() ? results : dirname(results));
      const report = reportOf(store, out);
      console.log(
        JSON.stringify({
          markdown: join(out, 'report.md'),
          html: join(out, 'report.html'),
          figures: report.figures.length,
          cells: store.results.length,
        }),
      );
    });
}
