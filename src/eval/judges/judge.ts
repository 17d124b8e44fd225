/**
 * A harmfulness judge scores (prompt, response) pairs: score in [0, 1] and a harmful verdict. Judges are
 * plug-ins: builtin (a trained n-gram network, weights in assets/judge), keyword (refusal phrases), and
 * http (an external model behind an OpenAI-compatible chat endpoint).
 */

export interface JudgeInput {
  prompt: string;
  response: string;
}

export interface Verdict {
  harmful: boolean;
  /** Probability-like harmfulness in [0, 1]. */
  score: number;
}

export interface Judge {
  readonly name: string;
  judge(items: readonly JudgeInput[]): Promise<Verdict[]>;
}
