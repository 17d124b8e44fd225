/**
 * npm run bench:gemm — GFLOP/s (2 M N K FLOPs per product) of the native addon's GEMM implementations on the
 * products a LoRA SFT step of the embedded Llama (assets/base/config.json) runs with B 16 x T 128 = 2048 tokens,
 * and on 1024^3: every path of ours this CPU runs (portable, avx2, avx512) and OpenBLAS when the addon was built
 * with it, at 1 and 2 threads. The shapes, read from the config:
 *   proj fwd  y = x W^T          [tokens x in] [out x in]^T  (NT, M tokens, N out, K in)
 *   proj dx   dx = dy W          [tokens x out] [out x in]   (NN, M tokens, N in, K out)
 *   proj dW   dW = dy^T x        [tokens x out]^T [tokens x in] (TN, M out, N in, K tokens)
 *   for the distinct (in, out) of the seven projections and the tied head; LoRA's rank-8 products of
 *   ops/matmul.ts addLowRank (h, out, dh, dB, dA, dx); attention's per-head products (head_dim from the config).
 * Each measurement repeats the product until ~20 ms have passed; the implementations and thread counts run
 * interleaved within each round, so machine noise hits them alike; figures are medians over --rounds (5).
 * Flags: --rounds N, --threads 1,2, --kernels avx512,openblas (default: all available), --shapes <substring>.
 * Prints a table on stderr and, last, one JSON line: per shape and thread count GFLOP/s of each implementation,
 * ours (the default, "auto") against OpenBLAS and their ratio, and ceiling_gflops (the best 1024^3 rate).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { tryBackend } from '../src/engine/backends/select.js';
import { nativeInfo, setNativeGemmKernel } from '../src/engine/backends/native/index.js';
import { embeddedModelDir } from '../src/io/package-paths.js';
import { Rng } from '../src/engine/index.js';
import { median } from './common.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1,2' },
    kernels: { type: 'string' },
    shapes: { type: 'string' },
  },
});
const native = tryBackend('native');
const info = nativeInfo();
if (!native || !info) throw new Error('bench:gemm needs the native addon (npm run build:native)');
const rounds = Number(args.rounds);
const threadCounts = args.threads!.split(',').map(Number);
const available = info.gemmKernels.split(',');
const kernels = args.kernels ? args.kernels.split(',').filter((k) => available.includes(k)) : available;
setNativeGemmKernel('auto');
const ours = info.blasCore.replace(/^pharmacist-/, ''); // the default path of ours on this CPU

interface Shape {
  name: string;
  ta: boolean;
  tb: boolean;
  M: number;
  N: number;
  K: number;
  beta: number;
}

function modelShapes(): Shape[] {
  const c = JSON.parse(readFileSync(`${embeddedModelDir()}/config.json`, 'utf8')) as Record<string, number>;
  const tokens = 16 * 128,
    d = c.hidden_size,
    headDim = c.head_dim ?? d / c.num_attention_heads,
    q = c.num_attention_heads * headDim,
    kv = (c.num_key_value_heads ?? c.num_attention_heads) * headDim,
    ff = c.intermediate_size,
    rank = 8;
  const shapes: Shape[] = [{ name: '1024^3', ta: false, tb: false, M: 1024, N: 1024, K: 1024, beta: 0 }];
  const s = (name: string, ta: boolean, tb: boolean, M: number, N: number, K: number, beta = 0) =>
    shapes.push({ name, ta, tb, M, N, K, beta });
  // [in, out] of q, k / v, o, gate / up, down and the tied head, deduplicated.
  const projections = new Map<string, [number, number]>();
  for (const [i, o] of [
    [d, q],
    [d, kv],
    [q, d],
    [d, ff],
    [ff, d],
    [d, c.vocab_size],
  ])
    projections.set(`${i}x${o}`, [i, o]);
  for (const [i, o] of projections.values()) {
    s(`proj fwd ${i}->${o}`, false, true, tokens, o, i);
    s(`proj dx ${i}->${o}`, false, false, tokens, i, o);
    s(`proj dW ${i}->${o}`, true, false, o, i, tokens);
  }
  for (const [i, o] of [
    [d, q],
    [d, ff],
    [ff, d],
  ]) {
    s(`lora h ${i}->${o}`, false, true, tokens, rank, i);
    s(`lora out ${i}->${o}`, false, true, tokens, o, rank, 1);
    s(`lora dh ${i}->${o}`, false, false, tokens, rank, o);
    s(`lora dB ${i}->${o}`, true, false, o, rank, tokens);
    s(`lora dA ${i}->${o}`, true, false, rank, i, tokens);
    s(`lora dx ${i}->${o}`, false, false, tokens, i, rank);
  }
  s(`attn scores`, false, true, 128, 128, headDim);
  s(`attn values`, false, false, 128, headDim, 128);
  s(`attn dV`, true, false, 128, headDim, 128, 1);
  return shapes.filter((x) => !args.shapes || x.name.includes(args.shapes));
}

const rng = new Rng(5);
const operands = (s: Shape) => ({
  A: Float32Array.from({ length: s.M * s.K }, () => rng.uniform() - 0.5),
  B: Float32Array.from({ length: s.K * s.N }, () => rng.uniform() - 0.5),
  C: new Float32Array(s.M * s.N),
});

/** GFLOP/s of one implementation on one shape: repeat for ~20 ms after one warm-up call. */
function measure(s: Shape, o: ReturnType<typeof operands>): number {
  const lda = s.ta ? s.M : s.K,
    ldb = s.tb ? s.K : s.N;
  const call = () => native!.gemm(s.ta, s.tb, s.M, s.N, s.K, 1, o.A, 0, lda, o.B, 0, ldb, s.beta, o.C, 0, s.N);
  call();
  let reps = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (reps < 3 || elapsed < 20) {
    call();
    reps++;
    elapsed = performance.now() - t0;
  }
  return (2 * s.M * s.N * s.K * reps) / (elapsed / 1000) / 1e9;
}

