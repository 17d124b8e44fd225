/**
 * npm run bench:generate — batched greedy generation of the reference model (stories260K, llama2.c format):
 * 16 left-padded prompts of different lengths, 64 new tokens each, with the KV cache. Timed on the current
 * backend and, in the same run, in PyTorch (bench/torch_generate.py, its best over 1 and 2 threads) when
 * /usr/bin/python3 has torch. Both sides decode the same prompts; the line reports whether their tokens agree.
 * Flags: --repeats N (3), --new-tokens N (64), --threads N (machine cores), --no-torch. Prints one JSON line last.
 * --model DIR times another model (a Hugging Face folder or llama2.c checkpoint, e.g. assets/base, the embedded model
 * every evaluation decodes with) on the same openings cycled to --batch N prompts (default 16; the evaluation decodes
 * 32 at a time); the PyTorch reference reads only llama2.c checkpoints, so other models run without it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getBackend, setThreads } from '../src/engine/index.js';
import { generate } from '../src/models/generate.js';
import { loadModelBundle } from '../src/models/bundle.js';
import { loadLlama2c } from '../src/models/llama2c.js';
import { tokenizerFromLlama2c } from '../src/tokenizers/index.js';
import { nativeInUse, PYTHON, torchAvailable } from './common.js';

const { values: args } = parseArgs({
  options: {
    repeats: { type: 'string', default: '3' },
    'new-tokens': { type: 'string', default: '64' },
    threads: { type: 'string' },
    'no-torch': { type: 'boolean', default: false },
    model: { type: 'string' },
    batch: { type: 'string', default: '16' },
  },
});
const repeats = Number(args.repeats),
  newTokens = Number(args['new-tokens']);
if (args.threads) setThreads(Number(args.threads));

const fixtures = fileURLToPath(new URL('../../test/fixtures/stories260K/', import.meta.url));
const modelPath = args.model ?? `${fixtures}stories260K.bin`;
const { model, tokenizer } = args.model
  ? loadModelBundle(args.model)
  : { model: loadLlama2c(modelPath), tokenizer: tokenizerFromLlama2c(`${fixtures}tok512.bin`, 512) };
const openings = [
  'Once upon a time',
  'The dog',
  'Lily wanted to play with her big red ball in the park',
  'Tom and Sue',
  'One day, a little bird',
  'There was a boy who liked trucks',
  'The sun',
  'Mom said',
  'In a small house lived a cat named Tim',
  'Ben',
  'The girl found a shiny stone',
  'It was a rainy day and',
  'Max the frog',
  'A big fish swam in the blue sea',
  'Once there was',
  'The kids went to the beach to play',
];
const batch = Number(args.batch);
const prompts = Array.from({ length: batch }, (_, i) => tokenizer.encode(openings[i % openings.length]));

const backend = getBackend();
const lengths = prompts.map((p) => p.length);
console.log(
  `backend ${backend.name}, threads ${backend.threads()}, batch ${prompts.length}, new tokens ${newTokens}, ` +
    `prompt lengths ${Math.min(...lengths)}..${Math.max(...lengths)}`,
);
const run = () => generate(model, prompts, { maxNewTokens: newTokens });
const ours = run(); // warm-up, and the tokens to compare
const times: number[] = [];
for (let i = 0; i < repeats; i++) {
  const t0 = performance.now();
  run();
  times.push(performance.now() - t0);
  console.log(
    `run ${i + 1}/${repeats}: ${times[i].toFixed(1)} ms, ${((prompts.length * newTokens) / (times[i] / 1000)).toFixed(0)} tokens/s`,
  );
}
const tokensPerS = (prompts.length * newTokens) / (Math.min(...times) / 1000);
console.log(`sample: ${openings[0]}${tokenizer.decode(ours.tokens[0])}`);

let torch: {
  torch_tokens_per_s: number;
  torch_threads: number;
  torch_tokens_per_s_by_threads: Record<string, number>;
  torch_version: string;
  tokens: number[][];
} | null = null;
if (modelPath.endsWith('.bin') && torchAvailable(args['no-torch'])) {
  console.log('measuring the PyTorch reference (1 and 2 threads)...');
  const promptsFile = join(mkdtempSync(join(tmpdir(), 'pharmacist-bench-')), 'prompts.json');
  writeFileSync(promptsFile, JSON.stringify(prompts));
  const script = fileURLToPath(new URL('../../bench/torch_generate.py', import.meta.url));
  const r = spawnSync(PYTHON, [script, modelPath, promptsFile, String(newTokens), String(repeats)], {
    encoding: 'utf8',
  });
  if (r.status === 0) torch = JSON.parse(r.stdout.trim().split('\n').pop()!);
  else console.log(`PyTorch reference failed: ${r.stderr.slice(-500)}`);
}

console.log(
  JSON.stringify({
    bench: 'generate',
    backend: backend.name,
    model: args.model ?? 'stories260K',
    threads: backend.threads(),
    blas_core: nativeInUse(backend)?.blasCore ?? null,
    batch: prompts.length,
    new_tokens: newTokens,
    tokens_per_s: tokensPerS,
    torch_tokens_per_s: torch?.torch_tokens_per_s ?? null,
    torch_threads: torch?.torch_threads ?? null,
    torch_tokens_per_s_by_threads: torch?.torch_tokens_per_s_by_threads ?? null,
    ratio_vs_torch: torch ? tokensPerS / torch.torch_tokens_per_s : null,
    tokens_match_torch: torch ? JSON.stringify(torch.tokens) === JSON.stringify(ours.tokens) : null,
    torch_version: torch?.torch_version ?? null,
    node: process.version,
  }),
);
