/** Results over seeds: means and sample standard deviations per grid setting, and the table printed for them. */
import { bootstrapInterval, discordantPairs, holmAdjust, mcnemarExact, tInterval } from '../eval/statistics.js';
import type { CellResult, GridSetting } from './grid.js';
import { STEP_MATCHED_FULL } from './grid-config.js';
import type { StageSeeds } from './seeds.js';

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
  /** 95% interval of the harmful score: Wilson over prompts for one seed, t over seeds for several. */
  harmful_score_ci: [number, number] | null;
  harmful_score_ci_over: 'prompts' | 'seeds';
  /** The judge-free harmful margin: one seed, mean and t-interval over prompts; several, over seed means. */
  harmful_margin: { mean: number; ci: [number, number] } | null;
  seeds: number[];
  /** Each replicate's cell (seeds, harmful score, per-prompt verdicts), for paired comparisons. */
  by_seed: { seed: number; seeds?: StageSeeds; harmful_score: number; verdicts: number[] }[];
  /** Paired harmful-score differences against the reference arms the grid has (see pairedComparisons). */
  paired: Record<string, PairedDifference>;
}

/**
 * One arm minus a reference arm, paired: over seeds (t-interval, t-test p; bootstrap over seeds as a check)
 * when both have two or more seeds in common, else within the one seed over prompts (exact McNemar p on the
 * per-prompt verdicts, percentile bootstrap interval over prompts). `p_holm` is Holm-adjusted over every
 * comparison of the table; `decided` is true when the interval excludes 0.
 */
export interface PairedDifference {
  diff: number;
  ci: [number, number];
  p: number;
  p_holm: number;
  over: 'seeds' | 'prompts';
  n: number;
  decided: boolean;
  bootstrap_ci?: [number, number];
}

export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

/** Cells grouped by setting (everything but the seeds): one group per arm of a table, in first-seen order. */
export function groupBySetting<T extends GridSetting>(cells: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const r of cells) {
    const id = JSON.stringify([r.selector, r.ratio, r.defense, r.task, r.n, r.p]);
    groups.set(id, [...(groups.get(id) ?? []), r]);
  }
  return [...groups.values()];
}

/** An arm as notes and errors name it: the selector, its ratio unless it is Full, and the defense. */
export const armLabel = (a: Pick<GridSetting, 'selector' | 'ratio' | 'defense'>) =>
  `${a.selector}${a.selector === 'full' ? '' : ` ${a.ratio}`} + ${a.defense}`;

/** One entry per setting (everything but the seed), in first-seen order. */
export function summarize(results: readonly CellResult[]): ArmSummary[] {
  const arms = groupBySetting(results).map((rs): ArmSummary => {
    const hs = meanSd(rs.map((r) => r.harmful_score));
    const accs = rs.map((r) => r.finetune_accuracy).filter((a): a is number => a !== null);
    const fa = accs.length === rs.length ? meanSd(accs) : null;
    const epochs = Math.min(...rs.map((r) => r.harmful_score_by_attack_epoch.length));
    const { selector, ratio, defense, task, n, p, k } = rs[0];
    const align = meanSd(rs.map((r) => r.align_seconds));
    const margins = rs.map((r) => r.harmful_margin).filter((m) => m !== null && m !== undefined);
    const overSeeds = rs.length > 1;
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
      harmful_score_ci: overSeeds ? tInterval(rs.map((r) => r.harmful_score)).ci : (rs[0].harmful_score_ci ?? null),
      harmful_score_ci_over: overSeeds ? 'seeds' : 'prompts',
      harmful_margin:
        margins.length !== rs.length
          ? null
          : overSeeds
            ? (({ mean, ci }) => ({ mean, ci }))(tInterval(margins.map((m) => m.mean)))
            : { mean: margins[0].mean, ci: margins[0].ci },
      seeds: rs.map((r) => r.seed),
      by_seed: rs.map((r) => ({
        seed: r.seed,
        seeds: r.seeds,
        harmful_score: r.harmful_score,
        verdicts: r.harmful_verdicts ?? [],
      })),
      paired: {},
    };
  });
  return withPairedComparisons(arms);
}

