/**
 * The grid config of `pharmacist run CONFIG.yaml`: a JSON schema (every knob with its default and meaning),
 * validated with Ajv, which also fills in the defaults. A bad value is an error naming the file, the line
 * and the field.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { embeddedModelDir, packagePath } from '../io/package-paths.js';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { PROMPT_FORMATS, type PromptFormat } from '../data/prompt-format.js';
import { TASK_NAMES } from '../data/tasks.js';
import { VALIDATION_RULES, WORLD_DEFAULTS, type ValidationRule } from '../data/world.js';
import { ALL_JUDGE_KNOBS, JUDGE_KNOBS, JUDGE_NAMES, type JudgeOptions } from '../eval/judges/registry.js';
import { fromSection, knobSchema, sectionSchema, snake, type SectionValues } from '../config/knobs.js';
import {
  isTunableSelector,
  SELECTOR_KNOBS,
  SELECTOR_NAMES,
  type SelectorOptions,
  type TunableSelector,
} from '../select/registry.js';
import { SELECT_DEFAULTS } from './select.js';
import { TRAINING_KNOBS } from '../train/sft.js';
import { DEFAULT_RATIO } from '../select/selector.js';
import { ATTACK_KNOBS, DEFENSE_NAMES } from './stage-runs.js';
import { EVAL_DEFAULTS } from './stages.js';
import { DEFENSE_KNOBS, type DefenseOptions, type TunableDefense } from '../defenses/registry.js';
import { CUSTOM_TASK, DATA_SCHEMA, type DataSection } from './user-data.js';

/** A training stage's knobs in a grid (epochs, lr, batch_size, max_length, rank: TRAINING_KNOBS). */
export type TrainingKnobs = SectionValues<typeof TRAINING_KNOBS>;

export interface GridConfig {
  model: string;
  prompt_format: PromptFormat;
  run_dir: string;
  /** null: run_dir/stages (see stagesDir). */
  stages_dir: string | null;
  report: boolean;
  workers: number;
  world: {
    pool_size: number;
    validation_size: number;
    harmful_size: number;
    eval_harmful: number;
    eval_task: number;
    validation: ValidationRule;
    plant: { corrupted: number; mismatched: number; benign: number };
  };
  grid: {
    selector: string[];
    ratio: number[];
    defense: string[];
    task: string[];
    n: number[];
    p: number[];
    seed: number[];
    world_seed: number[] | null;
    select_seed: number[] | null;
    align_seed: number[] | null;
    attack_seed: number[] | null;
    eval_seed: number[] | null;
  };
  /** Each tunable selector's knobs, snake_case (inner_lr, upper_every, ...), and the shared truncation. */
  select: { max_length: number } & { [K in TunableSelector]: SectionValues<(typeof SELECTOR_KNOBS)[K]> };
  align: TrainingKnobs;
  attack: SectionValues<typeof ATTACK_KNOBS>;
  /** The judge, every judge's knobs snake_case (judge_dir, url, model_name, judge_format), and the generation. */
  eval: {
    judge: string;
    max_new_tokens: number;
    probe_prompts: number;
    validation_curve: number | null;
    harmful_curve: number;
  } & SectionValues<typeof ALL_JUDGE_KNOBS>;
  /** Each defense's knobs, snake_case (rho, active_layers, ...). */
  defenses: { [K in TunableDefense]: SectionValues<(typeof DEFENSE_KNOBS)[K]> };
  /** Users' files by role (src/pipeline/user-data.ts); a role left out keeps the embedded world's. */
  data: DataSection;
}

/**
 * The arm that keeps the whole pool but trains for the optimizer steps of the k-sample subset (alignment
 * epochs x ceil(k / batch size)): Full with the subset's training length, which separates what the data
 * choice does from what a shorter training does. It appears once per ratio, like a selector.
 */
export const STEP_MATCHED_FULL = 'full-steps';
/** What `grid.selector` takes: every selector, and the step-matched Full arm. */
export const GRID_ARMS = [...SELECTOR_NAMES, STEP_MATCHED_FULL] as const;

const seedList = (stage: string) => ({
  type: ['array', 'null'],
  items: { type: 'integer', minimum: 0 },
  minItems: 1,
  default: null,
  description:
    `${stage} seeds, crossed with every other list; null: each replicate's own (src/pipeline/seeds.ts). ` +
    'Crossed seeds are for the variance decomposition (`pharmacist variance`): they are not independent replicates',
});

const int = (min: number, def: number, description: string) => ({
  type: 'integer',
  minimum: min,
  default: def,
  description,
});
const num = (def: number, description: string, extra: object = { exclusiveMinimum: 0 }) => ({
  type: 'number',
  ...extra,
  default: def,
  description,
});
const list = (items: object, def: unknown[], description: string) => ({
  type: 'array',
  items,
  minItems: 1,
  default: def,
  description,
});
const object = (properties: Record<string, object>, description: string) => ({
  type: 'object',
  properties,
  additionalProperties: false,
  default: {},
  description,
});

