/**
 * `pharmacist report RESULTS`: tables and figures from a results store (a grid's results.json and the stage
 * records it points to), as report.md (with the figures beside it as SVG files) and a self-contained
 * report.html (inline SVG, no scripts, no network).
 * - Table: harmful score, fine-tune accuracy, selection and alignment time per selector x k x defense x task
 *   x n x p, mean ± sd over seeds.
 * - Figure 1: harmful score (with 95% error bars) and alignment time against the number of alignment samples,
 *   per selector; the step-matched Full arm (its k is the pool) is left out.
 * - Figure 3: harmful score after each attack epoch, validation loss during alignment, harmful-set loss
 *   during fine-tuning, per selector.
 * - Paired differences: each arm minus its reference arms (ArmSummary.paired) with 95% intervals, a forest plot.
 * - The manifest: versions, seeds, config, model and data hashes.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { readRecord } from '../io/json-record.js';
import type { AlignRecord, AttackRecord, CellResult, ResultsStore } from '../pipeline/records.js';
import type { ArmSummary, ResultsAnalysis } from '../pipeline/results.js';
import { COLORS, DASHES, forestPlot, lineChart, type Series } from './svg.js';

export type { ResultsStore };

export function loadResults(path: string): ResultsStore {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'results.json') : path;
  if (!existsSync(file)) throw new Error(`${file}: not found (give a grid's run folder or its results.json)`);
  const store = readRecord<ResultsStore>(file, { kind: 'grid', fields: ['results', 'config', 'environment'] });
  if (!Array.isArray(store.results)) throw new Error(`${file}: field "results" should be an array of cells`);
  // Stage paths are relative to where the grid ran: find that folder from run_dir, so reports rebuild from anywhere.
  const runDir = typeof store.config.run_dir === 'string' ? store.config.run_dir : null;
  const here = resolve(dirname(file));
  const origin =
    runDir && !isAbsolute(runDir) && here.endsWith(join('/', runDir))
      ? here.slice(0, here.length - join('/', runDir).length) || '/'
      : null;
  if (origin) {
    for (const r of store.results) {
      for (const k of Object.keys(r.stages) as (keyof CellResult['stages'])[])
        if (!isAbsolute(r.stages[k]) && !existsSync(r.stages[k])) r.stages[k] = join(origin, r.stages[k]);
    }
  }
  return store;
}

interface Figure {
  id: string;
  caption: string;
  svg: string;
}

type Curve = AlignRecord['curves'][string];

/** A loss curve of a stage's record.json (none when the stage left no record or the record no such curve). */
function stageCurve(dir: string, stage: 'align' | 'attack', key: string): Curve | undefined {
  const file = join(dir, 'record.json');
  if (!existsSync(file)) return undefined;
  return readRecord<AlignRecord | AttackRecord>(file, { kind: stage, fields: ['curves'] }).curves[key];
}

/** Mean of curves point by point (curves of one setting over seeds share their steps). */
function meanCurve(curves: Curve[]): { x: number; y: number }[] {
  const n = Math.min(...curves.map((c) => c.length));
  return Array.from({ length: Number.isFinite(n) ? n : 0 }, (_, i) => ({
    x: curves[0][i].step,
    y: curves.reduce((sum, c) => sum + c[i].loss, 0) / curves.length,
  }));
}

