import type { Command } from 'commander';
import { basename, join } from 'node:path';
import { loadGridConfig, presetConfigs, stagesDir } from '../../pipeline/grid-config.js';
import { runGrid } from '../../pipeline/grid.js';
import { reportAfterRun } from '../reporting.js';
import { formatTable, summarize } from '../../pipeline/results.js';
import { choice } from '../parse.js';

export const PRESETS = ['quick', 'decide', 'paper'] as const;
const PRESET_TIMES: Record<(typeof PRESETS)[number], string> = {
  quick: 'about 20 minutes here',
  decide: 'about 17 minutes per seed here, 3 hours for its ten',
  paper: 'days on 2 cores',
};

export function registerReproduce(program: Command): void {
  program
    .command('reproduce')
    .description(
      "the grids behind the paper's tables on the embedded default " +
        '(configs/reproduce-<preset>.yaml or configs/reproduce-<preset>/), resumable, each with its report',
    )
    .option('--preset <name>', PRESETS.map((p) => `${p} (${PRESET_TIMES[p]})`).join(', '), 'quick')
    .option(
      '--run-dir <dir>',
      "results and reports (default: the preset's); " +
        'a preset of several grids puts each in a subfolder and their shared stages in <dir>/stages',
    )
    .action(async (o: { preset: string; runDir?: string }) => {
      const preset = choice('--preset', o.preset, PRESETS);
      const files = presetConfigs(preset);
      const configs = files.map((file) => {
        const config = loadGridConfig(file);
        if (o.runDir && files.length === 1) config.run_dir = o.runDir;
        if (o.runDir && files.length > 1)
          Object.assign(config, {
            run_dir: join(o.runDir, basename(file).replace(/\.ya?ml$/, '')),
            stages_dir: join(o.runDir, 'stages'),
          });
        return config;
      });
      const summary = [];
      for (const [i, config] of configs.entries()) {
        if (configs.length > 1)
          console.error(`=== grid ${i + 1}/${configs.length}: ${basename(files[i])} (stages in ${stagesDir(config)})`);
        const { results } = await runGrid(config);
        reportAfterRun(config);
        console.log('');
        console.log(formatTable(summarize(results)));
        summary.push({
          grid: basename(files[i]),
          results: join(config.run_dir, 'results.json'),
          report: join(config.run_dir, 'report.html'),
          cells: results.length,
        });
      }
      console.log(JSON.stringify({ preset, grids: summary }));
    });
}