const W = WORLD_DEFAULTS;
export const GRID_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: {
      type: 'string',
      default: embeddedModelDir(),
      description:
        "base model folder (Hugging Face layout; relative to the config's folder); default: the embedded model",
    },
    prompt_format: {
      enum: [...PROMPT_FORMATS],
      default: 'alpaca',
      description:
        "how examples become text: alpaca (the literature's template) or chat (the model's own chat template from " +
        'tokenizer_config.json or chat_template.jinja, loss on the reply only)',
    },
    run_dir: {
      type: 'string',
      default: 'runs/grid',
      description: 'results store (results.json), report, and the stage cache unless stages_dir is set',
    },
    stages_dir: {
      type: ['string', 'null'],
      default: null,
      description: 'stage cache; null: run_dir/stages. Grids sharing one compute each stage they have in common once',
    },
    report: { type: 'boolean', default: true, description: 'write report.md and report.html when the grid finishes' },
    workers: int(
      0,
      0,
      'processes running independent groups of cells side by side (one per selector, seed and defense), ' +
        'threads shared among them; 0: as many as cores allow',
    ),
    world: object(
      {
        pool_size: int(1, W.poolSize, 'alignment pool size'),
        validation_size: int(1, W.validationSize, 'validation set size'),
        harmful_size: int(1, W.harmfulSize, 'harmful set size (selector, harmful-loss curve)'),
        eval_harmful: int(1, W.evalHarmfulSize, 'harmful evaluation prompts'),
        eval_task: int(1, W.evalTaskSize, 'task test items'),
        validation: {
          enum: [...VALIDATION_RULES],
          default: W.validation,
          description:
            "how the selector's validation set is drawn from the safety source: random (uniform, like the pool) or " +
            'refusal-cues (only answers with a refusal cue: the world of earlier versions); src/data/world.ts',
        },
        plant: object(
          {
            corrupted: num(0, 'fraction of the pool replaced by word-shuffled answers', { minimum: 0, maximum: 1 }),
            mismatched: num(0, 'fraction replaced by answers to other prompts', { minimum: 0, maximum: 1 }),
            benign: num(0, 'fraction replaced by benign Alpaca Q&A', { minimum: 0, maximum: 1 }),
          },
          'planted low-quality samples, for scoring rankings against known labels',
        ),
      },
      'the embedded world (its seeds come from grid.seed, or grid.world_seed and grid.eval_seed)',
    ),
    grid: object(
      {
        selector: list(
          { enum: [...GRID_ARMS] },
          ['full', 'random', 'pharmacist'],
          `selectors, and ${STEP_MATCHED_FULL} (the whole pool trained for the steps of the subset)`,
        ),
        ratio: list(
          { type: 'number', exclusiveMinimum: 0, maximum: 1 },
          [DEFAULT_RATIO],
          'kept fractions of the pool (full ignores it)',
        ),
        defense: list({ enum: [...DEFENSE_NAMES] }, ['sft'], 'alignment defenses'),
        task: list(
          { enum: [...TASK_NAMES, CUSTOM_TASK] },
          [W.task],
          `fine-tuning tasks (${CUSTOM_TASK}: your task files, data.task_train or data.finetune and data.task_test)`,
        ),
        n: list({ type: 'integer', minimum: 1 }, [W.finetuneSize], 'fine-tuning samples'),
        p: list({ type: 'number', minimum: 0, maximum: 1 }, [W.harmfulRatio], 'harmful ratios'),
        seed: list(
          { type: 'integer', minimum: 0 },
          [0],
          'replicate seeds: each sets every stage seed (world = seed, the others derived from it: src/pipeline/seeds.ts)',
        ),
        world_seed: seedList('world (training-side draws)'),
        select_seed: seedList('selection'),
        align_seed: seedList('alignment'),
        attack_seed: seedList('attack'),
        eval_seed: seedList('evaluation (which prompts and test items)'),
      },
      'every combination of these lists is one cell',
    ),
    select: object(
      {
        max_length: int(8, SELECT_DEFAULTS.maxLength, 'truncation in tokens for model-based selectors'),
        ...Object.fromEntries(
          Object.entries(SELECTOR_KNOBS).map(([name, knobs]) => [
            name,
            sectionSchema(knobs, `the ${name} selector (declared in src/select/, listed in docs/knobs.md)`),
          ]),
        ),
      },
      'selection',
    ),
    align: sectionSchema(TRAINING_KNOBS, 'alignment (SFT with LoRA, merged before the attack)'),
    attack: sectionSchema(ATTACK_KNOBS, 'harmful fine-tuning'),
    eval: object(
      {
        judge: { enum: [...JUDGE_NAMES], default: 'builtin', description: 'harmfulness judge' },
        // Every judge's knobs (each judge reads its own), snake_case as grids have always named the http judge's.
        ...Object.fromEntries(
          Object.entries(ALL_JUDGE_KNOBS).map(([name, k]) => [
            snake(name),
            knobSchema(k, `${judgeOf(name)}: ${k.doc}`),
          ]),
        ),
        max_new_tokens: int(1, EVAL_DEFAULTS.maxNewTokens, 'tokens generated per harmful prompt (greedy)'),
        probe_prompts: int(0, EVAL_DEFAULTS.probePrompts, 'harmful prompts judged after every attack epoch'),
        validation_curve: {
          type: ['integer', 'null'],
          minimum: 0,
          default: null,
          description:
            "validation samples (the head of the selector's validation set) in the alignment's validation-loss " +
            'curve, measured after every epoch; null: the whole set; 0: no curve',
        },
        harmful_curve: int(
          0,
          EVAL_DEFAULTS.harmfulCurve,
          "harmful samples (the head of the harmful set) in the attack's harmful-loss curve, measured after every " +
            'epoch; 0: no curve',
        ),
      },
      'evaluation',
    ),
    defenses: object(
      Object.fromEntries(
        Object.entries(DEFENSE_KNOBS).map(([defense, knobs]) => [
          defense,
          sectionSchema(
            knobs,
            `the ${defense} defense (declared in src/defenses/${defense}.ts, listed in docs/knobs.md)`,
          ),
        ]),
      ),
      `defense knobs (${Object.keys(DEFENSE_KNOBS).join(', ')}), each defaulting to the value its module declares`,
    ),
    data: DATA_SCHEMA,
  },
} as const;

