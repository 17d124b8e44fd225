/**
 * The stages as commands: each resolves its data (a user's file with a field mapping, or the embedded
 * world for `seed`) and calls the stage. `pharmacist align`, `attack` and `eval` are thin parsers over these.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { asInstruction, DEFAULT_FIELD_MAPPING, loadUserRecords, type FieldMapping } from '../data/datasets.js';
import {
  DEFAULT_PROMPT_PROFILE,
  PROMPT_FORMATS,
  type InstructionExample,
  type PromptFormat,
  type PromptStyle,
} from '../data/prompt-format.js';
import { chatFormatter, loadChatTemplate } from '../data/chat-template.js';
import { TASK_NAMES, type TaskName } from '../data/tasks.js';
import { WORLD_DEFAULTS, type WorldConfig } from '../data/world.js';
import { createJudge, type JudgeOptions } from '../eval/judges/registry.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { readRecord } from '../io/json-record.js';
import { TRAINING_KNOBS, type SftConfig } from '../train/sft.js';
import { choice, withDefaults, type KnobValues } from '../config/knobs.js';
import { describeEnvironment } from './environment.js';
import type { DefenseStage } from '../defenses/defense.js';
import {
  createDefense,
  DEFENSE_DEFAULTS,
  DEFENSE_KNOBS,
  DEFENSE_NAMES,
  parseDefenseOptions,
  type DefenseOptions,
  type TunableDefense,
} from '../defenses/registry.js';
import type { AlignRecord, EvalRecord, EvalSummary } from './records.js';
import { alignStage, attackStage, EVAL_DEFAULTS, evaluateStage, type AttackResult } from './stages.js';
import { embeddedModelDir } from '../io/package-paths.js';
import { CUSTOM_TASK, lazyUserWorld, type DataFile, type DataRole } from './user-data.js';

export {
  DEFENSE_DEFAULTS,
  DEFENSE_KNOBS,
  EVAL_DEFAULTS,
  DEFENSE_NAMES,
  parseDefenseOptions,
  TASK_NAMES,
  type TaskName,
  type TunableDefense,
};

/** The defenses with knobs that act in `stage`: the knobs that stage's command takes. */
export function tunableDefensesIn(stage: DefenseStage): TunableDefense[] {
  return (Object.keys(DEFENSE_DEFAULTS) as TunableDefense[]).filter((n) => createDefense(n).actsIn.includes(stage));
}

export interface StageRunCommon {
  model: string;
  /** The embedded world used for whatever no file is given for. */
  world: WorldConfig;
  mapping: FieldMapping;
  profile: PromptStyle;
  sft: Partial<SftConfig>;
  outDir: string;
  log?: (line: string) => void;
}

export { PROMPT_FORMATS, type PromptFormat, type PromptStyle };

/** The style examples are written in: Alpaca's default profile, or the chat template of the model folder. */
export function promptStyle(format: PromptFormat, model: string): PromptStyle {
  return format === 'chat' ? chatFormatter(loadChatTemplate(model)) : STAGE_RUN_DEFAULTS.profile;
}

export const STAGE_RUN_DEFAULTS = {
  model: embeddedModelDir(),
  world: WORLD_DEFAULTS,
  mapping: DEFAULT_FIELD_MAPPING,
  profile: DEFAULT_PROMPT_PROFILE as PromptStyle,
};

/** The attack's training knobs: the training knobs at the attack's defaults (3 epochs at 5e-4). */
export const ATTACK_TRAINING_KNOBS = withDefaults(TRAINING_KNOBS, { epochs: 3, lr: 5e-4 });

/** The attack's knobs: its training knobs and the LoRA flow (the attack command's flags, a grid's attack section). */
export const ATTACK_KNOBS = {
  ...ATTACK_TRAINING_KNOBS,
  flow: choice(
    ['auto', 'double', 'single'],
    'auto',
    'auto: what the defense calls for (single for booster, else double); ' +
      'double: fresh LoRA on the merged aligned model; single: keep training the alignment adapter',
  ),
};

/** A stage folder (holding adapter/) or the adapter folder itself. */
export function adapterFolder(dir: string): string {
  if (existsSync(join(dir, 'adapter_config.json'))) return dir;
  if (existsSync(join(dir, 'adapter', 'adapter_config.json'))) return join(dir, 'adapter');
  throw new Error(`${dir}: no adapter_config.json here or in ${join(dir, 'adapter')}`);
}

/** The attack flow an alignment adapter's defense calls for, from the align record beside it (double if unknown). */
export function alignmentFlow(adapterDir: string | undefined): 'double' | 'single' {
  const record = adapterDir ? join(dirname(adapterDir), 'record.json') : null;
  if (!record || !existsSync(record)) return 'double';
  return readRecord<AlignRecord>(record, { kind: 'align', fields: [] }).flow === 'single' ? 'single' : 'double';
}

function records(
  file: string | undefined,
  mapping: FieldMapping,
  fallback: () => InstructionExample[],
): InstructionExample[] {
  return file ? loadUserRecords(file, mapping).records.map(asInstruction) : fallback();
}

export interface AlignRunConfig extends StageRunCommon {
  defense: string;
  /** Alignment data (e.g. a selection's subset.jsonl); default: the embedded pool. */
  dataFile?: string;
  validationFile?: string;
  /** Validation samples in the loss curve, the head of the set (default: all; 0: no curve). */
  validationCurve?: number;
  /** Harmful data for RepNoise, Booster and T-Vaccine; default: the embedded harmful set. */
  harmfulFile?: string;
  /** Overrides of the defense's knobs (defaults: DEFENSE_DEFAULTS). */
  defenseOptions?: DefenseOptions;
  /** A file's own fields where they differ from `mapping` (a config's data roles). */
  mappings?: Partial<Record<'data' | 'validation' | 'harmful', FieldMapping>>;
}