function figures({ arms, wholePoolSelectors }: ResultsAnalysis, results: readonly CellResult[]): Figure[] {
  const out: Figure[] = [];
  // One colour per selector in every figure; in Figure 3, one dash pattern per subset size of that selector.
  const palette = new Map([...new Set(arms.map((a) => a.selector))].map((s, i) => [s, COLORS[i % COLORS.length]]));
  const ratios = [...new Set(arms.filter((a) => a.selector !== 'full').map((a) => a.ratio))].sort((x, y) => y - x);
  const look = (a: ArmSummary) => ({
    color: palette.get(a.selector),
    dash: a.selector === 'full' ? undefined : DASHES[ratios.indexOf(a.ratio) % DASHES.length],
  });
  // Figure 1: against k, one series per selector, for the first (defense, task, n, p) setting.
  const first = arms[0];
  if (!first) return out;
  const same = (a: { defense: string; task: string; n: number; p: number }) =>
    a.defense === first.defense && a.task === first.task && a.n === first.n && a.p === first.p;
  // Full is every series' last point; the step-matched Full arm (its k is the pool's too) has no place on a k axis.
  const selectors = [...new Set(arms.filter(same).map((a) => a.selector))].filter(
    (s) => !wholePoolSelectors.includes(s),
  );
  const full = arms.find((a) => same(a) && a.selector === 'full');
  const onKAxis = (s: string) => [...arms.filter((a) => same(a) && a.selector === s), ...(full ? [full] : [])];
  const bySelector = (point: (a: ArmSummary) => { y: number; lo?: number; hi?: number }): Series[] =>
    selectors.map((s) => ({
      name: s,
      color: palette.get(s),
      points: onKAxis(s).map((a) => ({ x: a.k, ...point(a) })),
    }));
  const setting = `${first.defense}, ${first.task}, n = ${first.n}, p = ${first.p}`;
  const overs = new Set(
    selectors.flatMap(onKAxis).flatMap((a) => (a.harmful_score_ci ? [a.harmful_score_ci_over] : [])),
  );
  const bars =
    overs.size === 0
      ? ''
      : overs.size === 2
        ? ' Bars: 95% intervals (t over seeds, or Wilson over prompts with one seed).'
        : overs.has('seeds')
          ? ' Bars: 95% t-intervals over seeds.'
          : ' Bars: 95% Wilson intervals over the evaluation prompts (one seed).';
  out.push({
    id: 'figure-1-harmful-score',
    caption:
      `Figure 1a. Harmful score after the attack against the number of alignment samples (${setting}); ` +
      `the last point of each line is the full pool.${bars}`,
    svg: lineChart(
      bySelector((a) => ({ y: a.harmful_score, lo: a.harmful_score_ci?.[0], hi: a.harmful_score_ci?.[1] })),
      { title: 'Harmful score vs alignment samples', xLabel: 'alignment samples k', yLabel: 'harmful score %' },
    ),
  });
  out.push({
    id: 'figure-1-alignment-time',
    caption: `Figure 1b. Alignment time against the number of alignment samples (${setting}).`,
    svg: lineChart(
      bySelector((a) => ({ y: a.align_seconds })),
      { title: 'Alignment time vs alignment samples', xLabel: 'alignment samples k', yLabel: 'seconds' },
    ),
  });

  // Figure 3: per arm of the first setting.
  const armsOfSetting = arms.filter(same);
  const name = (a: ArmSummary) => (a.selector === 'full' ? 'full' : `${a.selector} k=${a.k}`);
  const cellsOf = (a: ArmSummary) => results.filter((r) => r.selector === a.selector && r.ratio === a.ratio && same(r));
  const curves = (a: ArmSummary, stage: 'align' | 'attack', key: string): Curve[] =>
    cellsOf(a).flatMap((r) => {
      const curve = stageCurve(r.stages[stage], stage, key);
      return curve ? [curve] : [];
    });
  out.push({
    id: 'figure-3-harmful-score-during-fine-tuning',
    caption: `Figure 3a. Harmful score (probe prompts) after each attack epoch (${setting}).`,
    svg: lineChart(
      armsOfSetting.map((a) => ({
        name: name(a),
        ...look(a),
        points: a.harmful_score_by_attack_epoch.map((y, e) => ({ x: e + 1, y })),
      })),
      { title: 'Harmful score during fine-tuning', xLabel: 'attack epoch', yLabel: 'harmful score %' },
    ),
  });
  out.push({
    id: 'figure-3-validation-loss-during-alignment',
    caption: `Figure 3b. Validation loss during alignment (${setting}).`,
    svg: lineChart(
      armsOfSetting.map((a) => ({ name: name(a), ...look(a), points: meanCurve(curves(a, 'align', 'validation')) })),
      { title: 'Validation loss during alignment', xLabel: 'alignment step', yLabel: 'loss', yFromZero: false },
    ),
  });
  out.push({
    id: 'figure-3-harmful-loss-during-fine-tuning',
    caption: `Figure 3c. Harmful-set loss during fine-tuning (${setting}).`,
    svg: lineChart(
      armsOfSetting.map((a) => ({ name: name(a), ...look(a), points: meanCurve(curves(a, 'attack', 'harmful')) })),
      { title: 'Harmful loss during fine-tuning', xLabel: 'attack step', yLabel: 'loss', yFromZero: false },
    ),
  });
  const paired = pairedDifferences(armsOfSetting, name, setting);
  if (paired) out.push(paired);
  return out;
}

/** The reference arm a comparison name stands for, as a label: vs_random -> random, vs_full_steps -> full-steps. */
const referenceLabel = (comparison: string) =>
  comparison === 'vs_sft' ? 'same arm under SFT' : comparison.replace(/^vs_/, '').replaceAll('_', '-');

