/**
 * The causal-LM loss of a token batch, with logits computed only where a target is supervised. On alignment and
 * fine-tuning data the prompt and the padding are most positions (an AG News sample: a long article, a one-word
 * label), and each skipped position saves the LM head's products and its softmax over the vocabulary. The value
 * and every gradient are the same, bit for bit, as crossEntropy over all positions (lm-loss.test.ts).
 */
import { concat, crossEntropy, gatherRows, noGrad, reshape, type Tensor } from '../engine/index.js';
import type { ForwardOptions } from './forward.js';
import { KvCache } from './kv-cache.js';

/** ids and targets [B*T]; a target of -100 is not supervised (the prompt, padding). */
export interface SupervisedBatch {
  ids: Int32Array;
  targets: Int32Array;
  B: number;
  T: number;
}

export interface ForwardingLm {
  forward(ids: Int32Array, B: number, T: number, options?: ForwardOptions): Tensor;
}

const IGNORE = -100;

/** The rows of [B*T] whose target is supervised, in order. */
export function supervisedRows(targets: Int32Array): Int32Array {
  let n = 0;
  for (const t of targets) if (t !== IGNORE) n++;
  const rows = new Int32Array(n);
  n = 0;
  targets.forEach((t, r) => {
    if (t !== IGNORE) rows[n++] = r;
  });
  return rows;
}

/**
 * Mean cross-entropy over the supervised targets ('mean'), or each example's mean ('per-example', [B]).
 * `options` go to the forward (taps, for the defenses).
 */
export function causalLmLoss(
  model: ForwardingLm,
  batch: SupervisedBatch,
  reduction: 'mean' | 'per-example' = 'mean',
  options: ForwardOptions = {},
): Tensor {
  const { ids, targets, B, T } = batch;
  const rows = supervisedRows(targets);
  if (rows.length === 0 || rows.length === B * T)
    return crossEntropy(model.forward(ids, B, T, options), targets, { reduction });
  const logits = model.forward(ids, B, T, { ...options, logitRows: rows });
  // A model that does not implement logitRows returns every position: the loss is the same, only slower.
  if (logits.size / logits.shape[logits.rank - 1] !== rows.length) return crossEntropy(logits, targets, { reduction });
  const kept = rows.map((r) => targets[r]);
  if (reduction === 'mean') return crossEntropy(logits, kept);
  return crossEntropy(logits, kept, { reduction, rowExample: { index: rows.map((r) => Math.floor(r / T)), count: B } });
}

/** A supervised sequence: labels[u] is the target of position u (predicted from u - 1), -100 where unsupervised. */
export interface LabelledIds {
  ids: readonly number[];
  labels: readonly number[];
}

/** The forward of a model that decodes from a KV cache (every model of this folder). */
export interface CachingLm {
  forward(ids: Int32Array, B: number, T: number, options?: ForwardOptions): Tensor;
}

/**
 * Each example's mean cross-entropy over its supervised tokens (what causalLmLoss 'per-example' gives), for groups
 * of examples that begin alike, such as one prompt with several answers: a group's common prefix runs once, and
 * its examples continue from the prefix's keys and values. The harmful margin's six refusals after each prompt
 * cost the prompt once instead of six times. The prefix stops before a group's first supervised token, so every
 * supervised prediction comes from the prefix's last position or a continuation. Equal to the unshared loss up to
 * float rounding (other matrix shapes sum in another order): lm-loss.test.ts. Evaluation only (no gradients).
 * `groupsPerBatch` groups share one prefill (left-padded) and one continuation pass (right-padded).
 */
export function sharedPrefixLosses(
  model: CachingLm,
  groups: readonly (readonly LabelledIds[])[],
  padTokenId: number,
  groupsPerBatch = 32,
): number[][] {
  const out = groups.map((g) => new Array<number>(g.length));
  // Groups without a shared first token (or a first token already supervised) run one example per group.
  const units: { group: number; members: number[]; prefix: number }[] = [];
  groups.forEach((g, group) => {
    if (g.length === 0) throw new Error(`sharedPrefixLosses: group ${group} is empty`);
    const prefix = sharedPrefixLength(g);
    if (prefix > 0) units.push({ group, members: g.map((_, i) => i), prefix });
    else g.forEach((e, i) => units.push({ group, members: [i], prefix: sharedPrefixLength([e]) }));
  });
  units.forEach((u) => {
    if (u.prefix === 0) throw new Error(`sharedPrefixLosses: group ${u.group} holds an empty sequence`);
  });
  const order = units.map((_, i) => i).sort((a, b) => units[a].prefix - units[b].prefix || a - b);
  noGrad(() => {
    for (let s = 0; s < order.length; s += groupsPerBatch) {
      const batch = order.slice(s, s + groupsPerBatch).map((i) => units[i]);
      const losses = prefixBatchLosses(
        model,
        batch.map((u) => ({ prefix: u.prefix, examples: u.members.map((m) => groups[u.group][m]) })),
        padTokenId,
      );
      let k = 0;
      for (const u of batch) for (const m of u.members) out[u.group][m] = losses[k++];
    }
  });
  return out;
}

