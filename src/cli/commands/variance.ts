import type { Command } from 'commander';
import { formatVarianceTable } from '../../eval/variance.js';
import { varianceByArm } from '../../pipeline/variance-run.js';
import { loadResults } from '../../report/report.js';

export function registerVariance(program: Command): void {
  program
    .command('variance')
    .argument('<results>', "a grid's run folder or its results.json (a grid crossing select, align and attack seeds)")
    .description(
      "where the harmful score's variance comes from, per arm: selection, alignment, attack and evaluation " +
        '(nested random-effects ANOVA); a table per arm, then one JSON line',
    )
    .action((results: string) => {
      const arms = varianceByArm(loadResults(results).results);
      for (const a of arms) console.log(`\n### ${a.arm} (${a.cells} cells)\n\n${formatVarianceTable(a.components)}`);
      console.log(JSON.stringify({ arms: arms.map((a) => ({ arm: a.arm, cells: a.cells, ...a.components })) }));
    });
}
