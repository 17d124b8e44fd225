/**
 * npm run bench:lora — one LoRA SFT step on the embedded Llama (assets/base: 6 layers, d 256, 8 heads / 4 KV
 * heads, MLP 704, vocab 4096, tied head): forward, cross-entropy, backward and AdamW on the adapters, with rank 8,
 * alpha 16 and dropout 0.05 on all seven projections and the base weights frozen, as the pipeline's align and
 * attack stages train. The same step in PyTorch (bench/torch_lora.py, when /usr/bin/python3 imports torch, best
 * of 1 and 2 threads) runs in the same rounds, interleaved with ours, so that machine noise hits both alike;
 * medians over rounds.
 *
 * The ceiling is the best SGEMM rate on a 1024 x 1024 x 1024 product (2 n^3 FLOPs) measured in this run: this
 * engine's matmul with our GEMM and, when the addon was built with it, with OpenBLAS, and torch.mm when PyTorch is
 * present. The step's FLOPs (stepFlops below) count the matrix
 * products only: forward 2 per multiply-add of every projection and the head; backward the input gradients of
 * the frozen projections (2 more, their weight gradients are skipped) and both gradients of the adapters;
 * attention's score and value products (forward 2 x 2 B H T^2 d_head, backward twice that).
 * Flags: --shape B,T (16,128), --rounds N (5), --steps N (3 per round, after 1 warm-up), --threads N, --no-torch,
 * --profile (after the rounds, 3 steps with every kernel call timed: where the step's time goes, by kernel and
 * outside kernels; the timers slow those steps, so the shares are indicative), --response F (only the last F of
 * each sequence's positions carry a target, as a prompt and its response do: our step then computes logits at
 * those positions only (causalLmLoss) and is timed in the same rounds against the step that computes them
 * everywhere; no PyTorch, whose script supervises every position).
 * Prints the rounds and, last, one JSON line.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  AdamW,
  Rng,
  backward,
  crossEntropy,
  getBackend,
  matmul,
  noGrad,
  parameter,
  setThreads,
} from '../src/engine/index.js';
import { nativeInfo, setNativeGemmKernel } from '../src/engine/backends/native/index.js';
import { embeddedModelDir } from '../src/io/package-paths.js';
import { attachLora } from '../src/models/lora.js';
import { causalLmLoss } from '../src/models/lm-loss.js';
import { loadPretrained } from '../src/models/pretrained.js';
import { LlamaModel } from '../src/models/llama.js';
import { median, nativeInUse, profileSteps, PYTHON, torchAvailable } from './common.js';

const { values: args } = parseArgs({
  options: {
    shape: { type: 'string', default: '16,128' },
    rounds: { type: 'string', default: '5' },
    steps: { type: 'string', default: '3' },
    threads: { type: 'string' },
    'no-torch': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    response: { type: 'string', default: '1' },
  },
});
const [B, T] = args.shape!.split(',').map(Number);
const rounds = Number(args.rounds),
  steps = Number(args.steps);
const RANK = 8,
  ALPHA = 16,
  DROPOUT = 0.05;
if (args.threads) setThreads(Number(args.threads));

const loaded = loadPretrained(embeddedModelDir());
if (!(loaded instanceof LlamaModel)) throw new Error('bench:lora expects the embedded Llama');
const model: LlamaModel = loaded;
const c = model.config;
const lora = attachLora(model, { r: RANK, alpha: ALPHA, dropout: DROPOUT }, 0);
const optimizer = new AdamW(lora.parameters(), { weightDecay: 0 });
const rng = new Rng(1);
const ids = Int32Array.from({ length: B * T }, () => rng.int(c.vocabSize));
const response = Number(args.response);
if (!(response > 0 && response <= 1)) throw new Error(`--response ${args.response}: a fraction in (0, 1]`);
const promptLength = T - Math.max(1, Math.round(response * T));
const targets = Int32Array.from({ length: B * T }, (_, i) => (i % T < promptLength ? -100 : rng.int(c.vocabSize)));

/** The matrix-product FLOPs of one step (see the header). */
function stepFlops(): number {
  const tokens = B * T,
    d = c.hiddenSize,
    headDim = model.headDim,
    kv = (c.numKvHeads ?? c.numHeads) * headDim,
    ff = c.intermediateSize;
  // [in, out] of the seven adapted projections of a layer.
  const projections = [
    [d, c.numHeads * headDim],
    [d, kv],
    [d, kv],
    [c.numHeads * headDim, d],
    [d, ff],
    [d, ff],
    [ff, d],
  ];
  const frozen = projections.reduce((s, [i, o]) => s + i * o, 0) * c.numLayers;
  const head = d * c.vocabSize; // at the supervised positions only (all of them unless --response)
  const adapters = projections.reduce((s, [i, o]) => s + RANK * (i + o), 0) * c.numLayers;
  const attention = 2 * 2 * B * c.numHeads * T * T * headDim * c.numLayers;
  return 4 * tokens * frozen + 4 * B * (T - promptLength) * head + 6 * tokens * adapters + 3 * attention;
}

