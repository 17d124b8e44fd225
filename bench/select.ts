/**
 * npm run bench:select — one step of the Pharmacist selector at its default settings on the embedded Llama, against
 * the unit it competes with: an SFT step of the same batch (the alignment the selection is meant to shorten).
 *
 * A selector step (src/select/pharmacist.ts, hyperStep) is a lower step on `batchSize` pool samples (their
 * per-example LoRA gradients and the weighted step), the upper gradient grad F at the moved point (validation
 * and harmful losses' gradients on `evalBatchSize` samples each: `safety` and `lambda` decide whether the harmful
 * one is taken) and the inner products. grad F is recomputed every `upperEvery` steps and reused in between, so
 * the mean step is (fresh + (upperEvery - 1) x reused) / upperEvery. The reference is a LoRA SFT step (forward,
 * cross-entropy, backward, AdamW) on a batch of the same size and length with the alignment's adapter (dropout
 * 0.05), as `pharmacist align` trains. Both run on random token sequences (the cost does not depend on the
 * words) of --length tokens (default 128, the demo's truncation), the first quarter prompt.
 * The rounds interleave the three measurements so that machine noise hits them alike; medians over rounds.
 * Flags: --rounds N (5), --length T (128), --pool N (the pool the selection estimate is for; 500, the demo's),
 * --threads N. Prints the rounds and, last, one JSON line: fresh_step_ms, reused_step_ms, mean_step_ms,
 * sft_step_ms, ratio_vs_sft_step, selection_seconds_estimate (one epoch over --pool), threads.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AdamW, Rng, backward, getBackend, setThreads } from '../src/engine/index.js';
import { IGNORE_INDEX, type SupervisedExample } from '../src/data/prompt-format.js';
import { embeddedModelDir } from '../src/io/package-paths.js';
import { attachLora, LORA_DEFAULTS } from '../src/models/lora.js';
import { loadPretrained } from '../src/models/pretrained.js';
import { LlamaModel } from '../src/models/llama.js';
import { hyperStep, upperGradient, type BilevelData } from '../src/select/pharmacist.js';
import { PHARMACIST_SELECTOR_DEFAULTS } from '../src/select/pharmacist-selector.js';
import { meanLoss } from '../src/train/model-losses.js';
import { median } from './common.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    length: { type: 'string', default: '128' },
    pool: { type: 'string', default: '500' },
    threads: { type: 'string' },
  },
});
const rounds = Number(args.rounds),
  T = Number(args.length),
  poolSize = Number(args.pool);
if (args.threads) setThreads(Number(args.threads));
const cfg = PHARMACIST_SELECTOR_DEFAULTS;

const loaded = loadPretrained(embeddedModelDir());
if (!(loaded instanceof LlamaModel)) throw new Error('bench:select expects the embedded Llama');
const model: LlamaModel = loaded;
const rng = new Rng(1);
const example = (): SupervisedExample => {
  const ids = Array.from({ length: T }, () => rng.int(model.config.vocabSize));
  return { ids, labels: ids.map((id, t) => (t < T / 4 ? IGNORE_INDEX : id)) };
};
const data: BilevelData = {
  pool: Array.from({ length: cfg.batchSize }, example),
  validation: Array.from({ length: cfg.evalBatchSize }, example),
  harmful: Array.from({ length: cfg.evalBatchSize }, example),
  padTokenId: 0,
};
const batch = data.pool.map((_, i) => i);
const omega = new Float64Array(data.pool.length);

// The selector's adapter (dropout 0) and the alignment's (LORA_DEFAULTS), each attached for its own measurement.
const timed = (f: () => void): number => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};
function selectorSteps(): { fresh: number; reused: number } {
  const lora = attachLora(model, cfg.lora, 0); // replaces the adapter attached before, as the selector's does
  lora.training = false; // as withSelectionAdapter runs it
  const params = lora.parameters();
  const upper = upperGradient(model, params, data.validation, data.harmful, data.padTokenId, cfg);
  const fresh = timed(() => hyperStep(model, params, omega, batch, data.validation, data.harmful, data, cfg));
  const reused = timed(() => hyperStep(model, params, omega, batch, data.validation, data.harmful, data, cfg, upper));
  return { fresh, reused };
}
function sftStep(): number {
  const optimizer = new AdamW(attachLora(model, LORA_DEFAULTS, 0).parameters(), { weightDecay: 0 });
  return timed(() => {
    backward(meanLoss(model, data.pool, data.padTokenId));
    optimizer.step(1e-3);
    optimizer.zeroGrad();
  });
}

selectorSteps(); // warm-up: allocations, caches
sftStep();
const fresh: number[] = [],
  reused: number[] = [],
  sft: number[] = [];
for (let r = 0; r < rounds; r++) {
  const s = selectorSteps();
  fresh.push(s.fresh);
  reused.push(s.reused);
  sft.push(sftStep());
  console.error(
    `round ${r + 1}/${rounds}: selector step ${s.fresh.toFixed(0)} ms fresh, ${s.reused.toFixed(0)} ms reusing grad F; ` +
      `SFT step ${sft.at(-1)!.toFixed(0)} ms`,
  );
}
const freshMs = median(fresh),
  reusedMs = median(reused),
  sftMs = median(sft);
const meanMs = (freshMs + (cfg.upperEvery - 1) * reusedMs) / cfg.upperEvery;
const steps = cfg.epochs * Math.ceil(poolSize / cfg.batchSize);
console.log(
  JSON.stringify({
    bench: 'select',
    batch_size: cfg.batchSize,
    eval_batch_size: cfg.evalBatchSize,
    upper_every: cfg.upperEvery,
    safety: cfg.safety,
    length: T,
    fresh_step_ms: +freshMs.toFixed(1),
    reused_step_ms: +reusedMs.toFixed(1),
    mean_step_ms: +meanMs.toFixed(1),
    sft_step_ms: +sftMs.toFixed(1),
    ratio_vs_sft_step: +(meanMs / sftMs).toFixed(2),
    pool: poolSize,
    selection_seconds_estimate: +((steps * meanMs) / 1000).toFixed(1),
    threads: getBackend().threads(),
  }),
);
