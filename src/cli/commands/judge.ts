import type { Command } from 'commander';
import { createJudge, JUDGE_NAMES } from '../../eval/judges/registry.js';
import { BUILTIN_JUDGE_DEFAULTS } from '../../eval/judges/builtin.js';
import { HTTP_JUDGE_FORMATS } from '../../eval/judges/http.js';
import { evaluateJudge, judgeFile, runTrainJudge } from '../../pipeline/judge.js';
import { choice, nonNegativeInt, positiveInt } from '../parse.js';

const FORMAT_HELP = `http judge: request format, ${HTTP_JUDGE_FORMATS.join(' or ')}`;
const judgeFormat = (value: string) => choice('--judge-format', value, HTTP_JUDGE_FORMATS);

export function registerJudge(program: Command): void {
  program
    .command('judge')
    .description('add "harmful" and "score" to every {prompt, response} record of a JSONL file')
    .requiredOption('--input <file>', 'JSONL of {prompt, response} records')
    .requiredOption('--output <file>', 'where the labelled JSONL goes (written atomically)')
    .option('--judge <name>', `judge: ${JUDGE_NAMES.join(', ')}`, 'builtin')
    .option('--judge-dir <dir>', 'builtin judge folder (default: the committed assets/judge)')
    .option('--url <url>', 'http judge: OpenAI-compatible base URL, e.g. http://localhost:8000/v1')
    .option('--model-name <name>', 'http judge: model name the server expects')
    .option('--judge-format <format>', FORMAT_HELP, judgeFormat, 'classifier')
    .action(
      async (o: {
        input: string;
        output: string;
        judge: string;
        judgeDir?: string;
        url?: string;
        modelName?: string;
        judgeFormat: (typeof HTTP_JUDGE_FORMATS)[number];
      }) => {
        const r = await judgeFile(o.input, o.output, o.judge, {
          dir: o.judgeDir,
          url: o.url,
          model: o.modelName,
          format: o.judgeFormat,
        });
        console.log(`${r.records} records, ${r.harmful} judged harmful; written to ${o.output}`);
      },
    );

  program
    .command('train-judge')
    .description('train the builtin harmfulness judge on the labelled groups and save it (default assets/judge)')
    .option('--out <dir>', 'output folder (default: assets/judge)')
    .option('--seed <n>', 'seed of the data split and training', nonNegativeInt, BUILTIN_JUDGE_DEFAULTS.seed)
    .option('--epochs <n>', `training epochs (default ${BUILTIN_JUDGE_DEFAULTS.epochs})`, positiveInt)
    .action(async (o: { out?: string; seed: number; epochs?: number }) => {
      const result = await runTrainJudge({
        ...(o.out ? { outDir: o.out } : {}),
        ...(o.epochs === undefined ? {} : { epochs: o.epochs }),
        seed: o.seed,
      });
      console.log(JSON.stringify(result));
    });

  program
    .command('judge-eval')
    .description('accuracy of a judge on the held-out labelled groups, as one JSON line')
    .option('--judge <name>', `judge: ${JUDGE_NAMES.join(', ')}`, 'builtin')
    .option('--judge-dir <dir>', 'builtin judge folder (default: the committed assets/judge)')
    .option('--url <url>', 'http judge: OpenAI-compatible base URL')
    .option('--model-name <name>', 'http judge: model name')
    .option('--judge-format <format>', FORMAT_HELP, judgeFormat, 'classifier')
    .action(
      async (o: {
        judge: string;
        judgeDir?: string;
        url?: string;
        modelName?: string;
        judgeFormat: (typeof HTTP_JUDGE_FORMATS)[number];
      }) => {
        const judge = createJudge(o.judge, { dir: o.judgeDir, url: o.url, model: o.modelName, format: o.judgeFormat });
        console.log(JSON.stringify(await evaluateJudge(judge)));
      },
    );
}
