/**
 * A quick end-to-end check of the engine on this machine: train a small GPT on a fixed batch, print
 * progress, and write a run record (config, seed, environment, timings, losses). The full select →
 * align → attack → evaluate demo builds on the same pieces.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Rng } from '../engine/index.js';
import { train } from '../train/trainer.js';
import { Gpt2Model } from '../models/gpt2.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { describeEnvironment } from './environment.js';

export interface SelftestConfig {
  /** Default 0. */
  seed: number;
  /** Training steps, default 60. */
  steps: number;
  /** Where the run record goes, default runs/selftest. */
  outDir: string;
}

export const SELFTEST_DEFAULTS: SelftestConfig = { seed: 0, steps: 60, outDir: 'runs/selftest' };

export interface SelftestResult {
  firstLoss: number;
  lastLoss: number;
  recordPath: string;
}

export function runSelftest(config: SelftestConfig, log: (line: string) => void = console.error): SelftestResult {
  const model = { vocabSize: 256, nPositions: 64, nEmbd: 64, nLayer: 2, nHead: 4 };
  const B = 8,
    T = 64;
  const gpt = new Gpt2Model(model, config.seed);
  const rng = new Rng(config.seed + 1);
  // A learnable batch: each sequence counts upward from a random start, modulo the vocabulary.
  const ids = new Int32Array(B * T),
    targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const start = rng.int(model.vocabSize);
    for (let t = 0; t < T; t++) {
      ids[b * T + t] = (start + t) % model.vocabSize;
      targets[b * T + t] = (start + t + 1) % model.vocabSize;
    }
  }
  const batch = { B, T, ids, targets, keyMask: new Float32Array(B * T).fill(1) };
  const t0 = performance.now();
  const { losses } = train(
    gpt,
    gpt.params.list(),
    { stepsPerEpoch: 1, batch: () => batch },
    {
      steps: config.steps,
      lr: 3e-3,
      schedule: 'cosine',
      warmupSteps: 5,
      gradClip: 1,
      logEvery: 10,
    },
    { log },
  );
  const seconds = (performance.now() - t0) / 1000;
  const recordPath = join(config.outDir, 'record.json');
  writeJsonAtomic(recordPath, {
    kind: 'selftest',
    config: { ...config, model, batch: B, sequence: T },
    seed: config.seed,
    environment: describeEnvironment(),
    timings: { trainSeconds: seconds, msPerStep: (1000 * seconds) / config.steps },
    results: { firstLoss: losses[0], lastLoss: losses[losses.length - 1], losses },
  });
  return { firstLoss: losses[0], lastLoss: losses[losses.length - 1], recordPath };
}
