import type { Command } from 'commander';
import { createJudge } from '../../eval/judges/registry.js';
import { BUILTIN_JUDGE_DEFAULTS, type StackGroups } from '../../eval/judges/builtin.js';
import { JUDGE_DATA_DEFAULTS } from '../../eval/judge-data.js';
import { evaluateJudge, judgeFile, runTrainJudge, runTrainLmJudge } from '../../pipeline/judge.js';
import { nonNegativeInt, positiveInt } from '../parse.js';
import { UsageError } from '../../config/usage-error.js';
import { addJudgeFlags, judgeOptions, type JudgeFlags } from '../judge-flags.js';

interface TrainJudgeFlags {
  kind: string;
  out?: string;
  seed: number;
  epochs?: number;
  members?: number;
  goldWaves?: number | 'all';
  sentenceStack?: boolean;
  stackBalanced?: boolean;
  stackGroups?: string;
}

/** `--gold-waves`: a wave number or "all". Kept as the string "all" here, not null: commander turns a parser's null
 * into "" (a value no wave matches, which once trained a judge on no gold pair at all). */
export function goldWavesFlag(v: string): number | 'all' {
  return v === 'all' ? 'all' : positiveInt(v);
}

/** `--stack-groups`: gold or held-out. */
function stackGroupsFlag(v: string): StackGroups {
  if (v !== 'gold' && v !== 'held-out') throw new UsageError(`--stack-groups: gold or held-out, got "${v}"`);
  return v;
}

export function registerJudge(program: Command): void {
  addJudgeFlags(program.command('judge'))
    .description('add "harmful" and "score" to every {prompt, response} record of a JSONL file')
    .requiredOption('--input <file>', 'JSONL of {prompt, response} records')
    .requiredOption('--output <file>', 'where the labelled JSONL goes (written atomically)')
    .action(async (o: JudgeFlags & { input: string; output: string }) => {
      const r = await judgeFile(o.input, o.output, o.judge, judgeOptions(o));
      console.log(`${r.records} records, ${r.harmful} judged harmful; written to ${o.output}`);
    });

  program
    .command('train-judge')
    .description('train a harmfulness judge (builtin or lm) on the labelled groups and save it')
    .option('--kind <kind>', 'builtin (n-gram network) or lm (the embedded base model fine-tuned)', 'builtin')
    .option('--out <dir>', 'output folder (default: assets/judge, or assets/judge-lm for lm)')
    .option('--seed <n>', 'seed of the data split and training', nonNegativeInt, BUILTIN_JUDGE_DEFAULTS.seed)
    .option('--epochs <n>', `training epochs (default ${BUILTIN_JUDGE_DEFAULTS.epochs})`, positiveInt)
    .option(
      '--members <n>',
      `networks trained from different seeds, their probabilities averaged (default ${BUILTIN_JUDGE_DEFAULTS.members})`,
      positiveInt,
    )
    .option(
      '--gold-waves <n>',
      `train on the gold dev split's waves 1 to n, or "all" (default ${JUDGE_DATA_DEFAULTS.goldWaves}: the committed ` +
        "builtin judge's)",
      goldWavesFlag,
    )
    .option(
      '--sentence-stack',
      'builtin: also score each sentence alone and combine the logits (fitted on the held-out gold pairs; default off)',
    )
    .option('--stack-balanced', 'builtin, with --sentence-stack: fit the stack with each class half the weight')
    .option(
      '--stack-groups <groups>',
      'builtin, with --sentence-stack: fit the stack on "gold" (default) or "held-out"',
    )
    .action(async (o: TrainJudgeFlags) => {
      if (o.kind !== 'builtin' && o.kind !== 'lm') throw new UsageError(`--kind: builtin or lm, got "${o.kind}"`);
      const data = o.goldWaves === undefined ? {} : { goldWaves: o.goldWaves === 'all' ? null : o.goldWaves };
      if (o.kind === 'lm') {
        if (o.members !== undefined) throw new UsageError('--members: the lm judge has one member');
        if (o.sentenceStack || o.stackBalanced || o.stackGroups)
          throw new UsageError('--sentence-stack, --stack-balanced, --stack-groups: builtin judge options');
        const result = await runTrainLmJudge({
          ...(o.out ? { outDir: o.out } : {}),
          ...(o.epochs === undefined ? {} : { epochs: o.epochs }),
          seed: o.seed,
          data,
        });
        console.log(JSON.stringify(result));
        return;
      }
      const result = await runTrainJudge({
        ...(o.out ? { outDir: o.out } : {}),
        ...(o.epochs === undefined ? {} : { epochs: o.epochs }),
        ...(o.members === undefined ? {} : { members: o.members }),
        ...(o.sentenceStack ? { sentenceStack: true } : {}),
        ...(o.stackBalanced ? { stackBalanced: true } : {}),
        ...(o.stackGroups === undefined ? {} : { stackGroups: stackGroupsFlag(o.stackGroups) }),
        seed: o.seed,
        data,
      });
      console.log(JSON.stringify(result));
    });

  addJudgeFlags(program.command('judge-eval'))
    .description('accuracy of a judge on the held-out labelled groups, as one JSON line')
    .action(async (o: JudgeFlags) => {
      const judge = createJudge(o.judge, judgeOptions(o));
      console.log(JSON.stringify(await evaluateJudge(judge)));
    });
}
