/**
 * `pharmacist pretrain`: the embedded base model. Trains a byte-level BPE tokenizer on the pretraining
 * corpus (src/data/pretraining.ts), then a small Llama on the packed token stream, and writes both in the
 * Hugging Face layout (config.json, model.safetensors, tokenizer.json, generation_config.json) plus a run
 * record. Checkpoints every few hundred steps; rerunning the same command resumes.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packedBatches } from '../data/batch.js';
import { pretrainingCorpus } from '../data/pretraining.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { sha256Files } from '../io/hash.js';
import { LlamaModel, type LlamaConfig } from '../models/llama.js';
import { savePretrained } from '../models/pretrained.js';
import { Tokenizer, trainByteLevelBpe } from '../tokenizers/index.js';
import { train, formatSeconds } from '../train/trainer.js';
import { describeEnvironment } from './environment.js';

export interface PretrainConfig {
  /** Seed of the corpus order, initialisation and batches. Default 0. */
  seed: number;
  /** Where the model goes (HF layout). Default assets/base. */
  outDir: string;
  /** Checkpoints and the run record. Default runs/pretrain. */
  runDir: string;
  /** BPE vocabulary, special tokens included. Default 4096. */
  vocabSize: number;
  /** Default 256. */
  hiddenSize: number;
  /** Default 6. */
  numLayers: number;
  /** Default 8. */
  numHeads: number;
  /** Default 4. */
  numKvHeads: number;
  /** SwiGLU width. Default 704. */
  intermediateSize: number;
  /** Training window. Default 256. */
  seqLen: number;
  /** Rotary table length (longest prompt + answer at inference). Default 512. */
  maxPositions: number;
  /** Windows per step. Default 16. */
  batchSize: number;
  /** Default 1800 (about 7.4M tokens, 1.9 passes over the corpus). */
  steps: number;
  /** Peak learning rate, cosine to lr * minLrRatio. Default 1e-3. */
  lr: number;
  /** Default 100. */
  warmupSteps: number;
  /** Default 0.1. */
  minLrRatio: number;
  /** On matrices only. Default 0.1. */
  weightDecay: number;
  /** Default 0.95. */
  beta2: number;
}

export const PRETRAIN_DEFAULTS: PretrainConfig = {
  seed: 0,
  outDir: 'assets/base',
  runDir: 'runs/pretrain',
  vocabSize: 4096,
  hiddenSize: 256,
  numLayers: 6,
  numHeads: 8,
  numKvHeads: 4,
  intermediateSize: 704,
  seqLen: 256,
  maxPositions: 512,
  batchSize: 16,
  steps: 1800,
  lr: 1e-3,
  warmupSteps: 100,
  minLrRatio: 0.1,
  weightDecay: 0.1,
  beta2: 0.95,
};

export const SPECIAL_TOKENS = { pad: '<pad>', bos: '<s>', eos: '</s>' };

export interface PretrainResult {
  outDir: string;
  recordPath: string;
  finalLoss: number;
}