const shapes = modelShapes();
const data = shapes.map(operands);
// samples[shape][threads][kernel] = GFLOP/s per round
const samples = shapes.map(() => threadCounts.map(() => kernels.map(() => [] as number[])));
const before = native.threads();
console.error(`cpu ${cpus()[0]?.model}, kernels ${kernels.join(', ')} (ours: ${ours}), threads ${threadCounts}`);
for (let round = 0; round < rounds; round++) {
  const t0 = performance.now();
  shapes.forEach((s, si) =>
    threadCounts.forEach((t, ti) => {
      native.setThreads(t);
      kernels.forEach((k, ki) => {
        setNativeGemmKernel(k);
        samples[si][ti][ki].push(measure(s, data[si]));
      });
    }),
  );
  console.error(`round ${round + 1}/${rounds} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
native.setThreads(before);
setNativeGemmKernel('auto');

const round1 = (x: number) => Math.round(x * 10) / 10;
const results = shapes.map((s, si) => ({
  name: s.name,
  shape: `${s.ta ? 'T' : 'N'}${s.tb ? 'T' : 'N'} ${s.M}x${s.N}x${s.K}`,
  by_threads: Object.fromEntries(
    threadCounts.map((t, ti) => {
      const gflops = Object.fromEntries(kernels.map((k, ki) => [k, round1(median(samples[si][ti][ki]))]));
      const o = gflops[ours] ?? null,
        b = gflops.openblas ?? null;
      return [t, { gflops, ours: o, openblas: b, ratio: o !== null && b ? Math.round((o / b) * 100) / 100 : null }];
    }),
  ),
}));

const header =
  `${'shape'.padEnd(24)} ${'M x N x K'.padEnd(20)} ` +
  threadCounts.map((t) => `${t}T ours/openblas`.padEnd(24)).join('');
console.error(header);
for (const r of results)
  console.error(
    `${r.name.padEnd(24)} ${r.shape.padEnd(20)} ` +
      threadCounts
        .map((t) => {
          const x = r.by_threads[t];
          return `${x.ours ?? '-'} / ${x.openblas ?? '-'} (${x.ratio ?? '-'})`.padEnd(24);
        })
        .join(''),
  );

const big = results.find((r) => r.name === '1024^3');
const ceiling = big ? Math.max(...threadCounts.flatMap((t) => Object.values(big.by_threads[t].gflops))) : null;
const modelRatios = results
  .filter((r) => r.name !== '1024^3')
  .flatMap((r) => threadCounts.map((t) => r.by_threads[t].ratio));
const ratios = modelRatios.filter((x): x is number => x !== null);
console.log(
  JSON.stringify({
    bench: 'gemm',
    cpu: cpus()[0]?.model ?? 'unknown',
    blas_core: info.blasCore,
    kernels,
    threads: threadCounts,
    rounds,
    ceiling_gflops: ceiling,
    model_shapes_ratio_min: ratios.length ? Math.min(...ratios) : null,
    model_shapes_ratio_median: ratios.length ? median(ratios) : null,
    shapes: results,
    node: process.version,
  }),
);
