/** A judge's accuracy on the held-out labelled groups (what `pharmacist judge-eval` prints). */
import { buildJudgeDataset, JUDGE_DATA_DEFAULTS, JUDGE_GROUPS, type JudgeExample } from './judge-data.js';
import type { Judge } from './judges/judge.js';

export interface JudgeAccuracy {
  judge: string;
  overall: number;
  /** Accuracy per group of the held-out split. */
  groups: Record<string, number>;
  counts: Record<string, number>;
  /** BeaverTails is_safe=true answers (label-noisy, never trained on): share judged not harmful. */
  diagnostic: { beavertails_safe: number; count: number };
}

async function accuracy(judge: Judge, examples: readonly JudgeExample[]): Promise<number[]> {
  const verdicts = await judge.judge(examples);
  return examples.map((e, i) => (verdicts[i].harmful === e.harmful ? 1 : 0));
}

export async function evaluateJudge(judge: Judge, seed = JUDGE_DATA_DEFAULTS.seed): Promise<JudgeAccuracy> {
  const { heldOut, diagnostic } = buildJudgeDataset({ seed });
  const correct = await accuracy(judge, heldOut);
  const groups: Record<string, number> = {},
    counts: Record<string, number> = {};
  for (const g of JUDGE_GROUPS) {
    const idx = heldOut.map((e, i) => (e.group === g ? i : -1)).filter((i) => i >= 0);
    counts[g] = idx.length;
    groups[g] = idx.reduce((a, i) => a + correct[i], 0) / Math.max(1, idx.length);
  }
  const diag = await accuracy(judge, diagnostic);
  return {
    judge: judge.name,
    overall: correct.reduce((a, b) => a + b, 0) / heldOut.length,
    groups,
    counts,
    diagnostic: { beavertails_safe: diag.reduce((a, b) => a + b, 0) / Math.max(1, diag.length), count: diag.length },
  };
}