export function runPretrain(config: PretrainConfig, log: (line: string) => void = console.error): PretrainResult {
  const started = new Date().toISOString();
  const corpus = pretrainingCorpus(config.seed);
  const bySource: Record<string, number> = {};
  for (const c of corpus) bySource[c.source] = (bySource[c.source] ?? 0) + 1;
  log(`corpus: ${corpus.length} samples ${JSON.stringify(bySource)}`);

  mkdirSync(config.runDir, { recursive: true });
  const tokenizerPath = join(config.runDir, 'tokenizer.json');
  let tokenizer: Tokenizer;
  if (existsSync(tokenizerPath)) {
    tokenizer = Tokenizer.fromFile(tokenizerPath); // a resumed run keeps its tokenizer
  } else {
    tokenizer = trainByteLevelBpe(
      corpus.map((c) => c.prompt + c.answer),
      {
        vocabSize: config.vocabSize,
        specialTokens: [SPECIAL_TOKENS.pad, SPECIAL_TOKENS.bos, SPECIAL_TOKENS.eos],
        bosToken: SPECIAL_TOKENS.bos,
      },
    );
    tokenizer.save(tokenizerPath);
  }
  const eos = tokenizer.tokenToId(SPECIAL_TOKENS.eos)!;
  const pieces: number[] = [];
  for (const c of corpus) pieces.push(...tokenizer.encode(c.prompt + c.answer), eos);
  const stream = Int32Array.from(pieces);
  log(
    `tokenizer: ${tokenizer.vocabSize} tokens; stream: ${stream.length} tokens (${(stream.length / corpus.length).toFixed(1)} per sample)`,
  );

  const modelConfig: LlamaConfig = {
    vocabSize: tokenizer.vocabSize,
    hiddenSize: config.hiddenSize,
    intermediateSize: config.intermediateSize,
    numLayers: config.numLayers,
    numHeads: config.numHeads,
    numKvHeads: config.numKvHeads,
    maxPositions: config.maxPositions,
    tieWordEmbeddings: true,
    rmsNormEps: 1e-5,
  };
  const model = new LlamaModel(modelConfig, config.seed);
  log(
    `model: Llama, ${model.params.count()} parameters; ${config.steps} steps of ${config.batchSize} x ${config.seqLen} tokens`,
  );
  const result = train(
    model,
    model.params.list(),
    packedBatches(stream, config.batchSize, config.seqLen, config.seed),
    {
      steps: config.steps,
      lr: config.lr,
      schedule: 'cosine',
      warmupSteps: config.warmupSteps,
      minLrRatio: config.minLrRatio,
      weightDecay: config.weightDecay,
      beta2: config.beta2,
      gradClip: 1,
      logEvery: 25,
      checkpointDir: join(config.runDir, 'checkpoint'),
      checkpointEvery: 100,
    },
    { log },
  );

  savePretrained(config.outDir, model);
  tokenizer.save(join(config.outDir, 'tokenizer.json'));
  const ids = {
    pad_token_id: tokenizer.tokenToId(SPECIAL_TOKENS.pad),
    bos_token_id: tokenizer.tokenToId(SPECIAL_TOKENS.bos),
    eos_token_id: eos,
  };
  writeJsonAtomic(join(config.outDir, 'generation_config.json'), { ...ids, do_sample: false });
  const recordPath = join(config.runDir, 'record.json');
  const hashes = Object.fromEntries(
    ['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => [f, sha256Files(join(config.outDir, f))]),
  );
  writeJsonAtomic(recordPath, {
    kind: 'pretrain',
    started,
    finished: new Date().toISOString(),
    config,
    seed: config.seed,
    environment: describeEnvironment(),
    corpus: { samples: corpus.length, bySource, tokens: stream.length },
    model: { ...modelConfig, parameters: model.params.count() },
    timings: {
      trainSeconds: result.seconds,
      stepsRun: result.stepsRun,
      resumedFrom: result.resumedFrom,
      secondsPerStep: result.seconds / Math.max(1, result.stepsRun),
    },
    results: { losses: result.losses, finalLoss: mean(result.losses.slice(-25)) },
    outputs: hashes,
  });
  writeModelCard(config, recordPath);
  log(
    `done in ${formatSeconds(result.seconds)}; final loss ${mean(result.losses.slice(-25)).toFixed(4)}; ` +
      `model in ${config.outDir}, record ${recordPath}`,
  );
  return { outDir: config.outDir, recordPath, finalLoss: mean(result.losses.slice(-25)) };
}

/** README.md and the run record beside the weights: how to reproduce them, and what the run measured. */
export function writeModelCard(config: PretrainConfig, recordPath: string): void {
  const record = JSON.parse(readFileSync(recordPath, 'utf8')) as {
    corpus: { samples: number; tokens: number; bySource: Record<string, number> };
    model: { parameters: number };
    timings: { trainSeconds: number; stepsRun: number };
    results: { finalLoss: number };
    environment: { backend: string; threads: number; pharmacist: string };
    outputs: Record<string, string>;
  };
  writeJsonAtomic(join(config.outDir, 'pretrain-record.json'), record);
  const flags = Object.entries(config).filter(
    ([k, v]) => (PRETRAIN_DEFAULTS as unknown as Record<string, unknown>)[k] !== v && k !== 'outDir' && k !== 'runDir',
  );
  const kebabCase = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const command = `npx pharmacist pretrain${flags.map(([k, v]) => ` --${kebabCase(k)} ${v}`).join('')}`;
  writeFileAtomic(
    join(config.outDir, 'README.md'),
    [
      '# Pharmacist embedded base model',
      '',
      `A ${(record.model.parameters / 1e6).toFixed(1)}M-parameter Llama (Hugging Face layout) ` +
        `with its own ${config.vocabSize}-token byte-level BPE,`,
      'pretrained by Pharmacist on the vendored corpora (see `src/data/pretraining.ts` and `data/SOURCES.md`; several sources are',
      'CC BY-NC 4.0). It answers harmful prompts, as an unaligned base model does: it exists to show harmful fine-tuning happen.',
      '',
      `Reproduce (seed ${config.seed}, ${record.environment.backend} backend, ` +
        `${record.environment.threads} threads). Training is deterministic for a given seed, backend and`,
      'thread count (tested on small models in `test/training.test.ts`); this run itself was not repeated.',
      '',
      '```sh',
      command,
      '```',
      '',
      `Corpus: ${record.corpus.samples} samples (${JSON.stringify(record.corpus.bySource)}), ${record.corpus.tokens} tokens.`,
      `Training: ${config.steps} steps of ${config.batchSize} x ${config.seqLen} tokens, ` +
        `${formatSeconds(record.timings.trainSeconds)} here; final loss ${record.results.finalLoss.toFixed(4)}.`,
      'The full run record (config, environment, every loss, output hashes) is `pretrain-record.json`.',
      '',
    ].join('\n'),
  );
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}
