/** The judge flags every command that scores takes (judge, judge-eval, attack's probe, eval), declared once. */
import type { Command } from 'commander';
import { HTTP_JUDGE_FORMATS, type HttpJudgeFormat } from '../eval/judges/http.js';
import { JUDGE_NAMES, type JudgeOptions } from '../eval/judges/registry.js';
import { choice } from './parse.js';

export interface JudgeFlags {
  judge: string;
  judgeDir?: string;
  url?: string;
  modelName?: string;
  judgeFormat: HttpJudgeFormat;
}

export function addJudgeFlags(command: Command, what = 'judge'): Command {
  return command
    .option('--judge <name>', `${what}: ${JUDGE_NAMES.join(', ')}`, 'builtin')
    .option('--judge-dir <dir>', 'builtin judge folder (default: the committed assets/judge)')
    .option('--url <url>', 'http judge: OpenAI-compatible base URL, e.g. http://localhost:8000/v1')
    .option('--model-name <name>', 'http judge: model name the server expects')
    .option(
      '--judge-format <format>',
      `http judge: request format, ${HTTP_JUDGE_FORMATS.join(' or ')}`,
      (value: string) => choice('--judge-format', value, HTTP_JUDGE_FORMATS),
      'classifier',
    );
}

export const judgeOptions = (o: JudgeFlags): JudgeOptions => ({
  dir: o.judgeDir,
  url: o.url,
  model: o.modelName,
  format: o.judgeFormat,
});
