/**
 * A plug-in's settings, declared once: each knob's type, default and a one-line why. Everything else is
 * derived from the declaration: the defaults object and its TypeScript type, the grid config's JSON schema
 * (snake_case keys), the CLI's typed flags and `key=value` overrides, the stage-key part and the Markdown
 * tables of docs/knobs.md. So a knob added to a plug-in is settable from the CLI and a grid, documented and
 * part of the stage cache's identity without touching any other file.
 */
import { UsageError } from './usage-error.js';

interface KnobBase<T> {
  default: T;
  /** One line: what it sets and why its default. */
  doc: string;
  /**
   * Stage folders computed before this knob could be set assumed this value: a stage key leaves the knob out
   * while it has that value, so those folders keep their names (see keyedKnobs). Unset: always keyed.
   */
  unkeyedAt?: T;
}
export interface IntKnob extends KnobBase<number> {
  kind: 'int';
  min: number;
}
export interface NumberKnob extends KnobBase<number> {
  kind: 'number';
  /** Lower bound; exclusive unless `inclusive`. */
  min: number;
  inclusive: boolean;
  max?: number;
}
export interface ChoiceKnob<V extends string = string> extends KnobBase<V> {
  kind: 'choice';
  values: readonly V[];
}
export interface FlagKnob extends KnobBase<boolean> {
  kind: 'flag';
}
export interface TextKnob extends KnobBase<string | null> {
  kind: 'text';
}
export type Knob = IntKnob | NumberKnob | ChoiceKnob | FlagKnob | TextKnob;
export type Knobs = Readonly<Record<string, Knob>>;
export type KnobValue = number | string | boolean | null;

/** The values a declaration describes, typed: choices as their literal union. */
export type KnobValues<K extends Knobs> = {
  -readonly [P in keyof K]: K[P] extends ChoiceKnob<infer V>
    ? V
    : K[P] extends FlagKnob
      ? boolean
      : K[P] extends TextKnob
        ? string | null
        : number;
};

