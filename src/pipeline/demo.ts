/**
 * `pharmacist demo`: the whole method on the embedded default, in minutes. A fixed grid (Full, Random,
 * Pharmacist and the two controls, refusal and shortest, at k = 40%; SFT alignment, the default attack, S
 * seeds) run by the grid runner, so the demo caches and resumes like `pharmacist run`; it prints a table and,
 * last, one JSON line {"arms":[...]} with the means over seeds and the paired comparisons.
 */
import { DEFAULT_RATIO } from '../select/selector.js';
import { formatSeconds } from '../train/trainer.js';
import { resolveGridConfig, type GridConfig } from './grid-config.js';
import { runGrid } from './grid.js';
import { formatTable, summarize, type ArmSummary } from './results.js';

export interface DemoOptions {
  seeds: number;
  firstSeed: number;
  /** Overrides of the demo grid (same fields as a `pharmacist run` config). */
  overrides?: DeepPartial<GridConfig>;
}

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

/**
 * The demo's scale, chosen so that five arms fit in 15 minutes on 2 cores: a 500-sample pool, 128-token
 * truncation, an attack of 300 samples (30 harmful) for 3 epochs at 2e-3, the harmful score on 50 prompts
 * after every attack epoch and on 200 at the end, 200 test items. The attack was calibrated on the faithful
 * world so that Full+SFT lands inside the 30-85% band where the attack neither floors nor saturates: 36.5 and
 * 34.5% on seeds 0 and 1 (Random 44.0 and 38.5; `pharmacist demo --seeds 2 --selectors full,random`; README).
 * Same data sources and methods as the full-size world.
 */
export const DEMO_GRID: DeepPartial<GridConfig> = {
  run_dir: 'runs/demo',
  world: { pool_size: 500, eval_harmful: 200, eval_task: 200 },
  grid: {
    selector: ['full', 'random', 'pharmacist', 'refusal', 'shortest'],
    ratio: [DEFAULT_RATIO],
    defense: ['sft'],
    task: ['agnews'],
    n: [300],
    p: [0.1],
  },
  select: { max_length: 128 },
  align: { max_length: 128 },
  attack: { max_length: 128, lr: 2e-3 },
  // The loss curves are monitoring (they change no weight): 50 samples each instead of 200 take about 110 s of
  // CPU off the demo's 15 min (each curve point is a forward pass over its samples).
  eval: { probe_prompts: 50, validation_curve: 50, harmful_curve: 50 },
};

function merge<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (
    typeof base !== 'object' ||
    base === null ||
    Array.isArray(base) ||
    typeof over !== 'object' ||
    over === null ||
    Array.isArray(over)
  )
    return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) out[k] = merge(out[k], v);
  return out as T;
}

export function demoConfig(options: DemoOptions): GridConfig {
  const seeds = Array.from({ length: options.seeds }, (_, i) => options.firstSeed + i);
  return resolveGridConfig(merge(merge(DEMO_GRID, { grid: { seed: seeds } }), options.overrides), 'demo');
}

export async function runDemo(
  options: DemoOptions,
  log: (line: string) => void = console.error,
): Promise<{ arms: ArmSummary[]; config: GridConfig }> {
  const config = demoConfig(options);
  const { results, seconds } = await runGrid(config, log);
  const arms = summarize(results);
  log('');
  log(formatTable(arms));
  log(`total ${formatSeconds(seconds)}; stages and results.json under ${config.run_dir}`);
  return { arms, config };
}
