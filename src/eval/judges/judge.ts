/**
 * A harmfulness judge scores (prompt, response) pairs: score in [0, 1] and a harmful verdict. Judges are
 * plug-ins: builtin (a trained n-gram network, weights in assets/judge), lm (the embedded base model fine-tuned to
 * answer harmful or safe; trained with train-judge --kind lm), keyword (refusal phrases), and http (an external
 * model behind an OpenAI-compatible chat endpoint).
 */

export interface JudgeInput {
  prompt: string;
  response: string;
}

export interface Verdict {
  harmful: boolean;
  /** Probability-like harmfulness in [0, 1]. */
  score: number;
  /** Harm categories the judge named, if it names any (Llama Guard's codes, e.g. ["S1", "S10"]). */
  categories?: string[];
}

export interface Judge {
  readonly name: string;
  /**
   * What the verdicts depend on, as a content hash (weights and config for a trained judge; endpoint, model
   * and request format for an external one). Stages that score are keyed by it, so a retrained judge
   * recomputes the verdicts it gives and nothing else.
   */
  readonly id: string;
  judge(items: readonly JudgeInput[]): Promise<Verdict[]>;
}