/** The arms a row is paired against, by comparison name: full, random and the controls, and SFT for defenses. */
function pairedReferences(arm: ArmSummary, arms: readonly ArmSummary[]): [string, ArmSummary][] {
  const { full, sft } = referenceArms(arm, arms);
  const out: [string, ArmSummary][] = full ? [['vs_full', full]] : [];
  // Random, the controls and the step-matched Full arm at the same subset size, under the same defense and attack.
  for (const ref of PAIRED_REFERENCES) {
    const b = arms.find(
      (x) =>
        x.selector === ref &&
        x.ratio === arm.ratio &&
        x.defense === arm.defense &&
        x.task === arm.task &&
        x.n === arm.n &&
        x.p === arm.p,
    );
    if (b && arm.selector !== ref) out.push([pairedName(ref), b]);
  }
  if (sft) out.push(['vs_sft', sft]);
  return out;
}

/** The arms besides Full that every arm is paired against when the grid has them (at the same ratio). */
const PAIRED_REFERENCES = ['random', 'refusal', 'shortest', STEP_MATCHED_FULL] as const;
const pairedName = (ref: string) => `vs_${ref.replaceAll('-', '_')}`;

/** What pairs two arms' cells: the same replicate, i.e. the same stage seeds (the seed alone for older records). */
const replicateKey = (r: ArmSummary['by_seed'][number]) => JSON.stringify(r.seeds ?? r.seed);

export function pairedDifference(arm: ArmSummary, ref: ArmSummary): Omit<PairedDifference, 'p_holm'> | null {
  const refs = new Map(ref.by_seed.map((b) => [replicateKey(b), b]));
  const common = arm.by_seed.filter((a) => refs.has(replicateKey(a)));
  if (common.length === 0) return null;
  const refOf = (a: ArmSummary['by_seed'][number]) => refs.get(replicateKey(a))!;
  if (common.length >= 2) {
    const d = common.map((a) => a.harmful_score - refOf(a).harmful_score);
    const t = tInterval(d);
    const boot = bootstrapInterval(d.length, (idx) => idx.reduce((s, i) => s + d[i], 0) / idx.length);
    return {
      diff: t.mean,
      ci: t.ci,
      p: t.p,
      over: 'seeds',
      n: d.length,
      decided: !(t.ci[0] <= 0 && 0 <= t.ci[1]),
      bootstrap_ci: boot,
    };
  }
  const a = common[0].verdicts,
    b = refOf(common[0]).verdicts;
  if (a.length === 0 || a.length !== b.length) return null;
  const [yesNo, noYes] = discordantPairs(a, b);
  const m = a.length;
  const ci = bootstrapInterval(m, (idx) => (100 * idx.reduce((s, i) => s + a[i] - b[i], 0)) / idx.length);
  return {
    diff: (100 * (yesNo - noYes)) / m,
    ci,
    p: mcnemarExact(yesNo, noYes),
    over: 'prompts',
    n: m,
    decided: !(ci[0] <= 0 && 0 <= ci[1]),
  };
}

/**
 * Fill every arm's `paired` entries, with Holm-adjusted p over the table's distinct comparisons: A vs B and B vs A
 * (Random's `vs_refusal` and `refusal`'s `vs_random`) are one hypothesis with one p, counted once.
 */
