/**
 * Defenses by name: one entry per defense, with what it does, its knobs' declaration (null: none; each knob's
 * type, default and why) and how to make it. The names, the tunable defenses, their knobs and defaults all
 * follow the entries.
 */
import { defaultsOf, parseKnobOverrides, type Knobs, type KnobValues } from '../config/knobs.js';
import { BoosterDefense, BOOSTER_DEFAULTS, BOOSTER_KNOBS } from './booster.js';
import { SftDefense, type Defense } from './defense.js';
import { LisaDefense, LISA_DEFAULTS, LISA_KNOBS } from './lisa.js';
import { RepNoiseDefense, REPNOISE_DEFAULTS, REPNOISE_KNOBS } from './repnoise.js';
import { TVaccineDefense, TVACCINE_DEFAULTS, TVACCINE_KNOBS } from './tvaccine.js';
import { VaccineDefense, VACCINE_DEFAULTS, VACCINE_KNOBS } from './vaccine.js';

/** A registered defense: `create` gets overrides of its own knobs only, laid over their defaults. */
export interface DefenseEntry<K extends Knobs | null> {
  description: string;
  knobs: K;
  create(overrides: Partial<K extends Knobs ? KnobValues<K> : never>): Defense;
}

// Pins each entry's knob type, so that `create` and `knobs` agree and DefenseOptions can be read off them.
const entry = <K extends Knobs | null>(e: DefenseEntry<K>) => e;

export const DEFENSES = {
  sft: entry({
    description: 'plain supervised fine-tuning on the alignment data',
    knobs: null,
    create: () => new SftDefense(),
  }),
  vaccine: entry({
    description: 'alignment under the worst bounded perturbation of the attention outputs',
    knobs: VACCINE_KNOBS,
    create: (o) => new VaccineDefense({ ...VACCINE_DEFAULTS, ...o }),
  }),
  repnoise: entry({
    description: "harmful data's representations pushed toward noise, its likelihood down at every depth",
    knobs: REPNOISE_KNOBS,
    create: (o) => new RepNoiseDefense({ ...REPNOISE_DEFAULTS, ...o }),
  }),
  booster: entry({
    description: 'attenuates the harmful perturbation; the attack keeps training its adapter (single flow)',
    knobs: BOOSTER_KNOBS,
    create: (o) => new BoosterDefense({ ...BOOSTER_DEFAULTS, ...o }),
  }),
  tvaccine: entry({
    description: 'Vaccine on a few safety-critical layers, drawn by their harmful-gradient scores',
    knobs: TVACCINE_KNOBS,
    create: (o) => new TVaccineDefense({ ...TVACCINE_DEFAULTS, ...o }),
  }),
  lisa: entry({
    description: 'aligns with SFT; during fine-tuning interleaves alignment steps with a proximal term',
    knobs: LISA_KNOBS,
    create: (o) => new LisaDefense({ ...LISA_DEFAULTS, ...o }),
  }),
};

type Entries = typeof DEFENSES;
export type DefenseName = keyof Entries;
export const DEFENSE_NAMES = Object.keys(DEFENSES) as readonly DefenseName[];

/** The defenses with knobs. */
export type TunableDefense = { [K in DefenseName]: Entries[K]['knobs'] extends null ? never : K }[DefenseName];
type KnobsOf<K extends TunableDefense> = NonNullable<Entries[K]['knobs']>;

/** Overrides of the knobs, per defense. */
export type DefenseOptions = { [K in TunableDefense]?: Partial<KnobValues<KnobsOf<K>>> };

/** Every tunable defense's knob declaration: what grids and the CLI override. */
export const DEFENSE_KNOBS = Object.fromEntries(
  Object.entries(DEFENSES).flatMap(([name, e]) => (e.knobs === null ? [] : [[name, e.knobs]])),
) as { readonly [K in TunableDefense]: KnobsOf<K> };

/** Every tunable defense's knob defaults (as the knob declarations say). */
export const DEFENSE_DEFAULTS = Object.fromEntries(
  Object.entries(DEFENSE_KNOBS).map(([name, knobs]) => [name, defaultsOf(knobs)]),
) as { readonly [K in TunableDefense]: KnobValues<KnobsOf<K>> };

const isDefense = (name: string): name is DefenseName => Object.hasOwn(DEFENSES, name);
export const isTunableDefense = (name: string): name is TunableDefense => Object.hasOwn(DEFENSE_KNOBS, name);

/**
 * `key=value` overrides of one defense's knobs (the CLI's --defense-option), checked against its declaration:
 * an unknown knob or a value of the wrong type is an error naming both.
 */
export function parseDefenseOptions(
  defense: string,
  pairs: readonly string[],
  flag = '--defense-option',
): DefenseOptions {
  if (pairs.length === 0) return {};
  const knobs = isTunableDefense(defense) ? DEFENSE_KNOBS[defense] : null;
  return { [defense]: parseKnobOverrides(defense, knobs, pairs, flag) };
}

/** The defense `name` with its knobs from `options` (the other defenses' entries there are ignored). */
export function createDefense(name: string, options: DefenseOptions = {}): Defense {
  if (!isDefense(name)) throw new Error(`unknown defense "${name}" (choose ${DEFENSE_NAMES.join(', ')})`);
  const knobs = isTunableDefense(name) ? options[name] : undefined;
  // Each entry's create takes its own knob type; the name ties `knobs` to it, which TypeScript cannot follow.
  return (DEFENSES[name].create as (knobs: object) => Defense)(knobs ?? {});
}
