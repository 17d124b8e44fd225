/**
 * `--config FILE` for the stage commands: the same file a grid takes (validated by the grid's schema, errors with
 * file:line), read for the fields this command has a flag for; a flag given on the command line wins over the
 * file, the file over the flag's default. Lists of the grid (seed, task, n, p, selector, defense, ratio) must hold
 * one value here. Users' files (data.<role>) keep their own field names.
 */
import type { Command } from 'commander';
import { snake, type Knobs } from '../config/knobs.js';
import { UsageError } from '../config/usage-error.js';
import { loadConfigFile, type ConfigFile } from '../pipeline/grid-config.js';
import { STAGE_RUN_DEFAULTS } from '../pipeline/stage-runs.js';
import { dataFileOf, type DataFile, type DataRole, type DataSection } from '../pipeline/user-data.js';

/** A config field and the option (camelCase key) it sets; `one`: a grid list that must hold one value. */
export interface ConfigField {
  path: readonly string[];
  option: string;
  one?: boolean;
  /** The option's value from the config's (commander hands some options over as strings). */
  convert?: (value: unknown) => unknown;
}

/** Every knob of a section as a config field: section.<snake name> -> --<kebab name>. */
export function knobFields(section: readonly string[], knobs: Knobs, convert?: (v: unknown) => unknown): ConfigField[] {
  return Object.keys(knobs).map((name) => ({ path: [...section, snake(name)], option: name, convert }));
}

/** A stage's own seed list of the grid (grid.<stage>_seed) as its --<stage>-seed flag. */
export const seedField = (stage: string): ConfigField => ({
  path: ['grid', `${stage}_seed`],
  option: `${stage}Seed`,
  one: true,
});

/** The fields every stage command takes from a config: the model, its prompt format and the replicate seed. */
export const COMMON_FIELDS: ConfigField[] = [
  { path: ['model'], option: 'model' },
  { path: ['prompt_format'], option: 'promptFormat' },
  { path: ['grid', 'seed'], option: 'seed', one: true },
];

/** Users' files by role as the command's file flags; their field names are kept in the `roleFields` option. */
export type RoleFlags = Partial<Record<DataRole, string>>;

/** What a command's action receives for the data roles a config set: each file with its fields. */
export interface ConfigRoleFields {
  roleFields?: Partial<Record<DataRole, DataFile>>;
}

/**
 * Add --config to a command: before its action runs, the file's fields fill the options not given on the command
 * line. `dynamic` adds fields that depend on other options' values (a selector's or a defense's section).
 */
export function addConfigFlag(
  command: Command,
  fields: readonly ConfigField[],
  roles: RoleFlags = {},
  dynamic: (opts: Record<string, unknown>) => ConfigField[] = () => [],
): Command {
  command.option('--config <file>', "a grid config file (YAML/JSON) holding this command's settings; flags win");
  command.hook('preAction', (_, action) => {
    const file = action.opts().config as string | undefined;
    if (!file) return;
    const loaded = loadConfigFile(file);
    apply(action, loaded, fields);
    apply(action, loaded, dynamic(action.opts()));
    const roleFields: Partial<Record<DataRole, DataFile>> = {};
    for (const [role, option] of Object.entries(roles) as [DataRole, string][]) {
      const setting = (loaded.config.data as DataSection)[role];
      if (setting === undefined || action.getOptionValueSource(option) === 'cli') continue;
      roleFields[role] = dataFileOf(setting);
      action.setOptionValueWithSource(option, roleFields[role].file, 'config');
    }
    action.setOptionValueWithSource('roleFields', roleFields, 'config');
  });
  return command;
}

function apply(action: Command, loaded: ConfigFile, fields: readonly ConfigField[]): void {
  for (const field of fields) {
    if (!loaded.written(field.path) || action.getOptionValueSource(field.option) === 'cli') continue;
    let value: unknown = field.path.reduce<unknown>(
      (node, key) => (node as Record<string, unknown>)[key],
      loaded.config,
    );
    if (field.one) {
      const list = value as unknown[];
      if (list.length !== 1)
        throw new UsageError(
          `${loaded.file}:${loaded.line(field.path)}: field "${field.path.join('.')}" lists ${list.length} values; ` +
            'a stage command takes one',
        );
      value = list[0];
    }
    const converted = value === null || !field.convert ? value : field.convert(value);
    if (converted === null) continue;
    action.setOptionValueWithSource(field.option, converted, 'config');
  }
}

/** The field flags as a mapping (conversations are read from `messages`, the default field, where a record has it). */
export function fieldsOf(o: { promptField: string; responseField: string; inputField: string }) {
  return {
    prompt: o.promptField,
    response: o.responseField,
    input: o.inputField,
    messages: STAGE_RUN_DEFAULTS.mapping.messages,
  };
}

/** The files of the given roles, each read with its config's fields or else the command's field flags. */
export function roleFiles(
  o: ConfigRoleFields & { promptField: string; responseField: string; inputField: string },
  given: Partial<Record<DataRole, string | undefined>>,
): Partial<Record<DataRole, DataFile>> {
  const fields = fieldsOf(o);
  return Object.fromEntries(
    (Object.entries(given) as [DataRole, string | undefined][])
      .filter(([, file]) => file !== undefined)
      .map(([role, file]) => {
        const fromConfig = o.roleFields?.[role];
        return [role, fromConfig?.file === file ? fromConfig : { file: file!, ...fields }];
      }),
  );
}
