/**
 * `pharmacist variance RUN`: the nested variance decomposition (eval/variance.ts) of a grid that crosses
 * selection x alignment x attack seeds on one world and one evaluation draw (configs/variance.yaml), one per
 * arm: how much of the harmful score's spread comes from each stage, next to the binomial part of the
 * evaluation prompts.
 */
import { nestedVarianceComponents, type VarianceComponents } from '../eval/variance.js';
import type { CellResult } from './grid.js';
import { armLabel, groupBySetting } from './results.js';

export interface ArmVariance {
  /** selector (k = ratio) + defense, as in the results table. */
  arm: string;
  cells: number;
  components: VarianceComponents;
}

/** One decomposition per arm (setting). Errors name the arm whose cells are not one world or not balanced. */
export function varianceByArm(results: readonly CellResult[]): ArmVariance[] {
  return groupBySetting(results).map((cells) => {
    const arm = armLabel(cells[0]);
    if (cells.some((r) => !r.seeds))
      throw new Error(`variance: ${arm}: the results have no stage seeds (a run from before seeds were split)`);
    for (const stage of ['world', 'eval'] as const) {
      const values = new Set(cells.map((r) => r.seeds[stage]));
      if (values.size > 1)
        throw new Error(
          `variance: ${arm}: ${values.size} ${stage} seeds; the decomposition is over one world and one ` +
            'evaluation draw (cross select_seed, align_seed and attack_seed, not seed)',
        );
    }
    try {
      const components = nestedVarianceComponents(
        cells.map((r) => ({
          selection: r.seeds.select,
          alignment: r.seeds.align,
          attack: r.seeds.attack,
          score: r.harmful_score,
          prompts: r.harmful_verdicts.length,
        })),
      );
      return { arm, cells: cells.length, components };
    } catch (error) {
      throw new Error(`${arm}: ${(error as Error).message}`);
    }
  });
}