/** The judge whose knob `name` is (for the schema's descriptions). */
function judgeOf(name: string): string {
  const owners = Object.entries(JUDGE_KNOBS).filter(([, knobs]) => Object.hasOwn(knobs, name));
  return `${owners.map(([judge]) => judge).join(' and ')} judge${owners.length > 1 ? 's' : ''}`;
}

/** A grid's judge knobs as the judge registry takes them. */
export function judgeOptionsOf(config: Pick<GridConfig, 'eval'>): JudgeOptions {
  return fromSection(ALL_JUDGE_KNOBS, config.eval);
}

/** A grid's knobs of one selector as the selector registry takes them ({} for selectors without knobs). */
export function selectorOptionsOf(config: Pick<GridConfig, 'select'>, selector: string): SelectorOptions {
  if (!isTunableSelector(selector)) return {};
  return { [selector]: fromSection(SELECTOR_KNOBS[selector], config.select[selector]) };
}

/** A grid's knobs of one defense as the defense registry takes them ({} for sft and unknown names). */
export function defenseOptionsOf(config: Pick<GridConfig, 'defenses'>, defense: string): DefenseOptions {
  if (!Object.hasOwn(DEFENSE_KNOBS, defense)) return {};
  const name = defense as TunableDefense;
  return { [name]: fromSection(DEFENSE_KNOBS[name], config.defenses[name]) };
}

const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: false });
const validate = ajv.compile(GRID_SCHEMA);

/** Defaults filled in for a partial config (the same validation as a file). */
export function resolveGridConfig(value: unknown, source = '(config)'): GridConfig {
  const copy = structuredClone(value ?? {});
  if (!validate(copy)) throw new Error(`${source}: ${describe(firstError(validate.errors!))}`);
  const config = copy as unknown as GridConfig;
  const problem = dataProblem(config);
  if (problem) throw new Error(`${source}: field "${problem.path.join('.')}" ${problem.message}`);
  return config;
}

/** A role given without the task that reads it, or the custom task without its files. */
function dataProblem(config: GridConfig): { path: (string | number)[]; message: string } | null {
  const { data } = config;
  const custom = config.grid.task.indexOf(CUSTOM_TASK);
  if (custom >= 0 && !data.task_test)
    return { path: ['grid', 'task', custom], message: `${CUSTOM_TASK} needs data.task_test (your task's test items)` };
  if (custom >= 0 && !data.task_train && !data.finetune)
    return { path: ['grid', 'task', custom], message: `${CUSTOM_TASK} needs data.task_train or data.finetune` };
  // A ready-made fine-tuning file is trained on whole: other n or p would only relabel the same attack.
  for (const list of ['n', 'p'] as const)
    if (data.finetune && config.grid[list].length > 1)
      return { path: ['grid', list], message: 'must hold one value: data.finetune is trained on whole' };
  for (const role of ['task_train', 'task_test'] as const)
    if (data[role] && custom < 0)
      return { path: ['data', role], message: `is your task's: list it as task ${CUSTOM_TASK} in grid.task` };
  return null;
}

