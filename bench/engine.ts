/**
 * npm run bench:engine — one training step (forward, backward, AdamW) of the reference GPT (vocab 4096,
 * d_model 256, 4 layers, 4 heads, sequence 128, batch 8, GELU MLP 1024, LayerNorm, untied head, ~5.3M
 * parameters), timed on the current backend and, in the same run, in PyTorch when /usr/bin/python3 has it.
 * The two run in interleaved rounds (ours, then PyTorch's, --rounds times), so that machine noise hits both alike;
 * the figures are medians over the rounds of each round's median step.
 * Prints a kernel profile and, last, one JSON line.
 * Flags: --rounds N (5), --steps N (5 per round), --warmup N (2 per round), --threads N (machine cores),
 * --no-torch.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AdamW, Rng, backward, crossEntropy, getBackend, setThreads } from '../src/engine/index.js';
import { Gpt2Model } from '../src/models/gpt2.js';
import { median, nativeInUse, profileSteps, PYTHON, torchAvailable } from './common.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string' },
    'no-torch': { type: 'boolean', default: false },
  },
});
const rounds = Number(args.rounds),
  steps = Number(args.steps),
  warmup = Number(args.warmup);
if (args.threads) setThreads(Number(args.threads));

const V = 4096,
  C = 256,
  L = 4,
  H = 4,
  T = 128,
  B = 8;
const model = new Gpt2Model(
  {
    vocabSize: V,
    nPositions: T,
    nEmbd: C,
    nLayer: L,
    nHead: H,
    nInner: 4 * C,
    tieWordEmbeddings: false,
    activation: 'gelu',
  },
  0,
);
const params = model.params.list();
const optimizer = new AdamW(params, { weightDecay: 0 });
const rng = new Rng(1);
const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
const targets = Int32Array.from({ length: B * T }, () => rng.int(V));

function trainStep(): { stepMs: number; forwardMs: number; loss: number } {
  const t0 = performance.now();
  const loss = crossEntropy(model.forward(ids, B, T), targets);
  const t1 = performance.now();
  backward(loss);
  optimizer.step(1e-3);
  optimizer.zeroGrad();
  const t2 = performance.now();
  return { stepMs: t2 - t0, forwardMs: t1 - t0, loss: loss.item() };
}

const backend = getBackend();
console.error(`backend ${backend.name}, threads ${backend.threads()}, parameters ${model.params.count()}`);

const withTorch = torchAvailable(args['no-torch']);
const torchScript = fileURLToPath(new URL('../../bench/torch_reference.py', import.meta.url));

const stepTimes: number[] = [],
  forwardTimes: number[] = [],
  losses: number[] = [];
const torchRounds: Record<string, unknown>[] = [];
for (let round = 0; round < rounds; round++) {
  const times: number[] = [],
    forwards: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const r = trainStep();
    losses.push(r.loss);
    if (i >= warmup) {
      times.push(r.stepMs);
      forwards.push(r.forwardMs);
    }
  }
  stepTimes.push(median(times));
  forwardTimes.push(median(forwards));
  let line = `round ${round + 1}/${rounds}: ours ${median(times).toFixed(1)} ms`;
  if (withTorch) {
    const r = spawnSync(PYTHON, [torchScript, String(warmup), String(steps)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench/torch_reference.py failed: ${r.stderr.slice(-500)}`);
    const t = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    torchRounds.push(t);
    line += `, PyTorch ${(t.torch_step_ms as number).toFixed(1)} ms (${JSON.stringify(t.torch_step_ms_by_threads)})`;
  }
  console.error(line);
}

// Profile separately so the timers do not touch the headline numbers.
const profiled = profileSteps(
  backend,
  () => trainStep().stepMs,
  (line) => console.log(line),
);

const stepMs = median(stepTimes);
const torchStepMs = torchRounds.length > 0 ? median(torchRounds.map((t) => t.torch_step_ms as number)) : null;
const torchForwardMs = torchRounds.length > 0 ? median(torchRounds.map((t) => t.torch_forward_ms as number)) : null;
console.log(
  JSON.stringify({
    bench: 'engine',
    backend: backend.name,
    threads: backend.threads(),
    blas_core: nativeInUse(backend)?.blasCore ?? null,
    parameters: model.params.count(),
    step_ms: stepMs,
    forward_ms: median(forwardTimes),
    gemm_fraction: profiled.gemmFraction,
    kernel_fraction: profiled.kernelFraction,
    loss_first: losses[0],
    loss_last: losses[losses.length - 1],
    torch_step_ms: torchStepMs,
    torch_forward_ms: torchForwardMs,
    torch_threads_by_round: torchRounds.map((t) => t.torch_threads),
    rounds,
    ratio_vs_torch: torchStepMs ? stepMs / torchStepMs : null,
    node: process.version,
  }),
);
