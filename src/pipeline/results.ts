/** Results over seeds: means and sample standard deviations per grid setting, and the table printed for them. */
import type { CellResult, GridSetting } from './grid.js';

export interface ArmSummary extends GridSetting {
  k: number;
  harmful_score: number;
  finetune_accuracy: number | null;
  select_seconds: number;
  align_seconds: number;
  harmful_score_sd: number;
  finetune_accuracy_sd: number | null;
  align_seconds_sd: number;
  /** Harmful score (probe prompts) after each attack epoch, averaged over seeds. */
  harmful_score_by_attack_epoch: number[];
  seeds: number[];
}

export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

/** One entry per setting (everything but the seed), in first-seen order. */
export function summarize(results: readonly CellResult[]): ArmSummary[] {
  const groups = new Map<string, CellResult[]>();
  for (const r of results) {
    const id = JSON.stringify([r.selector, r.ratio, r.defense, r.task, r.n, r.p]);
    groups.set(id, [...(groups.get(id) ?? []), r]);
  }
  return [...groups.values()].map((rs) => {
    const hs = meanSd(rs.map((r) => r.harmful_score));
    const accs = rs.map((r) => r.finetune_accuracy).filter((a): a is number => a !== null);
    const fa = accs.length === rs.length ? meanSd(accs) : null;
    const epochs = Math.min(...rs.map((r) => r.harmful_score_by_attack_epoch.length));
    const { selector, ratio, defense, task, n, p, k } = rs[0];
    const align = meanSd(rs.map((r) => r.align_seconds));
    return {
      selector,
      ratio,
      defense,
      task,
      n,
      p,
      k,
      harmful_score: hs.mean,
      finetune_accuracy: fa?.mean ?? null,
      select_seconds: meanSd(rs.map((r) => r.select_seconds)).mean,
      align_seconds: align.mean,
      harmful_score_sd: hs.sd,
      finetune_accuracy_sd: fa?.sd ?? null,
      align_seconds_sd: align.sd,
      harmful_score_by_attack_epoch: Array.from(
        { length: epochs },
        (_, e) => meanSd(rs.map((r) => r.harmful_score_by_attack_epoch[e])).mean,
      ),
      seeds: rs.map((r) => r.seed),
    };
  });
}

/**
 * The arm a row is measured against: the full pool under the same defense (what selection bought), and the
 * same data aligned with SFT (what the defense bought). Undefined where the grid has no such arm.
 */
export function referenceArms(arm: ArmSummary, arms: readonly ArmSummary[]): { full?: ArmSummary; sft?: ArmSummary } {
  const sameAttack = (b: ArmSummary) => b.task === arm.task && b.n === arm.n && b.p === arm.p;
  return {
    full:
      arm.selector === 'full'
        ? undefined
        : arms.find((b) => sameAttack(b) && b.selector === 'full' && b.defense === arm.defense),
    sft:
      arm.defense === 'sft'
        ? undefined
        : arms.find(
            (b) => sameAttack(b) && b.defense === 'sft' && b.selector === arm.selector && b.ratio === arm.ratio,
          ),
  };
}

/** mean ± sd, or the mean alone for one seed. */
export const meanPmSd = (m: number, sd: number, n: number, digits = 1) =>
  n > 1 ? `${m.toFixed(digits)} ± ${sd.toFixed(digits)}` : m.toFixed(digits);
const pm = meanPmSd;
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`;
const difference = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || a === undefined || b === null || b === undefined ? '—' : signed(a - b);

/**
 * The results table as header and rows: one row per setting, mean ± sd over seeds; columns that do not vary
 * across the arms are left out (`constant` names them with their value). Where the grid has them, each arm is
 * set against the full pool under the same defense (harmful score and accuracy differences, alignment time
 * ratio) and, for defenses other than SFT, against SFT on the same data.
 */
export function resultsTable(arms: readonly ArmSummary[]): { header: string[]; rows: string[][]; constant: string[] } {
  const varies = (f: (a: ArmSummary) => unknown) => new Set(arms.map((a) => JSON.stringify(f(a)))).size > 1;
  const refs = arms.map((a) => referenceArms(a, arms));
  const anyFull = refs.some((r) => r.full),
    anySft = refs.some((r) => r.sft);
  const columns: [string, (a: ArmSummary, i: number) => string, boolean][] = [
    ['selector', (a) => a.selector, true],
    ['k', (a) => String(a.k), true],
    ['defense', (a) => a.defense, varies((a) => a.defense)],
    ['task', (a) => a.task, varies((a) => a.task)],
    ['n', (a) => String(a.n), varies((a) => a.n)],
    ['p', (a) => String(a.p), varies((a) => a.p)],
    ['harmful score %', (a) => pm(a.harmful_score, a.harmful_score_sd, a.seeds.length), true],
    [
      'fine-tune accuracy %',
      (a) =>
        a.finetune_accuracy === null ? 'n/a' : pm(a.finetune_accuracy, a.finetune_accuracy_sd ?? 0, a.seeds.length),
      true,
    ],
    ['HS by attack epoch', (a) => a.harmful_score_by_attack_epoch.map((h) => h.toFixed(0)).join(' / '), true],
    ['select s', (a) => a.select_seconds.toFixed(0), true],
    ['align s', (a) => pm(a.align_seconds, a.align_seconds_sd, a.seeds.length, 0), true],
    ['HS vs full', (a, i) => difference(a.harmful_score, refs[i].full?.harmful_score), anyFull],
    ['FA vs full', (a, i) => difference(a.finetune_accuracy, refs[i].full?.finetune_accuracy), anyFull],
    [
      'align time vs full',
      (a, i) => (refs[i].full ? `${(a.align_seconds / refs[i].full!.align_seconds).toFixed(2)}×` : '—'),
      anyFull,
    ],
    ['HS vs SFT', (a, i) => difference(a.harmful_score, refs[i].sft?.harmful_score), anySft],
    ['FA vs SFT', (a, i) => difference(a.finetune_accuracy, refs[i].sft?.finetune_accuracy), anySft],
    ['seeds', (a) => String(a.seeds.length), true],
  ];
  const shown = columns.filter(([, , show]) => show);
  const first = arms[0];
  const constant = first
    ? (
        [
          ['defense', first.defense, varies((a) => a.defense)],
          ['task', first.task, varies((a) => a.task)],
          ['n', first.n, varies((a) => a.n)],
          ['p', first.p, varies((a) => a.p)],
        ] as const
      )
        .filter(([, , v]) => !v)
        .map(([name, value]) => `${name} ${value}`)
    : [];
  return { header: shown.map(([h]) => h), rows: arms.map((a, i) => shown.map(([, cell]) => cell(a, i))), constant };
}

/** The results table as padded Markdown (see resultsTable). */
export function formatTable(arms: readonly ArmSummary[]): string {
  const { header, rows } = resultsTable(arms);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => `| ${cells.map((x, c) => x.padEnd(widths[c])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
