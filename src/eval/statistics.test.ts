/**
 * Intervals against values computed independently with SciPy 1.17 (Debian's python3-scipy):
 *   stats.t.ppf(0.975, df); stats.t.cdf(t, df); stats.ttest_1samp(x, 0) with mean -+ t.ppf(0.975, n-1) * sem;
 * Wilson by the formula in ../shared/reference/statistics.md, evaluated in Python.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { studentTCdf, studentTQuantile, tInterval, wilsonInterval } from './statistics.js';

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
