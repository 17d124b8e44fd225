/**
 * One entry per differentiable op configuration: how to build its inputs and how to call it. The op
 * tests run every case through a float64 gradient check on the ts backend, a float32 check on native,
 * and a native-vs-ts comparison of outputs and gradients.
 */
import { Rng } from '../rng.js';
import { Tensor } from '../tensor.js';
import { randomTensor as rnd, uniformTensor } from '../testing/random.js';
import * as op from './index.js';

export interface OpCase {
  name: string;
  build(rng: Rng): Tensor[];
  run(inputs: Tensor[]): Tensor;
}

const ids = (values: number[]): Int32Array => Int32Array.from(values);

export const OP_CASES: OpCase[] = [
  { name: 'add same shape', build: (r) => [rnd(r, [2, 3]), rnd(r, [2, 3])], run: ([a, b]) => op.add(a, b) },
  { name: 'add bias broadcast', build: (r) => [rnd(r, [2, 3, 4]), rnd(r, [4])], run: ([a, b]) => op.add(a, b) },
  { name: 'add two-sided broadcast', build: (r) => [rnd(r, [2, 1, 4]), rnd(r, [3, 1])], run: ([a, b]) => op.add(a, b) },
  { name: 'sub broadcast', build: (r) => [rnd(r, [3]), rnd(r, [2, 3])], run: ([a, b]) => op.sub(a, b) },
  { name: 'mul broadcast', build: (r) => [rnd(r, [2, 3, 4]), rnd(r, [3, 1])], run: ([a, b]) => op.mul(a, b) },
  { name: 'div', build: (r) => [rnd(r, [2, 3]), uniformTensor(r, [2, 3], 0.5, 2)], run: ([a, b]) => op.div(a, b) },
  { name: 'scale', build: (r) => [rnd(r, [5])], run: ([a]) => op.scale(a, -1.5, 0.25) },
  { name: 'matmul', build: (r) => [rnd(r, [3, 4]), rnd(r, [4, 5])], run: ([a, b]) => op.matmul(a, b) },
  {
    name: 'matmul transA',
    build: (r) => [rnd(r, [4, 3]), rnd(r, [4, 5])],
    run: ([a, b]) => op.matmul(a, b, { transA: true }),
  },
  {
    name: 'matmul transB',
    build: (r) => [rnd(r, [3, 4]), rnd(r, [5, 4])],
    run: ([a, b]) => op.matmul(a, b, { transB: true }),
  },
  {
    name: 'matmul transA transB',
    build: (r) => [rnd(r, [4, 3]), rnd(r, [5, 4])],
    run: ([a, b]) => op.matmul(a, b, { transA: true, transB: true }),
  },
  { name: 'matmul batched', build: (r) => [rnd(r, [2, 3, 4]), rnd(r, [2, 4, 5])], run: ([a, b]) => op.matmul(a, b) },
  {
    name: 'matmul batched transB',
    build: (r) => [rnd(r, [2, 3, 4]), rnd(r, [2, 5, 4])],
    run: ([a, b]) => op.matmul(a, b, { transB: true }),
  },
  {
    name: 'matmul batched shared B',
    build: (r) => [rnd(r, [2, 3, 4]), rnd(r, [4, 5])],
    run: ([a, b]) => op.matmul(a, b),
  },
  {
    name: 'matmul batched shared Bᵀ',
    build: (r) => [rnd(r, [2, 3, 4]), rnd(r, [5, 4])],
    run: ([a, b]) => op.matmul(a, b, { transB: true }),
  },
  { name: 'matmul shared A', build: (r) => [rnd(r, [3, 4]), rnd(r, [2, 4, 5])], run: ([a, b]) => op.matmul(a, b) },
  {
    name: 'linear with bias',
    build: (r) => [rnd(r, [2, 3, 4]), rnd(r, [5, 4]), rnd(r, [5])],
    run: ([x, w, b]) => op.linear(x, w, b),
  },
  { name: 'linear without bias', build: (r) => [rnd(r, [3, 4]), rnd(r, [2, 4])], run: ([x, w]) => op.linear(x, w) },
  {
    name: 'addLowRank',
    build: (r) => [rnd(r, [2, 3, 5]), rnd(r, [2, 3, 4]), rnd(r, [2, 4]), rnd(r, [5, 2])],
    run: ([y, x, a, b]) => op.addLowRank(y, x, a, b, 1.5),
  },
  {
    name: 'addLowRank with dropout',
    build: (r) => [rnd(r, [3, 5]), rnd(r, [3, 4]), rnd(r, [2, 4]), rnd(r, [5, 2])],
    run: ([y, x, a, b]) => op.addLowRank(y, x, a, b, 0.5, { p: 0.3, seed: 7 }),
  },
  {
    name: 'reshape',
    build: (r) => [rnd(r, [2, 6])],
    run: ([x]) => op.mul(op.reshape(x, [3, -1]), op.reshape(x, [3, 4])),
  },
  { name: 'permute', build: (r) => [rnd(r, [2, 3, 4])], run: ([x]) => op.permute(x, [2, 0, 1]) },
  { name: 'transpose', build: (r) => [rnd(r, [2, 3, 4])], run: ([x]) => op.transpose(x, 0, 1) },
  { name: 'slice', build: (r) => [rnd(r, [2, 5, 3])], run: ([x]) => op.slice(x, 1, 1, 4) },
  { name: 'concat', build: (r) => [rnd(r, [2, 2, 3]), rnd(r, [2, 1, 3])], run: ([a, b]) => op.concat([a, b], 1) },
  { name: 'sum all', build: (r) => [rnd(r, [2, 3])], run: ([x]) => op.sum(x) },
  {
    name: 'sum axes keepDims',
    build: (r) => [rnd(r, [2, 3, 4])],
    run: ([x]) => op.sum(x, { axes: [0, 2], keepDims: true }),
  },
  { name: 'mean axis', build: (r) => [rnd(r, [2, 3, 4])], run: ([x]) => op.mean(x, { axes: [-1] }) },
  { name: 'exp', build: (r) => [rnd(r, [7])], run: ([x]) => op.exp(x) },
  { name: 'log', build: (r) => [uniformTensor(r, [7], 0.5, 3)], run: ([x]) => op.log(x) },
  { name: 'sqrt', build: (r) => [uniformTensor(r, [7], 0.5, 3)], run: ([x]) => op.sqrt(x) },
  { name: 'tanh', build: (r) => [rnd(r, [7])], run: ([x]) => op.tanh(x) },
  { name: 'sigmoid', build: (r) => [rnd(r, [7], { scale: 3 })], run: ([x]) => op.sigmoid(x) },
  { name: 'silu', build: (r) => [rnd(r, [7], { scale: 3 })], run: ([x]) => op.silu(x) },
  { name: 'gelu (erf)', build: (r) => [rnd(r, [9], { scale: 2 })], run: ([x]) => op.gelu(x) },
  { name: 'gelu (tanh)', build: (r) => [rnd(r, [9], { scale: 2 })], run: ([x]) => op.gelu(x, 'tanh') },
  {
    name: 'gated silu (SwiGLU)',
    build: (r) => [rnd(r, [3, 5], { scale: 3 }), rnd(r, [3, 5])],
    run: ([g, u]) => op.gated('silu', g, u),
  },
  {
    name: 'gated gelu (erf)',
    build: (r) => [rnd(r, [2, 7], { scale: 2 }), rnd(r, [2, 7])],
    run: ([g, u]) => op.gated('gelu', g, u),
  },
  {
    name: 'gated gelu (tanh)',
    build: (r) => [rnd(r, [9], { scale: 2 }), rnd(r, [9])],
    run: ([g, u]) => op.gated('gelu_tanh', g, u),
  },
  { name: 'relu', build: (r) => [uniformTensor(r, [8], 0.1, 1)], run: ([x]) => op.relu(op.scale(x, 1, -0.55)) },
  { name: 'softmax', build: (r) => [rnd(r, [3, 5])], run: ([x]) => op.softmax(x) },
  { name: 'logSoftmax', build: (r) => [rnd(r, [3, 5])], run: ([x]) => op.logSoftmax(x) },
  ...(['mean', 'sum', 'none', 'per-example'] as const).map((reduction): OpCase => ({
    name: `crossEntropy ${reduction}`,
    build: (r) => [rnd(r, [2, 3, 7])],
    run: ([x]) => op.crossEntropy(x, ids([1, -100, 6, 0, 3, -100]), { reduction }),
  })),
  {
    name: 'layerNorm',
    build: (r) => [rnd(r, [3, 6]), rnd(r, [6], { offset: 1 }), rnd(r, [6])],
    run: ([x, w, b]) => op.layerNorm(x, w, b),
  },
  {
    name: 'layerNorm without bias',
    build: (r) => [rnd(r, [2, 2, 5]), rnd(r, [5], { offset: 1 })],
    run: ([x, w]) => op.layerNorm(x, w, null),
  },
  { name: 'rmsNorm', build: (r) => [rnd(r, [3, 6]), rnd(r, [6], { offset: 1 })], run: ([x, w]) => op.rmsNorm(x, w) },
  {
    name: 'rmsNorm (1 + w)',
    build: (r) => [rnd(r, [3, 6]), rnd(r, [6], { scale: 0.1 })],
    run: ([x, w]) => op.rmsNorm(x, w, 1e-6, 1),
  },
  { name: 'embedding', build: (r) => [rnd(r, [5, 3])], run: ([w]) => op.embedding(w, ids([4, 0, 4, 2]), [2, 2]) },
  {
    // Three bags: two ids (one repeated) with weights, an empty bag, and a repeated id across bags.
    name: 'embeddingBag',
    build: (r) => [rnd(r, [5, 3])],
    run: ([w]) =>
      op.embeddingBag(w, ids([4, 0, 4, 2, 4]), ids([0, 3, 3, 5]), Float32Array.from([0.5, -1, 0.25, 2, 1.5])),
  },
  { name: 'gatherRows', build: (r) => [rnd(r, [2, 3, 4])], run: ([x]) => op.gatherRows(x, ids([5, 1, 2])) },
  {
    name: 'rope (half split)',
    build: (r) => [rnd(r, [2, 3, 2, 4])],
    run: ([x]) => op.rope(x, op.ropeTables(8, 4, 10000, false, x.data), ids([0, 1, 2, 5, 6, 7])),
  },
  {
    name: 'rope (interleaved, partial)',
    build: (r) => [rnd(r, [1, 3, 2, 6])],
    run: ([x]) => op.rope(x, op.ropeTables(4, 4, 500, true, x.data)),
  },
  {
    name: 'attention causal',
    build: (r) => [rnd(r, [2, 4, 2, 3]), rnd(r, [2, 4, 2, 3]), rnd(r, [2, 4, 2, 3])],
    run: ([q, k, v]) => op.attention(q, k, v),
  },
  {
    name: 'attention causal + left padding',
    build: (r) => [rnd(r, [2, 4, 2, 3]), rnd(r, [2, 4, 2, 3]), rnd(r, [2, 4, 2, 3])],
    run: ([q, k, v]) => op.attention(q, k, v, { keyMask: Float32Array.from([0, 0, 1, 1, 1, 1, 1, 1]) }),
  },
  {
    name: 'attention grouped-query (4 q heads, 2 kv heads)',
    build: (r) => [rnd(r, [1, 3, 4, 2]), rnd(r, [1, 3, 2, 2]), rnd(r, [1, 3, 2, 2])],
    run: ([q, k, v]) => op.attention(q, k, v),
  },
  {
    name: 'attention with cache (Tq < Tk)',
    build: (r) => [rnd(r, [1, 2, 2, 3]), rnd(r, [1, 5, 2, 3]), rnd(r, [1, 5, 2, 3])],
    run: ([q, k, v]) => op.attention(q, k, v),
  },
  {
    name: 'attention bidirectional, custom scale',
    build: (r) => [rnd(r, [1, 3, 1, 4]), rnd(r, [1, 3, 1, 4]), rnd(r, [1, 3, 1, 4])],
    run: ([q, k, v]) => op.attention(q, k, v, { causal: false, scale: 0.3 }),
  },
  {
    name: 'attention sliding window 2, with cache',
    build: (r) => [rnd(r, [1, 3, 2, 3]), rnd(r, [1, 5, 2, 3]), rnd(r, [1, 5, 2, 3])],
    run: ([q, k, v]) => op.attention(q, k, v, { window: 2 }),
  },
  {
    name: 'attention soft-capped logits',
    build: (r) => [rnd(r, [1, 4, 2, 3]), rnd(r, [1, 4, 2, 3]), rnd(r, [1, 4, 2, 3])],
    run: ([q, k, v]) => op.attention(q, k, v, { softcap: 0.5, scale: 2 }),
  },
  { name: 'dropout', build: (r) => [rnd(r, [20])], run: ([x]) => op.dropout(x, 0.3, new Rng(7)) },
];
