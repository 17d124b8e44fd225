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
import { buildJudgeDataset, JUDGE_DATA_DEFAULTS, stackPairs, type JudgeDataConfig } from '../eval/judge-data.js';
import { evaluateJudge, type JudgeAccuracy } from '../eval/judge-accuracy.js';
import { BUILTIN_JUDGE_DEFAULTS, BuiltinJudge, type BuiltinJudgeConfig } from '../eval/judges/builtin.js';
import {
  createJudge,
  defaultJudgeDir,
  defaultLmJudgeDir,
  embeddedBaseModel,
  type JudgeOptions,
} from '../eval/judges/registry.js';
import { LM_JUDGE_DEFAULTS, LmJudge, type LmJudgeConfig } from '../eval/judges/lm.js';
import { describeEnvironment } from './environment.js';

export { evaluateJudge, type JudgeAccuracy };

export interface TrainJudgeConfig extends BuiltinJudgeConfig {
  /** Default assets/judge. */
  outDir: string;
}

/** `data` overrides the training data's options (JudgeDataConfig; its seed is always the judge's). */
export async function runTrainJudge(
  options: Partial<TrainJudgeConfig> & { data?: Partial<JudgeDataConfig> } = {},
  log: (line: string) => void = console.error,
): Promise<JudgeAccuracy> {
  const { data: dataOptions = {}, ...judgeOptions } = options;
  const config: TrainJudgeConfig = { ...BUILTIN_JUDGE_DEFAULTS, outDir: defaultJudgeDir(), ...judgeOptions };
  const data: JudgeDataConfig = { ...JUDGE_DATA_DEFAULTS, ...dataOptions, seed: config.seed };
  const { train, heldOut } = buildJudgeDataset(data);
  log(`training the builtin judge on ${train.length} labelled pairs`);
  const t0 = performance.now();
  // Where it is saved is not part of the judge: its config (and so its id) leaves outDir out.
  const { outDir, ...judgeConfig } = config;
  const judge = BuiltinJudge.train(train, judgeConfig, log, stackPairs(heldOut, config.stackGroups));
  const seconds = (performance.now() - t0) / 1000;
  judge.save(outDir);
  const result = await evaluateJudge(judge, config.seed);
  const hash = (f: string) => sha256Files(join(outDir, f));
  writeJsonAtomic(join(outDir, 'record.json'), {
    kind: 'train-judge',
    config: judgeConfig,
    // Which labels the judge learned from (e.g. readers' or BeaverTails' for the unsafe answers), and how many pairs
    // each training group held.
    data,
    training_groups: Object.fromEntries(
      [...new Set(train.map((e) => e.group))].map((g) => [g, train.filter((e) => e.group === g).length]),
    ),
    seed: config.seed,
    environment: describeEnvironment(),
    timings: { trainSeconds: seconds },
    results: result,
    vocabulary: judge.vocabulary.length,
    outputs: { 'judge.json': hash('judge.json'), 'weights.safetensors': hash('weights.safetensors') },
  });
  return result;
}

/**
 * Train the lm judge (the embedded base model fine-tuned to answer harmful or safe) on the same labelled groups,
 * save it (default assets/judge-lm), and measure it as judge-eval does; record.json keeps config, timings, results.
 */
export async function runTrainLmJudge(
  options: Partial<LmJudgeConfig & { outDir: string; base: string }> & { data?: Partial<JudgeDataConfig> } = {},
  log: (line: string) => void = console.error,
): Promise<JudgeAccuracy> {
  const { outDir = defaultLmJudgeDir(), base = embeddedBaseModel(), data = {}, ...rest } = options;
  const config: LmJudgeConfig = { ...LM_JUDGE_DEFAULTS, ...rest };
  const dataConfig: JudgeDataConfig = { ...JUDGE_DATA_DEFAULTS, ...data, seed: config.seed };
  const { train } = buildJudgeDataset(dataConfig);
  log(`training the lm judge on ${config.epochs} x ${config.epochSize} pairs resampled from ${train.length}`);
  const t0 = performance.now();
  LmJudge.train(train, base, config, log).save(outDir);
  const seconds = (performance.now() - t0) / 1000;
  const judge = LmJudge.load(outDir, base);
  const result = await evaluateJudge(judge, config.seed);
  writeJsonAtomic(join(outDir, 'record.json'), {
    kind: 'train-lm-judge',
    config,
    data: dataConfig,
    seed: config.seed,
    environment: describeEnvironment(),
    timings: { trainSeconds: seconds },
    results: result,
    outputs: {
      'judge.json': sha256Files(join(outDir, 'judge.json')),
      'adapter/adapter_model.safetensors': sha256Files(join(outDir, 'adapter', 'adapter_model.safetensors')),
    },
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
