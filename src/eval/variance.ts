/**
 * Where the variance of the harmful score comes from (../shared/reference/statistics.md, "nested design"):
 * a selection seeds, each with b alignment seeds, each with c attack seeds, one HS per attack replicate from
 * m prompts. A balanced nested random-effects ANOVA splits the spread of those HS values into selection,
 * alignment, attack and evaluation (binomial) parts, so the next run knows which seed to repeat and whether
 * more prompts would help at all.
 */
import { studentTQuantile } from './statistics.js';

/** One attack replicate's harmful score (points, 0..100) from m prompts, and where it sits in the nest. */
export interface NestedObservation {
  selection: string | number;
  alignment: string | number;
  attack: string | number;
  score: number;
  prompts: number;
}

type Parts<T> = { selection: T; alignment: T; attack: T };

export interface VarianceComponents {
  /**
   * Variance components in points^2. Each is truncated at 0: a negative ANOVA estimate means the component
   * is indistinguishable from 0 at this design size, not that it is negative. var_eval is the binomial
   * p(1-p)/m at the grand mean, which is never negative.
   */
  selection: number;
  alignment: number;
  attack: number;
  evaluation: number;
  /** Sum of the four (truncated) components. */
  total: number;
  /** Share of total per component (0..1); all 0 when total is 0. */
  shares: Parts<number> & { evaluation: number };
  /** Mean squares between selections, between alignments within a selection, between attacks within one. */
  meanSquares: Parts<number>;
  /** Their degrees of freedom: a-1, a(b-1), ab(c-1). */
  df: Parts<number>;
  /** The design sizes a, b, c and m. */
  design: { selections: number; alignmentsPerSelection: number; attacksPerAlignment: number; prompts: number };
  /** Grand mean HS (points). */
  mean: number;
  /**
   * The simpler SDs of statistics.md, in points: of HS across attack seeds (alignment fixed, pooled), of
   * alignment means within a selection (pooled), of selection means, and the binomial 100 sqrt(p(1-p)/m).
   * Each mixes in the levels below it (e.g. acrossAlignments includes attack and evaluation noise / c).
   */
  sd: { acrossAttacks: number; acrossAlignments: number; acrossSelections: number; binomial: number };
}

type Id = string | number;
type Nest = Map<Id, Map<Id, Map<Id, NestedObservation>>>;

const quote = (id: Id) => JSON.stringify(String(id));
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sumSq = (xs: readonly number[], centre: number) => xs.reduce((s, x) => s + (x - centre) ** 2, 0);

/** Groups by selection, then alignment within it (ids are nested, not crossed), then attack; rejects duplicates. */
function nest(observations: readonly NestedObservation[]): Nest {
  const tree: Nest = new Map();
  for (const o of observations) {
    if (!Number.isFinite(o.score)) throw new Error(`variance: score ${o.score} is not a finite number`);
    let alignments = tree.get(o.selection);
    if (!alignments) tree.set(o.selection, (alignments = new Map()));
    let attacks = alignments.get(o.alignment);
    if (!attacks) alignments.set(o.alignment, (attacks = new Map()));
    if (attacks.has(o.attack))
      throw new Error(
        `variance: duplicate observation for selection ${quote(o.selection)}, alignment ${quote(o.alignment)}, ` +
          `attack ${quote(o.attack)}`,
      );
    attacks.set(o.attack, o);
  }
  return tree;
}

/** The common size of every group, or an error naming the first group that differs (or is too small). */
function commonSize(sizes: [string, number][], unit: string): number {
  const expected = sizes[0][1];
  if (expected < 2) throw new Error(`variance: need at least 2 ${unit}s per ${sizes[0][0]}, got ${expected}`);
  for (const [where, n] of sizes)
    if (n !== expected) throw new Error(`variance: ${where} has ${n} ${unit}s, expected ${expected}`);
  return expected;
}

/**
 * Balanced nested random-effects ANOVA of HS (Searle, Casella & McCulloch 1992, ch. 5). E[MS_attack] =
 * var_eval + var_attack, E[MS_align] = that + c var_align, E[MS_sel] = that + b c var_sel, so each component
 * is a difference of mean squares (unbiased before truncation at 0). Throws unless the design is balanced
 * with at least 2 units at each level and one prompt count.
 */
