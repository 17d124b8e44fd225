import type { Command } from 'commander';
import { runWorldCheck, TASK_NAMES, WORLD_CHECK_DEFAULTS } from '../../pipeline/world-check.js';
import { choice, nonNegativeInt, positiveInt, positiveNumber } from '../parse.js';

export function registerWorldCheck(program: Command): void {
  const d = WORLD_CHECK_DEFAULTS;
  program
    .command('world-check')
    .description(
      'base -> SFT-aligned -> attacked: harmful scores and fine-tune accuracy of the embedded world, as one JSON line',
    )
    .option('--model <dir>', 'base model folder', d.model)
    .option('--task <name>', `fine-tuning task: ${TASK_NAMES.join(', ')}`, d.world.task)
    .option('--seed <n>', 'world and training seed', nonNegativeInt, d.world.seed)
    .option('--eval-harmful <n>', 'harmful evaluation prompts', positiveInt, d.world.evalHarmfulSize)
    .option('--eval-task <n>', 'task test items', positiveInt, d.world.evalTaskSize)
    .option('--align-epochs <n>', 'SFT alignment epochs', positiveInt, d.alignEpochs)
    .option('--attack-epochs <n>', 'attack epochs', positiveInt, d.attackEpochs)
    .option('--attack-lr <x>', 'attack LoRA learning rate', positiveNumber, d.attackLr)
    .option('--run-dir <dir>', 'where the run record goes', d.runDir)
    .action(
      async (o: {
        model: string;
        task: string;
        seed: number;
        evalHarmful: number;
        evalTask: number;
        alignEpochs: number;
        attackEpochs: number;
        attackLr: number;
        runDir: string;
      }) => {
        const summary = await runWorldCheck({
          ...d,
          model: o.model,
          runDir: o.runDir,
          alignEpochs: o.alignEpochs,
          attackEpochs: o.attackEpochs,
          attackLr: o.attackLr,
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