type SnakeCase<S extends string> = S extends `${infer H}${infer T}`
  ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${SnakeCase<T>}`
  : S;

/** A grid section's values: the declaration's values under their snake_case names (batchSize -> batch_size). */
export type SectionValues<K extends Knobs> = { [P in keyof KnobValues<K> as SnakeCase<P & string>]: KnobValues<K>[P] };

type Extra<T> = Partial<Pick<KnobBase<T>, 'unkeyedAt'>>;

/** A whole number >= min (counts: epochs, steps, batch sizes, layers). */
export const int = (def: number, doc: string, min = 1, extra: Extra<number> = {}): IntKnob => ({
  kind: 'int',
  default: def,
  doc,
  min,
  ...extra,
});
/** A number > 0 (rates, scales); `{min: 0, inclusive: true}` for weights that may be off. */
export const number = (
  def: number,
  doc: string,
  bounds: { min?: number; inclusive?: boolean; max?: number } = {},
  extra: Extra<number> = {},
): NumberKnob => ({
  kind: 'number',
  default: def,
  doc,
  min: bounds.min ?? 0,
  inclusive: bounds.inclusive ?? false,
  ...(bounds.max === undefined ? {} : { max: bounds.max }),
  ...extra,
});
export const choice = <const V extends string>(
  values: readonly V[],
  def: NoInfer<V>,
  doc: string,
  extra: Extra<V> = {},
): ChoiceKnob<V> => ({ kind: 'choice', values, default: def, doc, ...extra });
export const flag = (def: boolean, doc: string, extra: Extra<boolean> = {}): FlagKnob => ({
  kind: 'flag',
  default: def,
  doc,
  ...extra,
});
/** A string, or null for "not set" (URLs, names, folders). */
export const text = (def: string | null, doc: string, extra: Extra<string | null> = {}): TextKnob => ({
  kind: 'text',
  default: def,
  doc,
  ...extra,
});

export function defaultsOf<K extends Knobs>(knobs: K): KnobValues<K> {
  return Object.fromEntries(Object.entries(knobs).map(([name, k]) => [name, k.default])) as KnobValues<K>;
}

/** camelCase -> snake_case, the grid config's spelling (innerLr -> inner_lr). */
export const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** camelCase -> kebab-case, the CLI's spelling (innerLr -> --inner-lr). */
export const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Knob values as a grid section: the same values under snake_case keys (the inverse of fromSection). */
export function toSection(values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).map(([name, v]) => [snake(name), v]));
}

/** One knob's JSON schema (Ajv fills in the default). */
export function knobSchema(knob: Knob, description = knob.doc): object {
  switch (knob.kind) {
    case 'int':
      return { type: 'integer', minimum: knob.min, default: knob.default, description };
    case 'number':
      return {
        type: 'number',
        [knob.inclusive ? 'minimum' : 'exclusiveMinimum']: knob.min,
        ...(knob.max === undefined ? {} : { maximum: knob.max }),
        default: knob.default,
        description,
      };
    case 'choice':
      return { enum: [...knob.values], default: knob.default, description };
    case 'flag':
      return { type: 'boolean', default: knob.default, description };
    case 'text':
      return { type: ['string', 'null'], default: knob.default, description };
  }
}

/** A grid config section for a declaration: snake_case keys, unknown keys rejected, every default filled in. */
export function sectionSchema(knobs: Knobs, description: string): object {
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(knobs).map(([name, k]) => [snake(name), knobSchema(k)])),
    additionalProperties: false,
    default: {},
    description,
  };
}

/** A grid section's snake_case values back as the plug-in's camelCase knobs (only the declared ones). */
export function fromSection<K extends Knobs>(knobs: K, section: Readonly<Record<string, unknown>>): KnobValues<K> {
  return Object.fromEntries(Object.keys(knobs).map((name) => [name, section[snake(name)]])) as KnobValues<K>;
}

/**
 * The knobs that identify a stage, snake_case: every knob, except one still at its `unkeyedAt` value (stage
 * folders made before it existed assumed that value and keep their names).
 */
export function keyedKnobs(knobs: Knobs, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(knobs)
      .filter(([name, k]) => !('unkeyedAt' in k) || values[name] !== k.unkeyedAt)
      .map(([name]) => [snake(name), values[name]]),
  );
}

/** What a knob takes, for error messages and help. */
export function describeKnobType(knob: Knob): string {
  switch (knob.kind) {
    case 'int':
      return `a whole number >= ${knob.min}`;
    case 'number':
      return `a number ${knob.inclusive ? '>=' : '>'} ${knob.min}${knob.max === undefined ? '' : ` and <= ${knob.max}`}`;
    case 'choice':
      return knob.values.join(' or ');
    case 'flag':
      return 'true or false';
    case 'text':
      return 'a string';
  }
}

/** One value from the command line, checked against its declaration; an error says "<where> takes ..., got ...". */
export function parseKnob(knob: Knob, raw: string, where: string): KnobValue {
  const bad = () => new UsageError(`${where} takes ${describeKnobType(knob)}, got "${raw}"`);
  switch (knob.kind) {
    case 'int': {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isInteger(v) || v < knob.min) throw bad();
      return v;
    }
    case 'number': {
      const v = Number(raw);
      const below = knob.inclusive ? v < knob.min : v <= knob.min;
      if (raw.trim() === '' || !Number.isFinite(v) || below || (knob.max !== undefined && v > knob.max)) throw bad();
      return v;
    }
    case 'choice':
      if (!knob.values.includes(raw)) throw bad();
      return raw;
    case 'flag':
      if (raw !== 'true' && raw !== 'false') throw bad();
      return raw === 'true';
    case 'text':
      return raw;
  }
}

/**
 * `knob=value` overrides of one plug-in's knobs (a CLI's --<family>-option): an unknown knob, a missing `=` or
 * a value of the wrong type is an error naming the flag, the plug-in and the knobs it has.
 */
export function parseKnobOverrides(
  owner: string,
  knobs: Knobs | null,
  pairs: readonly string[],
  flagName: string,
): Record<string, KnobValue> {
  if (pairs.length === 0) return {};
  if (knobs === null || Object.keys(knobs).length === 0) throw new UsageError(`${flagName}: ${owner} has no options`);
  const out: Record<string, KnobValue> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const name = at < 0 ? pair : pair.slice(0, at);
    if (!Object.hasOwn(knobs, name))
      throw new UsageError(
        `${flagName} ${pair}: ${owner} has no option "${name}" (choose ${Object.keys(knobs).join(', ')})`,
      );
    if (at < 0) throw new UsageError(`${flagName} ${pair}: expected ${name}=value`);
    out[name] = parseKnob(knobs[name], pair.slice(at + 1), `${flagName} ${pair}: "${name}"`);
  }
  return out;
}

const cell = (v: unknown) => (v === null ? '—' : `\`${String(v)}\``);

/** A Markdown table of a declaration: knob (camelCase and grid spelling), type, default, why. */
export function knobTable(knobs: Knobs): string {
  const rows = Object.entries(knobs).map(
    ([name, k]) =>
      `| \`${name}\` / \`${snake(name)}\` | ${describeKnobType(k)} | ${cell(k.default)} | ${k.doc.replaceAll('|', '\\|')} |`,
  );
  return ['| knob (CLI / grid) | takes | default | why |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/**
 * A declaration whose knobs could not be set when its stage folders were first computed: each is left out of
 * stage keys while at its default (`unkeyedAt`), so those folders keep their names.
 */
export function settableSinceKnobs<K extends Knobs>(knobs: K): K {
  return Object.fromEntries(
    Object.entries(knobs).map(([name, k]) => [name, { ...k, unkeyedAt: k.default }]),
  ) as unknown as K;
}

/** The same knobs with other defaults (e.g. the attack's learning rate on the training knobs). */
export function withDefaults<K extends Knobs>(knobs: K, defaults: Partial<KnobValues<K>>): K {
  return Object.fromEntries(
    Object.entries(knobs).map(([name, k]) => [name, name in defaults ? { ...k, default: defaults[name] } : k]),
  ) as unknown as K;
}