/** Every arm's paired harmful-score differences (ArmSummary.paired) as a forest plot; null when there are none. */
function pairedDifferences(
  arms: readonly ArmSummary[],
  name: (a: ArmSummary) => string,
  setting: string,
): Figure | null {
  const rows = arms.flatMap((a) =>
    Object.entries(a.paired).map(([comparison, d]) => ({
      label: `${name(a)} − ${referenceLabel(comparison)} (${d.over}, n=${d.n})`,
      diff: d.diff,
      lo: d.ci[0],
      hi: d.ci[1],
      decided: d.decided,
      note: `Holm p ${d.p_holm < 0.001 ? '< 0.001' : `= ${d.p_holm.toFixed(3)}`}`,
    })),
  );
  if (rows.length === 0) return null;
  return {
    id: 'figure-paired-differences',
    caption:
      `Paired differences. Harmful score of each arm minus its reference arm, in points (${setting}), paired ` +
      'within seed (the same stage seeds): dot the mean difference, bar its 95% interval, a t-interval over ' +
      'seeds (or, with one seed, a percentile bootstrap over the evaluation prompts). Hollow grey rows are ' +
      'undecided: their interval contains 0. At the right, the p-value Holm-adjusted over every distinct comparison of ' +
      'the table (t-test over seeds, exact McNemar over prompts).',
    svg: forestPlot(rows, {
      title: 'Paired differences in harmful score',
      xLabel: 'difference in harmful score (points)',
    }),
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

export interface Report {
  markdown: string;
  html: string;
  figures: Figure[];
}

/** The report of a results store, from its analysis (pipeline/results.ts analyzeResults: the report computes nothing). */
export function buildReport(store: ResultsStore, analysis: ResultsAnalysis): Report {
  const { header, rows, constant } = analysis.table;
  const disagreements = analysis.disagreements;
  const figs = figures(analysis, store.results);
  const seeds = [...new Set(store.results.map((r) => r.seed))];
  const everyCell = constant.length ? `; every cell: ${constant.join(', ')}` : '';
  const intro =
    `${store.results.length} cells, seeds ${seeds.join(', ')}${everyCell}. ` +
    'Harmful score: % of evaluation prompts whose greedy answer the judge flags after the attack; ' +
    "fine-tune accuracy (FA) on the task's test items; times in seconds; " +
    '"vs full": the same defense on the full pool; "vs SFT": the same data aligned with SFT.';
  const manifest = {
    status: store.status ?? null,
    cells: store.results.length,
    seeds,
    model: store.model ?? null,
    judge: store.judge ?? null,
    environment: store.environment,
    config: store.config,
  };
  const md = [
    '# Pharmacist report',
    '',
    intro,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => ' --- ').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    ...disagreements.flatMap((n) => [`**The measures disagree.** ${n}`, '']),
    ...figs.flatMap((f) => [`![${f.caption}](${f.id}.svg)`, '', f.caption, '']),
    '## Manifest',
    '',
    '```json',
    JSON.stringify(manifest, null, 2),
    '```',
    '',
  ].join('\n');
  const html = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>Pharmacist report</title>',
    '<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}' +
      'table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}' +
      'th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}figure{margin:1.5em 0}' +
      'pre{background:#f8f8f8;padding:1em;overflow:auto}</style>',
    '</head><body>',
    '<h1>Pharmacist report</h1>',
    `<p>${escapeHtml(intro)}</p>`,
    '<table id="results"><thead><tr>',
    ...header.map((h) => `<th>${escapeHtml(h)}</th>`),
    '</tr></thead><tbody>',
    ...rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`),
    '</tbody></table>',
    ...disagreements.map((n) => `<p class="disagreement"><strong>The measures disagree.</strong> ${escapeHtml(n)}</p>`),
    ...figs.map((f) => `<figure id="${f.id}">${f.svg}<figcaption>${escapeHtml(f.caption)}</figcaption></figure>`),
    '<h2>Manifest</h2>',
    `<pre id="manifest">${escapeHtml(JSON.stringify(manifest, null, 2))}</pre>`,
    '</body></html>',
    '',
  ].join('\n');
  return { markdown: md, html, figures: figs };
}

/** Write report.md, its SVG figures and report.html into `outDir`, atomically. */
export function writeReport(store: ResultsStore, analysis: ResultsAnalysis, outDir: string): Report {
  const report = buildReport(store, analysis);
  for (const f of report.figures) writeFileAtomic(join(outDir, `${f.id}.svg`), f.svg);
  writeFileAtomic(join(outDir, 'report.md'), report.markdown);
  writeFileAtomic(join(outDir, 'report.html'), report.html);
  return report;
}
