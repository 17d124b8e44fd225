import type { Command } from 'commander';
import { runWorldCheck, TASK_NAMES, WORLD_CHECK_DEFAULTS } from '../../pipeline/world-check.js';
import { ATTACK_TRAINING_KNOBS } from '../../pipeline/stage-runs.js';
import { TRAINING_KNOBS } from '../../train/sft.js';
import { addPrefixedFlags, prefixedValues } from '../knob-flags.js';
import { choice, nonNegativeInt, positiveInt } from '../parse.js';

export function registerWorldCheck(program: Command): void {
  const d = WORLD_CHECK_DEFAULTS;
  const command = program
    .command('world-check')
    .description(
      'base -> SFT-aligned -> attacked: harmful scores and fine-tune accuracy of the embedded world, as one JSON line',
    )
    .option('--model <dir>', 'base model folder', d.model)
    .option('--task <name>', `fine-tuning task: ${TASK_NAMES.join(', ')}`, d.world.task)
    .option('--seed <n>', 'world and training seed', nonNegativeInt, d.world.seed)
    .option('--eval-harmful <n>', 'harmful evaluation prompts', positiveInt, d.world.evalHarmfulSize)
    .option('--eval-task <n>', 'task test items', positiveInt, d.world.evalTaskSize)
    .option('--run-dir <dir>', 'where the run record goes', d.runDir);
  // --align-epochs, --attack-lr, ...: the training knobs of both stages, at each stage's defaults.
  addPrefixedFlags(addPrefixedFlags(command, 'align', TRAINING_KNOBS), 'attack', ATTACK_TRAINING_KNOBS).action(
    async (o: { model: string; task: string; seed: number; evalHarmful: number; evalTask: number; runDir: string }) => {
      const summary = await runWorldCheck({
        ...d,
        model: o.model,
        runDir: o.runDir,
        align: { ...d.align, ...prefixedValues(o, 'align', TRAINING_KNOBS) },
        attack: { ...d.attack, ...prefixedValues(o, 'attack', ATTACK_TRAINING_KNOBS) },
        world: {
          ...d.world,
          task: choice('--task', o.task, TASK_NAMES),
          seed: o.seed,
          evalHarmfulSize: o.evalHarmful,
          evalTaskSize: o.evalTask,
        },
      });
      console.log(JSON.stringify(summary));
    },
  );
}
