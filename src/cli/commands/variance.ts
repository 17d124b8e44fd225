import type { Command } from 'commander';
import { formatProtocolTable, formatVarianceTable } from '../../eval/variance.js';
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
      // What the components say about a protocol for each pair of arms: attack repeats and prompts vs seeds.
      const protocols = [1, 2, 3, 5].flatMap((repeats) => [200, 500].map((prompts) => ({ repeats, prompts })));
      for (const [i, a] of arms.entries())
        for (const b of arms.slice(i + 1))
          console.log(
            `\n### ${a.arm} - ${b.arm}: projected per-seed paired SD (one world's components; the world's own ` +
              `spread not included)\n\n${formatProtocolTable(a.components, b.components, protocols)}`,
          );
      console.log(JSON.stringify({ arms: arms.map((a) => ({ arm: a.arm, cells: a.cells, ...a.components })) }));
    });
}