function withPairedComparisons(arms: ArmSummary[]): ArmSummary[] {
  const all: { arm: ArmSummary; name: string; pair: string; d: Omit<PairedDifference, 'p_holm'> }[] = [];
  for (const arm of arms)
    for (const [name, ref] of pairedReferences(arm, arms)) {
      const d = pairedDifference(arm, ref);
      const pair = [arms.indexOf(arm), arms.indexOf(ref)].sort((x, y) => x - y).join(',');
      if (d) all.push({ arm, name, pair, d });
    }
  const distinct = [...new Map(all.map((c) => [c.pair, c.d.p])).entries()];
  const adjusted = new Map(holmAdjust(distinct.map(([, p]) => p)).map((p, i) => [distinct[i][0], p]));
  all.forEach((c) => (c.arm.paired[c.name] = { ...c.d, p_holm: adjusted.get(c.pair)! }));
  return arms;
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
/** A paired difference as "−10.0 [−15.2, −4.8] (seeds)", marked undecided when its interval holds 0. */
const pairedCell = (d: PairedDifference | undefined) =>
  d === undefined ? '—' : `${signed(d.diff)} ${interval(d.ci, d.over)}${d.decided ? '' : ' undecided'}`;
/** [lo, hi], with what the interval is over when given; an unbounded (one-value) interval says so. */
const interval = (ci: [number, number] | null, over: string | null, digits = 1) =>
  ci === null
    ? '—'
    : !Number.isFinite(ci[0])
      ? '(one value)'
      : `[${ci[0].toFixed(digits)}, ${ci[1].toFixed(digits)}]${over ? ` over ${over}` : ''}`;
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
    ['HS 95% CI', (a) => interval(a.harmful_score_ci, a.harmful_score_ci_over), true],
    [
      'harmful margin (95% CI)',
      (a) => (a.harmful_margin ? `${a.harmful_margin.mean.toFixed(3)} ${interval(a.harmful_margin.ci, null, 3)}` : '—'),
      true,
    ],
    ['HS by attack epoch', (a) => a.harmful_score_by_attack_epoch.map((h) => h.toFixed(0)).join(' / '), true],
    ['select s', (a) => a.select_seconds.toFixed(0), true],
    ['align s', (a) => pm(a.align_seconds, a.align_seconds_sd, a.seeds.length, 0), true],
    ['HS vs full', (a) => pairedCell(a.paired.vs_full), anyFull],
    ...PAIRED_REFERENCES.map((ref): [string, (a: ArmSummary) => string, boolean] => [
      `HS vs ${ref}`,
      (a) => pairedCell(a.paired[pairedName(ref)]),
      arms.some((a) => a.paired[pairedName(ref)]),
    ]),
    ['FA vs full', (a, i) => difference(a.finetune_accuracy, refs[i].full?.finetune_accuracy), anyFull],
    [
      'align time vs full',
      (a, i) => (refs[i].full ? `${(a.align_seconds / refs[i].full!.align_seconds).toFixed(2)}×` : '—'),
      anyFull,
    ],
    ['HS vs SFT', (a) => pairedCell(a.paired.vs_sft), anySft],
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

/**
 * Comparisons against the full pool (and, for defenses, against SFT) where the judge's harmful score and the
 * judge-free harmful margin point in opposite directions: a higher score with a lower margin, or the reverse.
 * Both measure how far the attack got; when they disagree the comparison rests on the judge alone.
 */
export function measureDisagreements(arms: readonly ArmSummary[]): string[] {
  const out: string[] = [];
  for (const arm of arms) {
    const refs = referenceArms(arm, arms);
    for (const ref of [refs.full, refs.sft]) {
      if (!ref || !arm.harmful_margin || !ref.harmful_margin) continue;
      const dHs = arm.harmful_score - ref.harmful_score,
        dMargin = arm.harmful_margin.mean - ref.harmful_margin.mean;
      if (dHs !== 0 && dMargin !== 0 && Math.sign(dHs) !== Math.sign(dMargin))
        out.push(
          `${armLabel(arm)} vs ${armLabel(ref)}: the harmful score says ${signed(dHs)} points, the harmful margin ` +
            `${dMargin >= 0 ? '+' : '−'}${Math.abs(dMargin).toFixed(3)}; the two measures disagree on this comparison.`,
        );
    }
  }
  return out;
}

/**
 * When a grid crosses stage seed lists (one world, several selection, alignment or attack seeds), its
 * replicates share stages and are not independent: intervals over them are too narrow. Say so.
 */
export function crossedSeedsNote(arms: readonly ArmSummary[]): string[] {
  const crossed = arms.some((a) => new Set(a.by_seed.map((r) => r.seed)).size < a.by_seed.length);
  return crossed
    ? [
        'replicates share a seed with crossed stage seeds (a variance-decomposition grid); the intervals over ' +
          'them treat them as independent and are too narrow: use `pharmacist variance` on this run.',
      ]
    : [];
}

/**
 * Everything a report shows of a results store, computed here so the report only lays it out: the arms
 * (summaries with their paired comparisons), the table, the notes where the measures disagree, and which
 * selectors keep the whole pool (no place on a subset-size axis).
 */
export interface ResultsAnalysis {
  arms: ArmSummary[];
  table: ReturnType<typeof resultsTable>;
  disagreements: string[];
  wholePoolSelectors: readonly string[];
}

export function analyzeResults(results: readonly CellResult[]): ResultsAnalysis {
  const arms = summarize(results);
  return {
    arms,
    table: resultsTable(arms),
    disagreements: measureDisagreements(arms),
    wholePoolSelectors: ['full', STEP_MATCHED_FULL],
  };
}

/** The results table as padded Markdown (see resultsTable). */
export function formatTable(arms: readonly ArmSummary[]): string {
  const { header, rows } = resultsTable(arms);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => `| ${cells.map((x, c) => x.padEnd(widths[c])).join(' | ')} |`;
  const notes = [...measureDisagreements(arms), ...crossedSeedsNote(arms)].map((n) => `Note: ${n}`);
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line), ...notes].join('\n');
}
