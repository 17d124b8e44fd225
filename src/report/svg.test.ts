import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineChart, niceTicks } from './svg.js';

test('ticks are round and span the data', () => {
  for (const [lo, hi] of [
    [0, 0.113],
    [6, 12],
    [-3.2, 97.5],
    [2.3, 2.3],
    [0, 1e-4],
  ]) {
    const t = niceTicks(lo, hi);
    assert.ok(t[0] <= lo && t.at(-1)! >= hi, `[${lo}, ${hi}] -> ${t}`);
    assert.ok(t.length >= 2 && t.length <= 12, `${t}`);
  }
  assert.deepEqual(niceTicks(0, 100), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(niceTicks(1, 3, 5, true), [1, 2, 3], 'whole numbers for epochs');
  assert.deepEqual(niceTicks(1, 3), [1, 1.5, 2, 2.5, 3]);
});

test('dash patterns and a y axis that need not start at zero', () => {
  const series = [
    {
      name: 'a',
      dash: '6 4',
      points: [
        { x: 0, y: 3.9 },
        { x: 10, y: 4.1 },
      ],
    },
  ];
  const zoomed = lineChart(series, { title: 't', xLabel: 'x', yLabel: 'y', yFromZero: false });
  assert.match(zoomed, /<polyline[^>]*stroke-dasharray="6 4"/);
  assert.match(
    lineChart(series, { title: 't', xLabel: 'x', yLabel: 'y' }),
    /text-anchor="end">0<\/text>/,
    'from zero by default',
  );
  assert.doesNotMatch(zoomed, /text-anchor="end">0<\/text>/, 'zoomed: no 0 tick on the y axis');
});

test('a chart draws one line and marker set per series, escapes text, and keeps points inside the plot', () => {
  const svg = lineChart(
    [
      {
        name: 'a<b',
        points: [
          { x: 1, y: 2 },
          { x: 2, y: 5 },
        ],
      },
      { name: 'c', points: [{ x: 1, y: 0.5 }] },
    ],
    { title: 'T & U', xLabel: 'x', yLabel: 'y', width: 400, height: 300 },
  );
  assert.equal((svg.match(/<polyline/g) ?? []).length, 1);
  assert.equal((svg.match(/<circle/g) ?? []).length, 3);
  assert.match(svg, /T &amp; U/);
  assert.match(svg, /a&lt;b/);
  for (const m of svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)) {
    const [x, y] = [Number(m[1]), Number(m[2])];
    assert.ok(x >= 64 && x <= 384 && y >= 36 && y <= 228, `point (${x}, ${y}) inside the axes`);
  }
});