/** The longest common prefix of the examples' ids that ends before any example's first supervised token. */
function sharedPrefixLength(examples: readonly LabelledIds[]): number {
  let limit = Math.min(...examples.map((e) => e.ids.length));
  for (const e of examples)
    for (let u = 1; u < limit; u++)
      if (e.labels[u] !== IGNORE) {
        limit = u;
        break;
      }
  const first = examples[0].ids;
  let n = 0;
  while (n < limit && examples.every((e) => e.ids[n] === first[n])) n++;
  return n;
}

/** One prefill of the units' prefixes, one continuation pass of all their examples: each example's loss, in order. */
function prefixBatchLosses(
  model: CachingLm,
  units: readonly { prefix: number; examples: readonly LabelledIds[] }[],
  pad: number,
): number[] {
  const G = units.length;
  const P = Math.max(...units.map((u) => u.prefix));
  const ids = new Int32Array(G * P).fill(pad);
  const positions = new Int32Array(G * P);
  const prefixMask = new Float32Array(G * P);
  units.forEach((u, g) => {
    const start = P - u.prefix;
    for (let t = 0; t < u.prefix; t++) {
      ids[g * P + start + t] = u.examples[0].ids[t];
      positions[g * P + start + t] = t;
      prefixMask[g * P + start + t] = 1;
    }
  });
  const cache = new KvCache();
  const lastRows = Int32Array.from({ length: G }, (_, g) => g * P + P - 1);
  const prefixLogits = rowsOf(
    model.forward(ids, G, P, { keyMask: prefixMask, positions, cache, logitRows: lastRows }),
    lastRows,
  );

  // Every example continues from its unit's cached prefix, right-padded to the longest continuation.
  const examples = units.flatMap((u, g) => u.examples.map((e) => ({ e, g, prefix: u.prefix })));
  const E = examples.length;
  const S = Math.max(1, ...examples.map(({ e, prefix }) => e.ids.length - prefix));
  const nextIds = new Int32Array(E * S).fill(pad);
  const nextPositions = new Int32Array(E * S);
  const mask = new Float32Array(E * (P + S));
  // Supervised predictions: from the prefix's last position (the token right after it) or a continuation position.
  const fromPrefix: number[] = [],
    prefixTargets: number[] = [],
    prefixExample: number[] = [];
  const fromNext: number[] = [],
    nextTargets: number[] = [],
    nextExample: number[] = [];
  examples.forEach(({ e, g, prefix }, x) => {
    mask.set(prefixMask.subarray(g * P, (g + 1) * P), x * (P + S));
    for (let j = 0; j < e.ids.length - prefix; j++) {
      nextIds[x * S + j] = e.ids[prefix + j];
      nextPositions[x * S + j] = prefix + j;
      mask[x * (P + S) + P + j] = 1;
    }
    for (let u = prefix; u < e.ids.length; u++) {
      if (u === 0 || e.labels[u] === IGNORE) continue;
      if (u === prefix) {
        fromPrefix.push(g);
        prefixTargets.push(e.labels[u]);
        prefixExample.push(x);
      } else {
        fromNext.push(x * S + (u - 1 - prefix));
        nextTargets.push(e.labels[u]);
        nextExample.push(x);
      }
    }
  });
  const parts: Tensor[] = [];
  if (fromPrefix.length > 0) parts.push(gatherRows(prefixLogits, Int32Array.from(fromPrefix)));
  if (fromNext.length > 0) {
    cache.keepRows(Int32Array.from(examples, ({ g }) => g));
    const rows = Int32Array.from(fromNext);
    const logits = model.forward(nextIds, E, S, { keyMask: mask, positions: nextPositions, cache, logitRows: rows });
    parts.push(rowsOf(logits, rows));
  }
  if (parts.length === 0) return examples.map(() => 0); // as crossEntropy gives an example with no rows
  const per = crossEntropy(
    parts.length === 1 ? parts[0] : concat(parts, 0),
    Int32Array.from([...prefixTargets, ...nextTargets]),
    {
      reduction: 'per-example',
      rowExample: { index: Int32Array.from([...prefixExample, ...nextExample]), count: E },
    },
  );
  return Array.from(per.data);
}

/** Logits [K, V] at these rows: what a forward given logitRows returns, or those rows of one that ignored them. */
function rowsOf(logits: Tensor, rows: Int32Array): Tensor {
  const V = logits.shape[logits.rank - 1];
  return logits.size / V === rows.length ? reshape(logits, [rows.length, V]) : gatherRows(logits, rows);
}
