import type { Command } from 'commander';
import { GENERATION_DEFAULTS, generateText, loadModelBundle } from '../../pipeline/generate-text.js';

import { nonNegativeInt, positiveInt, positiveNumber, probability } from '../parse.js';
import { UsageError } from '../../config/usage-error.js';

interface GenerateOptions {
  model: string;
  prompt: string[];
  maxNewTokens: number;
  greedy: boolean;
  temperature: number;
  topP: number;
  seed: number;
  alpaca: boolean;
  profile: 'response-newline' | 'response-colon';
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('continue a prompt with a model (Hugging Face folder, or llama2.c .bin with its tokenizer beside it)')
    .requiredOption('--model <path>', 'model folder or llama2.c .bin checkpoint')
    .requiredOption('--prompt <text...>', 'prompt text (several prompts run as one left-padded batch)')
    .option('--max-new-tokens <n>', 'tokens to generate at most', positiveInt, GENERATION_DEFAULTS.maxNewTokens)
    .option('--greedy', 'always take the most likely token (default: sample)', false)
    .option('--temperature <t>', 'sampling temperature', positiveNumber, GENERATION_DEFAULTS.temperature)
    .option('--top-p <p>', 'nucleus sampling mass', probability, GENERATION_DEFAULTS.topP)
    .option('--seed <n>', 'sampling seed', nonNegativeInt, GENERATION_DEFAULTS.seed)
    .option('--alpaca', 'wrap the prompt in the Alpaca instruction template', false)
    .option('--profile <name>', 'Alpaca profile: response-newline or response-colon', 'response-newline')
    .action((opts: GenerateOptions) => {
      if (opts.profile !== 'response-newline' && opts.profile !== 'response-colon')
        throw new UsageError(`--profile: expected response-newline or response-colon, got "${opts.profile}"`);
      const bundle = loadModelBundle(opts.model);
      const results = generateText(bundle, opts.prompt, {
        maxNewTokens: opts.maxNewTokens,
        greedy: opts.greedy,
        temperature: opts.temperature,
        topP: opts.topP,
        seed: opts.seed,
        alpaca: opts.alpaca,
        profile: opts.profile,
      });
      for (const r of results) console.log(r.completion);
    });
}
