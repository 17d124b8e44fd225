import type { Command } from 'commander';
import { knobTables } from '../../pipeline/knob-tables.js';

export function registerKnobs(program: Command): void {
  program
    .command('knobs')
    .description("every selector's, defense's and judge's knobs with type, default and why (Markdown: docs/knobs.md)")
    .action(() => {
      process.stdout.write(knobTables());
    });
}
