/**
 * Users' own files in a grid (the config's `data` section): one file per role, each with its field mapping,
 * laid over the embedded world; a role not given keeps the embedded default. A file is used whole (the world's
 * sizes apply to the embedded draws), except the attack's mix, which draws n(1 - p) task and n p harmful
 * records per cell from task_train and attack_harmful with the cell's world seed.
 */
import { statSync } from 'node:fs';
import { asInstruction, DEFAULT_FIELD_MAPPING, loadUserRecords, type QaRecord } from '../data/datasets.js';
import { buildWorld, type FinetuneSample, type World, type WorldConfig } from '../data/world.js';
import { deriveSeed, Rng } from '../engine/rng.js';
import { sha256Files } from '../io/hash.js';

/** The task of cells trained and tested on the user's task files (data.task_train or finetune, data.task_test). */
export const CUSTOM_TASK = 'custom';

/** What each role is for (the schema's descriptions and docs/knobs.md). */
export const DATA_ROLES = {
  pool: 'the alignment pool the selectors rank',
  validation: "the selector's validation set (and alignment's validation-loss curve)",
  harmful: "the selector's harmful set and the attack's harmful-loss curve",
  finetune: 'ready-made fine-tuning data, trained on whole (grid n and p then hold one value)',
  task_train: "benign task data: the attack's n(1 - p) task records are drawn from it per cell",
  attack_harmful: "harmful data: the attack's n p harmful records are drawn from it per cell",
  eval_prompts:
    'harmful evaluation prompts; when every record has the response field, the harmful margin takes it as the reference',
  task_test: 'task test items (task: custom); the response field holds the gold label, the labels are its values',
} as const;

export type DataRole = keyof typeof DATA_ROLES;
export const DATA_ROLE_NAMES = Object.keys(DATA_ROLES) as DataRole[];

/** A role's file and the fields it is read with (prompt, response, input; messages where a record has it). */
export interface DataFile {
  file: string;
  prompt: string;
  response: string;
  input: string;
  messages: string;
}

/** A role as a config writes it: the file's path (default fields), or the path with its fields. */
export type DataFileSetting = string | ({ file: string } & Partial<Omit<DataFile, 'file'>>);

export type DataSection = Partial<Record<DataRole, DataFileSetting>>;

/** The grid schema of the `data` section. */
export const DATA_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description:
    "your files, one per role (a role left out keeps the embedded world's); each a path, or {file, prompt, " +
    `response, input} naming its fields (default ${DEFAULT_FIELD_MAPPING.prompt}/${DEFAULT_FIELD_MAPPING.response}/` +
    `${DEFAULT_FIELD_MAPPING.input}); JSONL, JSON, CSV or TSV; paths relative to the config's folder`,
  properties: Object.fromEntries(
    Object.entries(DATA_ROLES).map(([role, doc]) => [
      role,
      {
        description: doc,
        anyOf: [
          { type: 'string', minLength: 1 },
          {
            type: 'object',
            additionalProperties: false,
            required: ['file'],
            properties: Object.fromEntries(
              ['file', 'prompt', 'response', 'input', 'messages'].map((k) => [k, { type: 'string', minLength: 1 }]),
            ),
          },
        ],
      },
    ]),
  ),
} as const;

/** A role's setting with its fields filled in. */
export function dataFileOf(setting: DataFileSetting): DataFile {
  return typeof setting === 'string'
    ? { file: setting, ...DEFAULT_FIELD_MAPPING }
    : { ...DEFAULT_FIELD_MAPPING, ...setting };
}

/** The roles a config sets, with their fields. */
export function dataFiles(section: DataSection): Partial<Record<DataRole, DataFile>> {
  return Object.fromEntries(Object.entries(section).map(([role, setting]) => [role, dataFileOf(setting)])) as Partial<
    Record<DataRole, DataFile>
  >;
}

const hashes = new Map<string, string>();

/** A file's sha256, computed once per size and modification time (stage keys ask for it per cell). */
function fileHash(file: string): string {
  const { size, mtimeMs } = statSync(file);
  const id = `${file}\0${size}\0${mtimeMs}`;
  if (!hashes.has(id)) hashes.set(id, sha256Files(file));
  return hashes.get(id)!;
}

/**
 * The identity of the given roles' files (content hash and fields) for a stage key; null when none is set, so
 * that the stages of grids on the embedded world keep their names.
 */
