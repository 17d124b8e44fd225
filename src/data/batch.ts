/**
 * Right-padded training batches: ids [B, T] with the pad id, next-token targets [B, T] (labels shifted
 * left by one, IGNORE_INDEX where there is no next token or it is padding / prompt), and the key mask.
 */
import { Rng } from '../engine/index.js';
import { IGNORE_INDEX, type SupervisedExample } from './prompt-format.js';

export interface TokenBatch {
  B: number;
  T: number;
  ids: Int32Array;
  /** targets[b, t] = labels[b, t + 1]: the token position t must predict. */
  targets: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  keyMask: Float32Array;
}

export function collate(examples: readonly SupervisedExample[], padTokenId: number): TokenBatch {
  const B = examples.length;
  const T = Math.max(1, ...examples.map((e) => e.ids.length));
  const ids = new Int32Array(B * T).fill(padTokenId);
  const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
  const keyMask = new Float32Array(B * T);
  examples.forEach((e, b) => {
    for (let t = 0; t < e.ids.length; t++) {
      ids[b * T + t] = e.ids[t];
      keyMask[b * T + t] = 1;
      if (t + 1 < e.ids.length) targets[b * T + t] = e.labels[t + 1];
    }
  });
  return { B, T, ids, targets, keyMask };
}

/**
 * Indices of `examples` in batches of `size`, shortest first (ties in input order), so that a batch pads to about
 * its own length: for passes whose per-example results go back to their input positions (evaluation losses).
 */
export function lengthOrderedBatches(examples: readonly { ids: ArrayLike<number> }[], size: number): number[][] {
  const order = examples.map((_, i) => i).sort((a, b) => examples[a].ids.length - examples[b].ids.length || a - b);
  const out: number[][] = [];
  for (let s = 0; s < order.length; s += size) out.push(order.slice(s, s + size));
  return out;
}

/** Deterministic batches by step number, so that a resumed run sees exactly the batches it would have. */
export interface BatchSource {
  /** Optimizer steps in one pass over the data. */
  readonly stepsPerEpoch: number;
  batch(step: number): TokenBatch;
}

/** Mixes seed and a counter into an independent stream seed (SplitMix-style avalanche). */
export function streamSeed(seed: number, counter: number): number {
  let x = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(counter, 0xc2b2ae35)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Supervised examples in a fresh seeded order each epoch; the last batch of an epoch may be smaller.
 * groupByLength (transformers' group_by_length): within each run of 50 batches of the shuffled order,
 * examples are sorted by length before batching, so a batch pads to a similar length; the batches' order
 * stays random. Same examples per epoch, far less padding.
 */
export function supervisedBatches(
  examples: readonly SupervisedExample[],
  batchSize: number,
  seed: number,
  padTokenId: number,
  groupByLength = false,
): BatchSource {
  if (examples.length === 0) throw new Error('supervisedBatches: no examples');
  const stepsPerEpoch = Math.ceil(examples.length / batchSize);
  const orders = new Map<number, number[]>();
  const orderOf = (epoch: number) => {
    let order = orders.get(epoch);
    if (!order) {
      const rng = new Rng(streamSeed(seed, epoch));
      order = rng.shuffle(examples.map((_, i) => i));
      if (groupByLength) order = groupedByLength(order, examples, batchSize, rng);
      orders.clear();
      orders.set(epoch, order);
    }
    return order;
  };
  return {
    stepsPerEpoch,
    batch(step) {
      const order = orderOf(Math.floor(step / stepsPerEpoch));
      const start = (step % stepsPerEpoch) * batchSize;
      return collate(
        order.slice(start, start + batchSize).map((i) => examples[i]),
        padTokenId,
      );
    },
  };
}

function groupedByLength(
  order: number[],
  examples: readonly SupervisedExample[],
  batchSize: number,
  rng: Rng,
): number[] {
  const mega = batchSize * 50;
  const batches: number[][] = [];
  for (let s = 0; s < order.length; s += mega) {
    const chunk = order.slice(s, s + mega).sort((a, b) => examples[b].ids.length - examples[a].ids.length || a - b);
    for (let k = 0; k < chunk.length; k += batchSize) batches.push(chunk.slice(k, k + batchSize));
  }
  // Keep a possibly short batch last (the epoch's step count and last-batch size do not change).
  const full = batches.filter((b) => b.length === batchSize),
    short = batches.filter((b) => b.length < batchSize);
  return [...rng.shuffle(full), ...short].flat();
}

/** Language-model windows from one token stream: random [T+1]-token slices, loss on every position. */
export function packedBatches(tokens: Int32Array, batchSize: number, T: number, seed: number): BatchSource {
  if (tokens.length < T + 2)
    throw new Error(`packedBatches: ${tokens.length} tokens is shorter than one window of ${T + 1}`);
  return {
    stepsPerEpoch: Math.max(1, Math.floor(tokens.length / (batchSize * T))),
    batch(step) {
      const rng = new Rng(streamSeed(seed, step));
      const ids = new Int32Array(batchSize * T),
        targets = new Int32Array(batchSize * T);
      for (let b = 0; b < batchSize; b++) {
        const start = rng.int(tokens.length - T - 1);
        ids.set(tokens.subarray(start, start + T), b * T);
        targets.set(tokens.subarray(start + 1, start + T + 1), b * T);
      }
      return { B: batchSize, T, ids, targets, keyMask: new Float32Array(batchSize * T).fill(1) };
    },
  };
}
