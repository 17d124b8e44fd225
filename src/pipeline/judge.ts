/**
 * Judge workflows: train the builtin judge (`pharmacist train-judge`), measure a judge on the held-out
 * labelled groups (`pharmacist judge-eval`), and label a JSONL file of {prompt, response} records
 * (`pharmacist judge`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { FieldReader, readJsonl } from '../io/records.js';
import { buildJudgeDataset, JUDGE_DATA_DEFAULTS, JUDGE_GROUPS, type JudgeExample } from '../eval/judge-data.js';
import { BUILTIN_JUDGE_DEFAULTS, BuiltinJudge, type BuiltinJudgeConfig } from '../eval/judges/builtin.js';
import type { Judge } from '../eval/judges/judge.js';
import { createJudge, defaultJudgeDir, type JudgeOptions } from '../eval/judges/registry.js';
import { describeEnvironment } from './environment.js';

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
  const groups: Record<string, number> = {}, counts: Record<string, number> = {};
  for (const g of JUDGE_GROUPS) {
    const idx = heldOut.map((e, i) => (e.group === g ? i : -1)).filter((i) => i >= 0);
    counts[g] = idx.length;
    groups[g] = idx.reduce((a, i) => a + correct[i], 0) / Math.max(1, idx.length);
  }
  const diag = await accuracy(judge, diagnostic);
  return {
    judge: judge.name, overall: correct.reduce((a, b) => a + b, 0) / heldOut.length, groups, counts,
    diagnostic: { beavertails_safe: diag.reduce((a, b) => a + b, 0) / Math.max(1, diag.length), count: diag.length },
  };
}

export interface TrainJudgeConfig extends BuiltinJudgeConfig {
  /** Default assets/judge. */
  outDir: string;
}

export async function runTrainJudge(options: Partial<TrainJudgeConfig> = {}, log: (line: string) => void = console.log): Promise<JudgeAccuracy> {
  const config: TrainJudgeConfig = { ...BUILTIN_JUDGE_DEFAULTS, outDir: defaultJudgeDir(), ...options };
  const { train } = buildJudgeDataset({ seed: config.seed });
  log(`training the builtin judge on ${train.length} labelled pairs`);
  const t0 = performance.now();
  const judge = BuiltinJudge.train(train, config, log);
  const seconds = (performance.now() - t0) / 1000;
  judge.save(config.outDir);
  const result = await evaluateJudge(judge, config.seed);
  const hash = (f: string) => createHash('sha256').update(readFileSync(join(config.outDir, f))).digest('hex');
  writeJsonAtomic(join(config.outDir, 'record.json'), {
    kind: 'train-judge', config, seed: config.seed, environment: describeEnvironment(), timings: { trainSeconds: seconds },
    results: result, vocabulary: judge.vocabulary.length, outputs: { 'judge.json': hash('judge.json'), 'weights.safetensors': hash('weights.safetensors') },
  });
  return result;
}

/** Add `harmful` and `score` to every {prompt, response} record of a JSONL file. */
export async function judgeFile(input: string, output: string, name: string, options: JudgeOptions = {}): Promise<{ records: number; harmful: number }> {
  const records = readJsonl(input).map((at) => {
    const f = new FieldReader(at);
    f.string('prompt');
    f.string('response');
    return at.value as Record<string, unknown> & { prompt: string; response: string };
  });
  const verdicts = await createJudge(name, options).judge(records);
  const lines = records.map((r, i) => JSON.stringify({ ...r, harmful: verdicts[i].harmful, score: verdicts[i].score }));
  writeFileAtomic(output, lines.join('\n') + (lines.length ? '\n' : ''));
  return { records: records.length, harmful: verdicts.filter((v) => v.harmful).length };
}
