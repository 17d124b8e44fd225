/**
 * Typed flags generated from plug-ins' knob declarations (src/config/knobs.ts): one flag per knob name across a
 * family (--inner-lr serves every selector that declares innerLr), parsed against the declaration of the plug-in
 * the command runs, so that a knob added to a plug-in is a flag without touching the command.
 */
import type { Command } from 'commander';
import { kebab, parseKnob, type Knobs, type KnobValue, type KnobValues } from '../config/knobs.js';
import { UsageError } from '../config/usage-error.js';

/** Each knob name with the plug-ins that declare it, in declaration order. */
function owners(declarations: Readonly<Record<string, Knobs>>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [owner, knobs] of Object.entries(declarations))
    for (const name of Object.keys(knobs)) out.set(name, [...(out.get(name) ?? []), owner]);
  return out;
}

/** One flag per knob; the help lists who takes it and each one's default. Values are checked once the plug-in is known. */
export function addKnobFlags(command: Command, declarations: Readonly<Record<string, Knobs>>): Command {
  for (const [name, who] of owners(declarations)) {
    const first = declarations[who[0]][name];
    const defaults = who.map((o) => `${o} ${String(declarations[o][name].default)}`).join('; ');
    command.option(`--${kebab(name)} <value>`, `${first.doc} [${defaults}]`);
  }
  return command;
}

/**
 * The knob flags given on the command line, as `owner`'s knobs: a flag `owner` does not declare is an error naming
 * the plug-ins that take it; a value outside the knob's type or bounds is an error naming the flag.
 */
export function knobOverrides(
  flags: Readonly<Record<string, unknown>>,
  owner: string,
  declarations: Readonly<Record<string, Knobs>>,
): Record<string, KnobValue> {
  const mine: Knobs = declarations[owner] ?? {};
  const out: Record<string, KnobValue> = {};
  for (const [name, who] of owners(declarations)) {
    const raw = flags[name];
    if (raw === undefined) continue;
    const flag = `--${kebab(name)}`;
    if (!Object.hasOwn(mine, name))
      throw new UsageError(`${flag}: ${owner} has no option ${name} (${who.join(', ')} take it)`);
    out[name] = parseKnob(mine[name], String(raw), flag);
  }
  return out;
}

/**
 * One typed flag per knob, named `--<prefix>-<knob>` (--attack-lr), for commands that set several stages' knobs;
 * with `withDefault`, each flag has its knob's default, else a flag not given stays undefined (no override).
 * Read them back with prefixedValues.
 */
export function addPrefixedFlags(command: Command, prefix: string, knobs: Knobs, withDefault = true): Command {
  for (const [name, knob] of Object.entries(knobs)) {
    const flag = `--${prefix}-${kebab(name)}`;
    const parse = (raw: string) => parseKnob(knob, raw, flag);
    if (withDefault) command.option(`${flag} <value>`, `${prefix}: ${knob.doc}`, parse, knob.default);
    else command.option(`${flag} <value>`, `${prefix}: ${knob.doc} [${String(knob.default)}]`, parse);
  }
  return command;
}

/** The values of addPrefixedFlags' flags under their knobs' names (flags not given are left out). */
export function prefixedValues<K extends Knobs>(
  flags: Readonly<Record<string, unknown>>,
  prefix: string,
  knobs: K,
): Partial<KnobValues<K>> {
  const camel = (name: string) => `${prefix}${name[0].toUpperCase()}${name.slice(1)}`;
  return Object.fromEntries(
    Object.keys(knobs)
      .filter((name) => flags[camel(name)] !== undefined)
      .map((name) => [name, flags[camel(name)]]),
  ) as Partial<KnobValues<K>>;
}

/** One typed flag per knob of one declaration, with its default: the value arrives parsed under the knob's name. */
export function addDeclaredFlags(command: Command, knobs: Knobs): Command {
  for (const [name, knob] of Object.entries(knobs)) {
    const flag = `--${kebab(name)}`;
    command.option(`${flag} <value>`, knob.doc, (raw: string) => parseKnob(knob, raw, flag), knob.default);
  }
  return command;
}
