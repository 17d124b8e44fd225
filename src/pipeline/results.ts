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
    return {
      selector, ratio, defense, task, n, p, k, harmful_score: hs.mean, finetune_accuracy: fa?.mean ?? null,
      select_seconds: meanSd(rs.map((r) => r.select_seconds)).mean, align_seconds: meanSd(rs.map((r) => r.align_seconds)).mean,
      harmful_score_sd: hs.sd, finetune_accuracy_sd: fa?.sd ?? null,
      harmful_score_by_attack_epoch: Array.from({ length: epochs }, (_, e) => meanSd(rs.map((r) => r.harmful_score_by_attack_epoch[e])).mean),
      seeds: rs.map((r) => r.seed),
    };
  });
}

/** A Markdown table; columns that do not vary across the arms are left out. */
export function formatTable(arms: readonly ArmSummary[]): string {
  const varies = (f: (a: ArmSummary) => unknown) => new Set(arms.map((a) => JSON.stringify(f(a)))).size > 1;
  const pm = (m: number, sd: number, n: number) => (n > 1 ? `${m.toFixed(1)} ± ${sd.toFixed(1)}` : m.toFixed(1));
  const columns: [string, (a: ArmSummary) => string, boolean][] = [
    ['selector', (a) => a.selector, true],
    ['k', (a) => String(a.k), true],
    ['defense', (a) => a.defense, varies((a) => a.defense)],
    ['task', (a) => a.task, varies((a) => a.task)],
    ['n', (a) => String(a.n), varies((a) => a.n)],
    ['p', (a) => String(a.p), varies((a) => a.p)],
    ['harmful score %', (a) => pm(a.harmful_score, a.harmful_score_sd, a.seeds.length), true],
    ['fine-tune accuracy %', (a) => (a.finetune_accuracy === null ? 'n/a' : pm(a.finetune_accuracy, a.finetune_accuracy_sd ?? 0, a.seeds.length)), true],
    ['HS by attack epoch', (a) => a.harmful_score_by_attack_epoch.map((h) => h.toFixed(0)).join(' / '), true],
    ['select s', (a) => a.select_seconds.toFixed(0), true],
    ['align s', (a) => a.align_seconds.toFixed(0), true],
    ['seeds', (a) => String(a.seeds.length), true],
  ];
  const shown = columns.filter(([, , show]) => show);
  const rows = arms.map((a) => shown.map(([, cell]) => cell(a)));
  const widths = shown.map(([h], c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => `| ${cells.map((x, c) => x.padEnd(widths[c])).join(' | ')} |`;
  return [line(shown.map(([h]) => h)), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