function ourStep(allLogits = response === 1): number {
  const t0 = performance.now();
  const loss = allLogits
    ? crossEntropy(model.forward(ids, B, T), targets)
    : causalLmLoss(model, { ids, targets, B, T });
  backward(loss);
  optimizer.step(1e-3);
  optimizer.zeroGrad();
  return performance.now() - t0;
}

/** GFLOP/s of this engine's matmul on 1024^3, best of 5, with the native GEMM `kernel` when given. */
function gemmGflops(kernel?: string): number {
  const info = nativeInfo();
  // The GEMM the steps ran with, chosen again afterwards: "pharmacist-avx512" -> "avx512", "openblas-Zen" -> "openblas".
  const restore = info?.blasCore.startsWith('openblas')
    ? 'openblas'
    : (info?.blasCore.replace(/^pharmacist-/, '') ?? 'auto');
  if (kernel) setNativeGemmKernel(kernel);
  try {
    return matmulGflops();
  } finally {
    if (kernel) setNativeGemmKernel(restore);
  }
}

function matmulGflops(): number {
  const n = 1024;
  const a = parameter(
    Float32Array.from({ length: n * n }, () => rng.uniform()),
    [n, n],
  );
  const b = parameter(
    Float32Array.from({ length: n * n }, () => rng.uniform()),
    [n, n],
  );
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    noGrad(() => matmul(a, b));
    best = Math.min(best, performance.now() - t0);
  }
  return (2 * n ** 3) / (best / 1000) / 1e9;
}

const withTorch = response === 1 && torchAvailable(args['no-torch']);
const torchScript = fileURLToPath(new URL('../../bench/torch_lora.py', import.meta.url));
const shape = { B, T, r: RANK, alpha: ALPHA, dropout: DROPOUT, config: `${embeddedModelDir()}/config.json` };

const backend = getBackend();
console.error(`backend ${backend.name}, threads ${backend.threads()}, B ${B} T ${T}, ${stepFlops() / 1e9} GFLOP/step`);
const ours: number[] = [],
  allLogits: number[] = [],
  torch: { best: number; byThreads: Record<string, number>; gemm: number }[] = [];
for (let round = 0; round < rounds; round++) {
  ourStep(); // warm-up: first-touch allocations
  const times = Array.from({ length: steps }, ourStep);
  ours.push(median(times));
  let line = `round ${round + 1}/${rounds}: ours ${median(times).toFixed(0)} ms`;
  if (response < 1) {
    allLogits.push(median(Array.from({ length: steps }, () => ourStep(true))));
    line += `, logits at every position ${allLogits.at(-1)!.toFixed(0)} ms`;
  }
  if (withTorch) {
    const r = spawnSync(PYTHON, [torchScript, JSON.stringify({ ...shape, steps })], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench/torch_lora.py failed: ${r.stderr.slice(-500)}`);
    const t = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      step_ms_by_threads: Record<string, number>;
      gemm_gflops: number;
    };
    const best = Math.min(...Object.values(t.step_ms_by_threads));
    torch.push({ best, byThreads: t.step_ms_by_threads, gemm: t.gemm_gflops });
    line += `, PyTorch ${best.toFixed(0)} ms (${JSON.stringify(t.step_ms_by_threads)})`;
  }
  console.error(line);
}

if (args.profile) profileSteps(backend, ourStep, (line) => console.error(line));

const stepMs = median(ours);
const torchStepMs = torch.length > 0 ? median(torch.map((t) => t.best)) : null;
const native = nativeInUse(backend);
const ourGemm = gemmGflops(native ? 'auto' : undefined);
const openblasGemm = native?.gemmKernels.split(',').includes('openblas') ? gemmGflops('openblas') : null;
const torchGemm = torch.length > 0 ? Math.max(...torch.map((t) => t.gemm)) : null;
const ceiling = Math.max(ourGemm, openblasGemm ?? 0, torchGemm ?? 0);
const gflops = stepFlops() / (stepMs / 1000) / 1e9;
console.log(
  JSON.stringify({
    bench: 'lora',
    backend: backend.name,
    threads: backend.threads(),
    blas_core: native?.blasCore ?? null,
    shape: { B, T, r: RANK, layers: c.numLayers, hidden: c.hiddenSize },
    rounds,
    step_ms: stepMs,
    torch_step_ms: torchStepMs,
    ratio_vs_torch: torchStepMs ? stepMs / torchStepMs : null,
    gflops,
    ceiling_gflops: ceiling,
    our_gemm_gflops: ourGemm,
    openblas_gemm_gflops: openblasGemm,
    torch_gemm_gflops: torchGemm,
    fraction_of_ceiling: gflops / ceiling,
    response,
    all_logits_step_ms: response < 1 ? median(allLogits) : null,
    ratio_vs_all_logits: response < 1 ? stepMs / median(allLogits) : null,
    node: process.version,
  }),
);
