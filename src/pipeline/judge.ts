/**
 * Judge workflows: train the builtin judge (`pharmacist train-judge`), measure a judge on the held-out
 * labelled groups (`pharmacist judge-eval`), and label a JSONL file of {prompt, response} records
 * (`pharmacist judge`).
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { sha256Files } from '../io/hash.js';
import { FieldReader, readJsonRecords, RecordError } from '../io/records.js';
import { buildJudgeDataset } from '../eval/judge-data.js';
import { evaluateJudge, type JudgeAccuracy } from '../eval/judge-accuracy.js';
import { BUILTIN_JUDGE_DEFAULTS, BuiltinJudge, type BuiltinJudgeConfig } from '../eval/judges/builtin.js';
import { createJudge, defaultJudgeDir, type JudgeOptions } from '../eval/judges/registry.js';
import { describeEnvironment } from './environment.js';

export { evaluateJudge, type JudgeAccuracy };

export interface TrainJudgeConfig extends BuiltinJudgeConfig {
  /** Default assets/judge. */
  outDir: string;
}

export async function runTrainJudge(
  options: Partial<TrainJudgeConfig> = {},
  log: (line: string) => void = console.error,
): Promise<JudgeAccuracy> {
  const config: TrainJudgeConfig = { ...BUILTIN_JUDGE_DEFAULTS, outDir: defaultJudgeDir(), ...options };
  const { train } = buildJudgeDataset({ seed: config.seed });
  log(`training the builtin judge on ${train.length} labelled pairs`);
  const t0 = performance.now();
  const judge = BuiltinJudge.train(train, config, log);
  const seconds = (performance.now() - t0) / 1000;
  judge.save(config.outDir);
  const result = await evaluateJudge(judge, config.seed);
  const hash = (f: string) => sha256Files(join(config.outDir, f));
  writeJsonAtomic(join(config.outDir, 'record.json'), {
    kind: 'train-judge',
    config,
    seed: config.seed,
    environment: describeEnvironment(),
    timings: { trainSeconds: seconds },
    results: result,
    vocabulary: judge.vocabulary.length,
    outputs: { 'judge.json': hash('judge.json'), 'weights.safetensors': hash('weights.safetensors') },
  });
  return result;
}

/** Add `harmful` and `score` to every {prompt, response} record of a JSONL file. */
export async function judgeFile(
  input: string,
  output: string,
  name: string,
  options: JudgeOptions = {},
): Promise<{ records: number; harmful: number }> {
  const located = readJsonRecords(input);
  if (located.length === 0) throw new RecordError(input, 1, 'no records (the file is empty)');
  const records = located.map((at) => {
    const f = new FieldReader(at);
    f.string('prompt');
    f.string('response');
    return at.value as Record<string, unknown> & { prompt: string; response: string };
  });
  const verdicts = await createJudge(name, options).judge(records);
  const lines = records.map((r, i) => {
    const { harmful, score, categories } = verdicts[i];
    return JSON.stringify({ ...r, harmful, score, ...(categories ? { categories } : {}) });
  });
  writeFileAtomic(output, lines.join('\n') + (lines.length ? '\n' : ''));
  return { records: records.length, harmful: verdicts.filter((v) => v.harmful).length };
}