export function dataKey(files: Partial<Record<DataRole, DataFile>>, roles: readonly DataRole[]): object | null {
  const set = roles.filter((r) => files[r] !== undefined);
  if (set.length === 0) return null;
  return Object.fromEntries(
    set.map((role) => {
      const { file, ...fields } = files[role]!;
      return [role, { sha256: fileHash(file), fields }];
    }),
  );
}

/** A role's records. Prompt-only roles (eval_prompts without a response field) read the prompt twice. */
export function loadRole(data: DataFile, promptOnly = false): QaRecord[] {
  const mapping = promptOnly
    ? { prompt: data.prompt, response: data.prompt }
    : { prompt: data.prompt, response: data.response, input: data.input, messages: data.messages };
  return loadUserRecords(data.file, mapping).records;
}

/** `count` records drawn without replacement; too few is an error naming the file. */
function draw<T>(records: readonly T[], count: number, rng: Rng, data: DataFile, role: DataRole): T[] {
  if (count > records.length)
    throw new Error(`${data.file}: data.${role} has ${records.length} records; the cell needs ${count}`);
  return rng.shuffle([...records]).slice(0, count);
}

/** A user's record as a fine-tuning sample. */
function finetuneSample(r: QaRecord, harmful: boolean): FinetuneSample {
  return { ...asInstruction(r), input: r.input, harmful, origin: r.origin };
}

/**
 * The world with the user's files laid over it for one cell. `loaded` reads a role's records once per grid;
 * `seed` (the cell's world seed) draws the attack's mix.
 */
export function withUserData(
  world: World,
  files: Partial<Record<DataRole, DataFile>>,
  loaded: (role: DataRole, promptOnly?: boolean) => QaRecord[],
  seed: number,
): World {
  const out: World = { ...world };
  if (files.pool) out.pool = loaded('pool').map((r) => ({ ...r, kind: 'natural' as const }));
  if (files.validation) out.validation = loaded('validation');
  if (files.harmful) out.harmful = loaded('harmful');
  if (files.finetune) out.finetune = loaded('finetune').map((r) => finetuneSample(r, false));
  else if (files.task_train || files.attack_harmful) {
    // The embedded mix's counts: n(1 - p) task and n p harmful records.
    const harmfulCount = world.finetune.filter((s) => s.harmful).length;
    const taskCount = world.finetune.length - harmfulCount;
    const rng = new Rng(deriveSeed(seed, 'user-finetune'));
    const task = files.task_train
      ? draw(loaded('task_train'), taskCount, rng, files.task_train, 'task_train').map((r) => finetuneSample(r, false))
      : world.finetune.filter((s) => !s.harmful);
    const harmful = files.attack_harmful
      ? draw(loaded('attack_harmful'), harmfulCount, rng, files.attack_harmful, 'attack_harmful').map((r) =>
          finetuneSample(r, true),
        )
      : world.finetune.filter((s) => s.harmful);
    out.finetune = rng.shuffle([...task, ...harmful]);
  }
  if (files.eval_prompts) {
    const referenceField = files.eval_prompts.response;
    out.evalHarmful = loaded('eval_prompts', true).map((r) => {
      const reference = (r.raw as Record<string, unknown>)[referenceField];
      return { prompt: r.prompt, origin: r.origin, reference: typeof reference === 'string' ? reference.trim() : '' };
    });
  }
  if (files.task_test) {
    const test = loaded('task_test');
    out.evalTask = test.map((r) => ({ ...asInstruction(r), answer: r.response, origin: r.origin }));
    out.taskLabels = [...new Set(test.map((r) => r.response))].sort();
  }
  return out;
}

/** Each role's records read once (per grid or per command), for withUserData. */
export function roleLoader(
  files: Partial<Record<DataRole, DataFile>>,
): (role: DataRole, promptOnly?: boolean) => QaRecord[] {
  const read = new Map<string, QaRecord[]>();
  return (role, promptOnly = false) => {
    const id = `${role}/${promptOnly}`;
    if (!read.has(id)) read.set(id, loadRole(files[role]!, promptOnly));
    return read.get(id)!;
  };
}

/** The embedded world with the user's files laid over it, built on first use (a stage command's data). */
export function lazyUserWorld(config: WorldConfig, files: Partial<Record<DataRole, DataFile>> = {}): () => World {
  let world: World | undefined;
  const loaded = roleLoader(files);
  return () => (world ??= withUserData(buildWorld(config), files, loaded, config.seed));
}