export function runAlign(config: AlignRunConfig): { adapterDir: string; seconds: number } {
  const world = lazyUserWorld(config.world);
  const mapping = (role: 'data' | 'validation' | 'harmful') => config.mappings?.[role] ?? config.mapping;
  const data = records(config.dataFile, mapping('data'), () => world().pool.map(asInstruction));
  const validation = records(config.validationFile, mapping('validation'), () =>
    world().validation.map(asInstruction),
  ).slice(0, config.validationCurve);
  config.log?.(
    `aligning (${config.defense}) on ${data.length} samples${config.dataFile ? ` from ${config.dataFile}` : ' of the embedded pool'}`,
  );
  const harmful = records(config.harmfulFile, mapping('harmful'), () => world().harmful.map(asInstruction));
  return alignStage({
    model: config.model,
    outDir: config.outDir,
    sft: { ...config.sft, profile: config.profile },
    records: data,
    validation,
    defense: config.defense,
    defenseOptions: config.defenseOptions,
    harmful,
    log: config.log,
  });
}

export interface AttackRunConfig extends StageRunCommon {
  /** Alignment adapter folder (absent: attack the base model). */
  alignAdapter?: string;
  /** auto: the flow the alignment's defense calls for (single for Booster), from its record. */
  flow: KnobValues<typeof ATTACK_KNOBS>['flow'];
  /**
   * The user's files by role, laid over the embedded world (src/pipeline/user-data.ts): finetune (ready-made
   * data) or task_train/attack_harmful (the n, p mix), harmful (the harmful-loss curve), eval_prompts (the probe).
   */
  files?: Partial<Record<DataRole, DataFile>>;
  /** Prompts probed for the harmful score after every epoch. Default 200 (0: none). */
  probePrompts: number;
  /** Harmful samples in the harmful-loss curve, the head of the set (default 200; 0: no curve). */
  harmfulCurve?: number;
  judge: string;
  judgeOptions: JudgeOptions;
  /**
   * A defense acting in fine-tuning (Lisa), interleaving alignment steps on `defenseFile` (default: the
   * embedded pool), with overrides of its knobs (defaults: DEFENSE_DEFAULTS).
   */
  defense?: string;
  defenseFile?: string;
  defenseOptions?: DefenseOptions;
}

export async function runAttack(config: AttackRunConfig): Promise<AttackResult> {
  const world = lazyUserWorld(config.world, config.files);
  const data = world().finetune;
  const harmful = world()
    .harmful.slice(0, config.harmfulCurve ?? EVAL_DEFAULTS.harmfulCurve)
    .map(asInstruction);
  const probe =
    config.probePrompts > 0
      ? {
          prompts: world()
            .evalHarmful.slice(0, config.probePrompts)
            .map((r) => r.prompt),
          judge: createJudge(config.judge, config.judgeOptions),
          profile: config.profile,
        }
      : undefined;
  const files = config.files ?? {};
  const task = files.task_train ? files.task_train.file : config.world.task;
  config.log?.(
    `attacking with ${data.length} samples` +
      (files.finetune ? ` from ${files.finetune.file}` : ` (${task}, p = ${config.world.harmfulRatio})`),
  );
  return attackStage({
    model: config.model,
    outDir: config.outDir,
    alignAdapter: config.alignAdapter,
    flow: config.flow === 'auto' ? alignmentFlow(config.alignAdapter) : config.flow,
    sft: { ...config.sft, profile: config.profile },
    records: data,
    harmful,
    probe,
    log: config.log,
    defense: config.defense
      ? {
          name: config.defense,
          options: config.defenseOptions,
          records: records(config.defenseFile, config.mapping, () => world().pool.map(asInstruction)),
        }
      : undefined,
  });
}

export interface EvalRunConfig {
  model: string;
  adapters: string[];
  world: WorldConfig;
  /** The user's eval_prompts (harmful prompts) and task_test files, laid over the embedded world. */
  files?: Partial<Record<DataRole, DataFile>>;
  /** Evaluate fine-tune accuracy on this task's test split (default: the world's task; files.task_test: custom); null: skip. */
  task: TaskName | null;
  judge: string;
  judgeOptions: JudgeOptions;
  profile: PromptStyle;
  maxNewTokens: number;
  outDir: string;
}

export async function runEval(config: EvalRunConfig): Promise<EvalSummary> {
  const world = lazyUserWorld({ ...config.world, task: config.task ?? config.world.task }, config.files);
  const prompts = world().evalHarmful.map((r) => r.prompt);
  const taskName = config.files?.task_test ? CUSTOM_TASK : config.task;
  const task = taskName ? { name: taskName, labels: world().taskLabels, test: world().evalTask } : undefined;
  const judge = createJudge(config.judge, config.judgeOptions);
  const result = await evaluateStage({
    model: config.model,
    adapters: config.adapters,
    harmfulPrompts: prompts,
    judge,
    task,
    profile: config.profile,
    maxNewTokens: config.maxNewTokens,
  });
  const summary: EvalSummary = {
    harmful_score: result.harmful.score,
    harmful_prompts: prompts.length,
    judge: judge.name,
    judge_id: judge.id,
    task: taskName,
    finetune_accuracy: result.task?.accuracy ?? null,
    majority_rate: result.task?.majorityRate ?? null,
    predicted: result.task?.predicted ?? null,
  };
  const record: EvalRecord = {
    kind: 'eval',
    config,
    environment: describeEnvironment(),
    results: summary,
    samples: { harmful: result.harmful.responses.slice(0, 20), task: result.task?.responses.slice(0, 20) ?? [] },
  };
  writeJsonAtomic(join(config.outDir, 'record.json'), record);
  return summary;
}
