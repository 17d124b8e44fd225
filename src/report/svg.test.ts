import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forestPlot, lineChart, niceTicks } from './svg.js';

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

test('error bars: one per point with a finite interval, in its colour, and the y axis reaches them', () => {
  const svg = lineChart(
    [
      {
        name: 'a',
        color: '#123456',
        points: [
          { x: 1, y: 10, lo: 5, hi: 130 },
          { x: 2, y: 20, lo: 15, hi: 25 },
          { x: 3, y: 15 },
          { x: 4, y: 12, lo: -Infinity, hi: Infinity },
        ],
      },
    ],
    { title: 't', xLabel: 'x', yLabel: 'y' },
  );
  const bars = [...svg.matchAll(/<path class="error-bar" d="M([\d.]+),([\d.]+)V([\d.]+)[^"]*" stroke="([^"]+)"/g)];
  assert.equal(bars.length, 2, 'no bar without an interval, nor for an unbounded one');
  assert.ok(bars.every((b) => b[4] === '#123456'));
  const yTicks = [...svg.matchAll(/text-anchor="end">([\d.-]+)<\/text>/g)].map((t) => Number(t[1]));
  assert.ok(Math.max(...yTicks) >= 130, `the y axis reaches the top of the first bar: ${yTicks}`);
  const [, , , top] = bars[0].map(Number);
  assert.ok(top >= 36, 'the bar stays inside the plot');
});

test('a forest plot puts the zero line and each dot where the axis says, and marks undecided rows', () => {
  const svg = forestPlot(
    [
      { label: 'a<b − c', diff: 10, lo: 4, hi: 16, decided: true },
      { label: 'd', diff: -5, lo: -12, hi: 2, decided: false, note: 'Holm p = 0.4' },
    ],
    { title: 'P & Q', xLabel: 'difference' },
  );
  const tickX = (label: string) => Number(svg.match(new RegExp(`<text x="([\\d.]+)"[^>]*>${label}</text>`))![1]);
  const zero = Number(svg.match(/<line class="zero" x1="([\d.]+)" x2="\1"/)![1]);
  assert.ok(Math.abs(zero - tickX('0')) < 0.05, 'the zero line is at the 0 tick');
  const perPoint = (tickX('10') - zero) / 10;
  assert.ok(perPoint > 0);
  const at = (v: number) => zero + v * perPoint;
  const dots = [...svg.matchAll(/<circle cx="([\d.]+)" cy="[\d.]+" r="4" fill="([^"]+)" stroke="([^"]+)"/g)];
  const cis = [...svg.matchAll(/<line class="ci" x1="([\d.]+)" x2="([\d.]+)"[^>]* stroke="([^"]+)"/g)];
  assert.equal(dots.length, 2);
  assert.equal(cis.length, 2);
  [
    [10, 4, 16],
    [-5, -12, 2],
  ].forEach(([diff, lo, hi], i) => {
    assert.ok(Math.abs(Number(dots[i][1]) - at(diff)) < 0.15, `row ${i}: dot at ${diff}`);
    assert.ok(Math.abs(Number(cis[i][1]) - at(lo)) < 0.15 && Math.abs(Number(cis[i][2]) - at(hi)) < 0.15);
  });
  assert.notEqual(dots[0][2], 'white', 'a decided row: a filled dot');
  assert.deepEqual([dots[1][2], dots[1][3], cis[1][3]], ['white', '#999', '#999'], 'undecided: hollow and grey');
  assert.equal((svg.match(/undecided/g) ?? []).length, 1, 'only the undecided row says so');
  assert.match(svg, />Holm p = 0.4, undecided</);
  assert.match(svg, /a&lt;b − c/);
  assert.match(svg, /P &amp; Q/);
  assert.doesNotMatch(svg, /a<b/);
});