/** Ajv's most telling error: under anyOf (a data role), the branch's own complaint about an object. */
function firstError(errors: ErrorObject[]): ErrorObject {
  const any = errors.find((e) => e.keyword === 'anyOf');
  if (!any) return errors[0];
  return errors.find((e) => e.instancePath.startsWith(any.instancePath) && e.keyword !== 'type' && e !== any) ?? any;
}

/** Parse and validate a YAML (or JSON) grid config; errors name the file, line and field. */
export function loadGridConfig(file: string): GridConfig {
  return loadConfigFile(file).config;
}

/** A config file read: its config (defaults filled in, input paths resolved), and what the file itself wrote. */
export interface ConfigFile {
  file: string;
  config: GridConfig;
  /** Whether the file sets this field (not a default). */
  written(path: readonly (string | number)[]): boolean;
  /** The line of a field, or of its nearest written parent. */
  line(path: readonly (string | number)[]): number;
}

/** loadGridConfig, keeping what the stage commands' --config needs: which fields the file set, and where. */
export function loadConfigFile(file: string): ConfigFile {
  const text = readFileSync(file, 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new Error(`${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
  }
  const value = doc.toJS() ?? {};
  const copy = structuredClone(value);
  // The line of a field, or of its nearest written parent when the field is missing.
  const at = (path: readonly (string | number)[]) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number] } | undefined;
      if (node?.range) return lines.linePos(node.range[0]).line;
    }
    return 1;
  };
  if (!validate(copy)) {
    const error = firstError(validate.errors!);
    const path = error.instancePath
      .split('/')
      .slice(1)
      .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    throw new Error(`${file}:${at(path)}: ${describe(error)}`);
  }
  const config = copy as unknown as GridConfig;
  const problem = dataProblem(config);
  if (problem) throw new Error(`${file}:${at(problem.path)}: field "${problem.path.join('.')}" ${problem.message}`);
  const dataPaths = Object.keys(config.data).map((role) =>
    typeof config.data[role as keyof DataSection] === 'string' ? ['data', role] : ['data', role, 'file'],
  );
  for (const path of [...INPUT_PATHS, ...dataPaths]) {
    const written = doc.getIn(path);
    if (typeof written !== 'string') continue;
    const absolute = resolve(dirname(resolve(file)), written);
    if (!existsSync(absolute)) throw new Error(`${file}:${at(path)}: field "${path.join('.')}": ${absolute} not found`);
    setIn(config, path, absolute);
  }
  return { file, config, written: (path) => doc.hasIn(path), line: at };
}

/**
 * The paths a config reads from. Written relative, they resolve from the config file's folder (as tsconfig and
 * compose files do), so a config travels with its files; what a run writes (run_dir, stages_dir) goes where
 * the command runs, like every output.
 */
const INPUT_PATHS = [['model'], ['eval', 'judge_dir']];

function setIn(target: object, path: string[], value: unknown): void {
  let node = target as Record<string, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path.at(-1)!] = value;
}

function describe(error: ErrorObject): string {
  const field = error.instancePath ? error.instancePath.slice(1).replaceAll('/', '.') : '(top level)';
  if (error.keyword === 'additionalProperties') {
    const prefix = field === '(top level)' ? '' : `${field}: `;
    const unknownField = (error.params as { additionalProperty: string }).additionalProperty;
    return `${prefix}unknown field "${unknownField}"`;
  }
  if (error.keyword === 'anyOf')
    return `field "${field}" must be a file path or {file, prompt, response, input, messages}`;
  if (error.keyword === 'enum')
    return `field "${field}" must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  return `field "${field}" ${error.message}`;
}

/** Where a grid's stages live: stages_dir, or run_dir/stages. */
export function stagesDir(config: Pick<GridConfig, 'run_dir' | 'stages_dir'>): string {
  return config.stages_dir ?? join(config.run_dir, 'stages');
}

/**
 * The committed grids of a `pharmacist reproduce` preset, at the package root: configs/reproduce-<name>.yaml,
 * or every YAML file in configs/reproduce-<name>/ in name order (one grid per table, sharing a stage cache).
 */
export function presetConfigs(name: string): string[] {
  const configs = packagePath('configs');
  const file = join(configs, `reproduce-${name}.yaml`),
    folder = join(configs, `reproduce-${name}`);
  if (existsSync(file)) return [file];
  if (existsSync(folder))
    return readdirSync(folder)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(folder, f));
  throw new Error(`no preset "${name}": neither ${file} nor ${folder}/ exists`);
}
