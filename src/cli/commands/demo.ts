import type { Command } from 'commander';
import { DEMO_GRID, demoConfig, runDemo } from '../../pipeline/demo.js';
import { reportAfterRun } from '../reporting.js';
import { fromSection, parseKnobOverrides, toSection, withDefaults } from '../../config/knobs.js';
import { ATTACK_KNOBS } from '../../pipeline/stage-runs.js';
import { addPrefixedFlags, prefixedValues } from '../knob-flags.js';
import { SELECTOR_KNOBS } from '../../select/registry.js';
import { nonNegativeInt, positiveInt, probability } from '../parse.js';

/** `--pharmacist-option` pairs as the grid's select.pharmacist section (snake_case), checked against the knobs. */
function pharmacistSection(pairs: readonly string[]): Record<string, unknown> {
  return toSection(parseKnobOverrides('pharmacist', SELECTOR_KNOBS.pharmacist, pairs, '--pharmacist-option'));
}

export function registerDemo(program: Command): void {
  const g = DEMO_GRID;
  const command = program
    .command('demo')
    .description(
      'Full vs Random vs Pharmacist vs the refusal and shortest controls (k = 40%) with SFT alignment, the ' +
        "demo's attack and evaluation, on the embedded default; the last line is JSON",
    )
    .option('--seeds <n>', 'number of seeds to average over', positiveInt, 1)
    .option('--first-seed <n>', 'first seed', nonNegativeInt, 0)
    .option('--ratio <r>', 'kept fraction of the pool', probability)
    .option('--selectors <list>', 'comma-separated selectors', g.grid!.selector!.join(','))
    .option(
      '--pharmacist-option <knob=value>',
      'a Pharmacist selector knob, repeatable (e.g. safety=none, warmupEpochs=1; `pharmacist knobs` lists them)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--run-dir <dir>', 'stage cache and results store (a rerun reuses finished stages)', g.run_dir);
  // --attack-lr, --attack-epochs, ...: the attack's knobs, over the demo's (a flag not given changes nothing).
  const demoAttack = withDefaults(
    ATTACK_KNOBS,
    fromSection(ATTACK_KNOBS, demoConfig({ seeds: 1, firstSeed: 0 }).attack),
  );
  addPrefixedFlags(command, 'attack', demoAttack, false).action(
    async (o: {
      seeds: number;
      firstSeed: number;
      ratio?: number;
      selectors: string;
      pharmacistOption: string[];
      runDir: string;
    }) => {
      const { arms, config } = await runDemo({
        seeds: o.seeds,
        firstSeed: o.firstSeed,
        overrides: {
          run_dir: o.runDir,
          grid: { selector: o.selectors.split(',').filter(Boolean), ...(o.ratio ? { ratio: [o.ratio] } : {}) },
          attack: toSection(prefixedValues(o, 'attack', ATTACK_KNOBS)),
          select: { pharmacist: pharmacistSection(o.pharmacistOption) },
        },
      });
      reportAfterRun(config);
      console.log(
        JSON.stringify({
          arms: arms.map((a) => ({
            selector: a.selector,
            k: a.k,
            harmful_score: a.harmful_score,
            finetune_accuracy: a.finetune_accuracy,
            select_seconds: a.select_seconds,
            align_seconds: a.align_seconds,
            harmful_score_sd: a.harmful_score_sd,
            finetune_accuracy_sd: a.finetune_accuracy_sd,
            harmful_score_ci: a.harmful_score_ci,
            harmful_score_ci_over: a.harmful_score_ci_over,
            harmful_margin: a.harmful_margin,
            paired: a.paired,
            harmful_score_by_attack_epoch: a.harmful_score_by_attack_epoch,
            seeds: a.seeds,
          })),
        }),
      );
    },
  );
}
