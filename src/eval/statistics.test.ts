/**
 * Intervals against values computed independently with SciPy 1.17 (Debian's python3-scipy):
 *   stats.t.ppf(0.975, df); stats.t.cdf(t, df); stats.ttest_1samp(x, 0) with mean -+ t.ppf(0.975, n-1) * sem;
 * Wilson by the formula in ../shared/reference/statistics.md, evaluated in Python.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bootstrapInterval,
  rocAuc,
  holmAdjust,
  discordantPairs,
  mcnemarExact,
  studentTCdf,
  studentTQuantile,
  tInterval,
  wilsonInterval,
} from './statistics.js';
import { Rng } from '../engine/index.js';

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('Wilson interval: reference values, including p = 0 and p = 1', () => {
  const cases: [number, number, [number, number]][] = [
    [80, 200, [33.460578566807335, 46.916327960737995]],
    [0, 50, [0, 7.134759913335873]],
    [50, 50, [92.86524008666413, 100]],
    [1, 3, [6.149194472039621, 79.23403991979522]],
  ];
  for (const [h, m, [lo, hi]] of cases) {
    const [a, b] = wilsonInterval(h, m);
    close(a, lo, 1e-9, `${h}/${m} lower`);
    close(b, hi, 1e-9, `${h}/${m} upper`);
  }
  assert.deepEqual(wilsonInterval(0, 0), [0, 100]);
});

test("Student's t: quantiles and CDF match SciPy", () => {
  const q: [number, number][] = [
    [1, 12.706205],
    [2, 4.302653],
    [4, 2.776445],
    [9, 2.262157],
    [19, 2.093024],
    [100, 1.983972],
  ];
  for (const [df, v] of q) close(studentTQuantile(0.975, df), v, 1e-5, `t(0.975, ${df})`);
  close(studentTCdf(-2.0, 3), 0.06966298427942152, 1e-9, 'cdf(-2, 3)');
  close(studentTCdf(1.5, 7), 0.911350756505015, 1e-9, 'cdf(1.5, 7)');
});

test('t-interval and p-value of a mean match scipy.stats.ttest_1samp', () => {
  const r = tInterval([3.1, -0.4, 2.2, 5.0, 1.1]);
  close(r.mean, 2.2, 1e-12, 'mean');
  close(r.ci[0], -0.3309851852250949, 1e-6, 'lower');
  close(r.ci[1], 4.730985185225095, 1e-6, 'upper');
  close(r.p, 0.07328765898088409, 1e-7, 'p');
  assert.deepEqual(tInterval([4]).ci, [-Infinity, Infinity], 'one value has no interval');
});

test('McNemar exact p matches 2 * scipy.stats.binom.cdf(min(b, c), b + c, 0.5), capped at 1', () => {
  const cases: [number, number, number][] = [
    [10, 3, 0.09228515625],
    [0, 0, 1],
    [5, 5, 1],
    [20, 8, 0.03569813817739487],
    [1, 12, 0.00341796875],
  ];
  for (const [b, c, p] of cases) close(mcnemarExact(b, c), p, 1e-10, `b ${b} c ${c}`);
});

test("discordant pairs: McNemar's b and c from paired outcomes; lists of unequal length are an error", () => {
  assert.deepEqual(discordantPairs([1, 1, 0, 0, 1], [1, 0, 1, 0, 0]), [2, 1]);
  assert.deepEqual(discordantPairs([true, false], [true, false]), [0, 0]);
  assert.throws(() => discordantPairs([1], [1, 0]), /1 outcomes against 2/);
});

test('Holm adjustment: step-down, monotone, in input order (values worked out by hand in Python)', () => {
  const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.2]);
  [0.04, 0.09, 0.09, 0.2].forEach((v, i) => close(adjusted[i], v, 1e-12, `p${i}`));
});

test('bootstrap interval: seeded, brackets the mean of a sample, and narrows with more units', () => {
  const xs = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 3 + 1);
  const mean = (idx: readonly number[]) => idx.reduce((a, i) => a + xs[i], 0) / idx.length;
  const [lo, hi] = bootstrapInterval(xs.length, mean, { seed: 3 });
  const m = mean(xs.map((_, i) => i));
  assert.ok(lo < m && m < hi, `${lo} < ${m} < ${hi}`);
  assert.deepEqual(bootstrapInterval(xs.length, mean, { seed: 3 }), [lo, hi]);
  const t = tInterval(xs);
  assert.ok(Math.abs(hi - lo - (t.ci[1] - t.ci[0])) < 0.15 * (t.ci[1] - t.ci[0]), 'close to the t-interval here');
});

test('ROC AUC: the share of (positive, negative) pairs ranked right, ties half, against counting every pair', () => {
  assert.equal(rocAuc([true, true, false, false], [0.9, 0.8, 0.2, 0.1]), 1);
  assert.equal(rocAuc([true, true, false, false], [0.1, 0.2, 0.8, 0.9]), 0);
  assert.equal(rocAuc([true, false], [0.5, 0.5]), 0.5);
  // positives 0.8, 0.4, 0.4; negatives 0.4, 0.3, 0.9: pairs right 1 + 1 + 0 | 0.5 + 1 + 0 | 0.5 + 1 + 0 = 5 of 9.
  assert.equal(rocAuc([true, true, true, false, false, false], [0.8, 0.4, 0.4, 0.4, 0.3, 0.9]), 5 / 9);
  const rng = new Rng(3);
  const truth = Array.from({ length: 200 }, () => rng.uniform() < 0.3);
  const scores = truth.map((t) => Math.round((rng.normal() + (t ? 1 : 0)) * 4) / 4); // ties on a grid
  let right = 0;
  let total = 0;
  truth.forEach((ti, i) =>
    truth.forEach((tj, j) => {
      if (!ti || tj) return;
      total++;
      right += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }),
  );
  assert.ok(Math.abs(rocAuc(truth, scores) - right / total) < 1e-12);
  assert.ok(Number.isNaN(rocAuc([true, true], [0.1, 0.2])), 'one class only');
  assert.throws(() => rocAuc([true], [0.1, 0.2]), /1 labels against 2 scores/);
});
