/**
 * Learning-rate schedules with linear warmup, matching transformers' get_{constant,linear,cosine}_schedule_with_warmup:
 * warmup from 0 to the base rate over warmupSteps, then constant, linear decay to 0, or half-cosine to minRatio.
 */
export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface ScheduleConfig {
  kind: ScheduleKind;
  baseLr: number;
  /** Default 0. */
  warmupSteps?: number;
  /** Required for linear and cosine. */
  totalSteps?: number;
  /** Cosine floor as a fraction of baseLr, default 0. */
  minRatio?: number;
}

/** Learning rate for 0-based `step`. */
export function learningRateAt(
  step: number,
  { kind, baseLr, warmupSteps = 0, totalSteps, minRatio = 0 }: ScheduleConfig,
): number {
  if (step < warmupSteps) return (baseLr * step) / Math.max(1, warmupSteps);
  if (kind === 'constant') return baseLr;
  if (totalSteps === undefined || totalSteps <= warmupSteps)
    throw new Error(`${kind} schedule needs totalSteps > warmupSteps`);
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  if (kind === 'linear') return baseLr * (1 - progress);
  return baseLr * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
