import { Rng } from '../engine/index.js';

/**
 * The intervals every table computes the same way (../shared/reference/statistics.md): the Wilson interval
 * of a proportion over prompts, and the t-interval of a mean over independent units (seeds, or prompts for a
 * continuous per-prompt measure). Student's t comes from the regularized incomplete beta function (Numerical
 * Recipes' continued fraction), so no table caps the degrees of freedom.
 */

const Z95 = 1.959963984540054;

/** 95% Wilson interval, in points (0..100), of h successes among m trials. m = 0 gives [0, 100]. */
export function wilsonInterval(h: number, m: number, z = Z95): [number, number] {
  if (m === 0) return [0, 100];
  const p = h / m;
  const denom = 1 + (z * z) / m;
  const centre = (p + (z * z) / (2 * m)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / m + (z * z) / (4 * m * m))) / denom;
  return [100 * Math.max(0, centre - half), 100 * Math.min(1, centre + half)];
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0.
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1,
    d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T <= t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The q-quantile of Student's t (bisection on the CDF; q in (0, 1)). */
export function studentTQuantile(q: number, df: number): number {
  let lo = -1e3,
    hi = 1e3;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface MeanInterval {
  mean: number;
  ci: [number, number];
  /** Two-sided p-value of "the true mean is 0". */
  p: number;
  n: number;
}

/** Mean with its 95% t-interval over independent values; one value gives an infinite interval. */
export function tInterval(values: readonly number[]): MeanInterval {
  const n = values.length;
  if (n === 0) return { mean: NaN, ci: [NaN, NaN], p: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, ci: [-Infinity, Infinity], p: 1, n };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const se = sd / Math.sqrt(n);
  const half = studentTQuantile(0.975, n - 1) * se;
  const p = se === 0 ? (mean === 0 ? 1 : 0) : 2 * (1 - studentTCdf(Math.abs(mean / se), n - 1));
  return { mean, ci: [mean - half, mean + half], p, n };
}

/** Exact McNemar test on paired binary outcomes: b = A yes & B no, c = A no & B yes. Two-sided p, capped at 1. */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, 2 * tail);
}

/**
 * The discordant pairs of two paired binary outcome lists (truthy = yes), McNemar's b and c: [A yes & B no,
 * A no & B yes]. For verdicts, or for "right" lists when two judges are compared against the same labels.
 */
export function discordantPairs(a: ArrayLike<unknown>, b: ArrayLike<unknown>): [number, number] {
  if (a.length !== b.length) throw new Error(`discordantPairs: ${a.length} outcomes against ${b.length}`);
  let yesNo = 0,
    noYes = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && !b[i]) yesNo++;
    if (!a[i] && b[i]) noYes++;
  }
  return [yesNo, noYes];
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** Holm's step-down adjustment: adjusted p-values in the input order. */
export function holmAdjust(ps: readonly number[]): number[] {
  const k = ps.length;
  const order = ps.map((_, i) => i).sort((a, b) => ps[a] - ps[b]);
  const out = new Array<number>(k);
  let running = 0;
  order.forEach((idx, rank) => {
    running = Math.max(running, Math.min(1, (k - rank) * ps[idx]));
    out[idx] = running;
  });
  return out;
}

/**
 * Percentile bootstrap of a statistic over resampled units (seeds or prompts): 95% interval from `resamples`
 * draws with replacement, seeded so that the same inputs give the same interval.
 */
export function bootstrapInterval(
  units: number,
  statistic: (indices: readonly number[]) => number,
  { resamples = 2000, seed = 0 }: { resamples?: number; seed?: number } = {},
): [number, number] {
  const rng = new Rng(seed);
  const values: number[] = [];
  const idx = new Array<number>(units);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < units; i++) idx[i] = rng.int(units);
    values.push(statistic(idx));
  }
  values.sort((a, b) => a - b);
  const at = (q: number) => values[Math.min(values.length - 1, Math.max(0, Math.floor(q * (values.length - 1))))];
  return [at(0.025), at(0.975)];
}

/**
 * Area under the ROC curve of scores against binary truth: the probability that a random positive scores above a
 * random negative, ties counting half (the Mann-Whitney U statistic over positives x negatives), from average ranks.
 * It does not depend on a threshold, so two judges that draw the line in different places compare on what they rank.
 * NaN when either class is empty.
 */
export function rocAuc(truth: readonly boolean[], scores: readonly number[]): number {
  if (truth.length !== scores.length) throw new Error(`rocAuc: ${truth.length} labels against ${scores.length} scores`);
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  let positives = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[start]]) end++;
    const rank = (start + end) / 2 + 1; // average 1-based rank of the tied run
    for (let k = start; k <= end; k++)
      if (truth[order[k]]) {
        rankSum += rank;
        positives++;
      }
    start = end + 1;
  }
  const negatives = truth.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