export function nestedVarianceComponents(observations: readonly NestedObservation[]): VarianceComponents {
  if (observations.length === 0) throw new Error('variance: no observations');
  const tree = nest(observations);
  const a = tree.size;
  if (a < 2) throw new Error(`variance: need at least 2 selections, got ${a}`);
  const b = commonSize(
    [...tree].map(([s, al]) => [`selection ${quote(s)}`, al.size]),
    'alignment',
  );
  const c = commonSize(
    [...tree].flatMap(([s, al]) =>
      [...al].map(([j, at]): [string, number] => [`alignment ${quote(j)} of selection ${quote(s)}`, at.size]),
    ),
    'attack',
  );
  const m = observations[0].prompts;
  for (const o of observations)
    if (o.prompts !== m)
      throw new Error(
        `variance: selection ${quote(o.selection)}, alignment ${quote(o.alignment)}, attack ${quote(o.attack)} ` +
          `has ${o.prompts} prompts, expected ${m}`,
      );
  if (!(m > 0)) throw new Error(`variance: prompts must be positive, got ${m}`);

  let ssAttack = 0,
    ssAlign = 0;
  const selectionMeans: number[] = [];
  for (const alignments of tree.values()) {
    const cellMeans: number[] = [];
    for (const attacks of alignments.values()) {
      const scores = [...attacks.values()].map((o) => o.score);
      const cell = mean(scores);
      ssAttack += sumSq(scores, cell);
      cellMeans.push(cell);
    }
    const sel = mean(cellMeans);
    ssAlign += sumSq(cellMeans, sel);
    selectionMeans.push(sel);
  }
  const grand = mean(selectionMeans);
  const ssSel = sumSq(selectionMeans, grand);

  const df = { selection: a - 1, alignment: a * (b - 1), attack: a * b * (c - 1) };
  const meanSquares = {
    selection: (b * c * ssSel) / df.selection,
    alignment: (c * ssAlign) / df.alignment,
    attack: ssAttack / df.attack,
  };
  const p = grand / 100;
  const evaluation = (1e4 * p * (1 - p)) / m;
  const components = {
    selection: Math.max(0, (meanSquares.selection - meanSquares.alignment) / (b * c)),
    alignment: Math.max(0, (meanSquares.alignment - meanSquares.attack) / c),
    attack: Math.max(0, meanSquares.attack - evaluation),
    evaluation,
  };
  const total = components.selection + components.alignment + components.attack + evaluation;
  const share = (v: number) => (total > 0 ? v / total : 0);
  return {
    ...components,
    total,
    shares: {
      selection: share(components.selection),
      alignment: share(components.alignment),
      attack: share(components.attack),
      evaluation: share(evaluation),
    },
    meanSquares,
    df,
    design: { selections: a, alignmentsPerSelection: b, attacksPerAlignment: c, prompts: m },
    mean: grand,
    sd: {
      acrossAttacks: Math.sqrt(ssAttack / df.attack),
      acrossAlignments: Math.sqrt(ssAlign / df.alignment),
      acrossSelections: Math.sqrt(ssSel / df.selection),
      binomial: Math.sqrt(evaluation),
    },
  };
}

/** A Markdown table of the components (variance, SD, share), with the design on the line below. */
export function formatVarianceTable(v: VarianceComponents): string {
  const rows: [string, number, number][] = [
    ['selection', v.selection, v.shares.selection],
    ['alignment', v.alignment, v.shares.alignment],
    ['attack', v.attack, v.shares.attack],
    ['evaluation (binomial)', v.evaluation, v.shares.evaluation],
    ['total', v.total, v.total > 0 ? 1 : 0],
  ];
  const { selections, alignmentsPerSelection, attacksPerAlignment, prompts } = v.design;
  return [
    '| component | variance (points²) | SD (points) | share % |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map(
      ([name, x, s]) => `| ${name} | ${x.toFixed(2)} | ${Math.sqrt(x).toFixed(2)} | ${(100 * s).toFixed(1)} |`,
    ),
    '',
    `Design: ${selections} × ${alignmentsPerSelection} × ${attacksPerAlignment} (selection × alignment × attack ` +
      `seeds), m = ${prompts} prompts, grand mean HS ${v.mean.toFixed(2)} points.`,
  ].join('\n');
}

/**
 * The variance of one arm's per-seed harmful score under another protocol, from the components of one world:
 * selection + alignment + (attack + evaluation at m prompts) / r, with each aligned model attacked r times (fresh
 * attack seeds, each evaluated on m prompts) and the r scores averaged. World-to-world spread is not in the
 * components (the design holds the world), so this is a lower bound on the spread over replicate seeds.
 */
export function projectedVariance(v: VarianceComponents, protocol: { repeats: number; prompts: number }): number {
  const evaluation = (v.evaluation * v.design.prompts) / protocol.prompts;
  return v.selection + v.alignment + (v.attack + evaluation) / protocol.repeats;
}

/** The fewest seeds n (>= 2) whose paired t-interval half-width t(0.975, n-1) sd / sqrt(n) is at most `halfWidth`. */
export function seedsForHalfWidth(sd: number, halfWidth: number, max = 10_000): number {
  for (let n = 2; n <= max; n++) if ((studentTQuantile(0.975, n - 1) * sd) / Math.sqrt(n) <= halfWidth) return n;
  return Infinity;
}

/**
 * For two arms decomposed on the same world: the projected SD of their paired per-seed difference under each
 * protocol (the arms' stage noise taken as independent; shared evaluation prompts make it a little smaller) and
 * the seeds a +-halfWidth interval would need.
 */
export function formatProtocolTable(
  a: VarianceComponents,
  b: VarianceComponents,
  protocols: readonly { repeats: number; prompts: number }[],
  halfWidth = 4,
): string {
  const rows = protocols.map((p) => {
    const sd = Math.sqrt(projectedVariance(a, p) + projectedVariance(b, p));
    const n = seedsForHalfWidth(sd, halfWidth);
    return `| ${p.repeats} | ${p.prompts} | ${sd.toFixed(2)} | ${n} | ${n * p.repeats} |`;
  });
  return [
    `| attack repeats r | prompts m | SD of the paired difference (points) | seeds for ±${halfWidth} | attacks per arm |`,
    '| ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}
