/**
 * Defenses by name: one entry per defense, with what it does, its knobs' documented defaults (overridable;
 * null: none) and how to make it. The names, the tunable defenses and their defaults all follow the entries.
 */
import { BoosterDefense, BOOSTER_DEFAULTS, type BoosterConfig } from './booster.js';
import { SftDefense, type Defense } from './defense.js';
import { LisaDefense, LISA_DEFAULTS, type LisaConfig } from './lisa.js';
import { RepNoiseDefense, REPNOISE_DEFAULTS, type RepNoiseConfig } from './repnoise.js';
import { TVaccineDefense, TVACCINE_DEFAULTS, type TVaccineConfig } from './tvaccine.js';
import { VaccineDefense, VACCINE_DEFAULTS, type VaccineConfig } from './vaccine.js';

/** A registered defense: `create` gets overrides of its own knobs only, laid over `defaults`. */
export interface DefenseEntry<C extends object | null> {
  description: string;
  defaults: C;
  create(knobs: Partial<C>): Defense;
}

// Pins each entry's knob type, so that `create` and `defaults` agree and DefenseOptions can be read off them.
const entry = <C extends object | null>(e: DefenseEntry<C>) => e;

export const DEFENSES = {
  sft: entry({
    description: 'plain supervised fine-tuning on the alignment data',
    defaults: null,
    create: () => new SftDefense(),
  }),
  vaccine: entry({
    description: 'alignment under the worst bounded perturbation of the attention outputs',
    defaults: VACCINE_DEFAULTS,
    create: (knobs: Partial<VaccineConfig>) => new VaccineDefense({ ...VACCINE_DEFAULTS, ...knobs }),
  }),
  repnoise: entry({
    description: "harmful data's representations pushed toward noise, its likelihood down at every depth",
    defaults: REPNOISE_DEFAULTS,
    create: (knobs: Partial<RepNoiseConfig>) => new RepNoiseDefense({ ...REPNOISE_DEFAULTS, ...knobs }),
  }),
  booster: entry({
    description: 'attenuates the harmful perturbation; the attack keeps training its adapter (single flow)',
    defaults: BOOSTER_DEFAULTS,
    create: (knobs: Partial<BoosterConfig>) => new BoosterDefense({ ...BOOSTER_DEFAULTS, ...knobs }),
  }),
  tvaccine: entry({
    description: 'Vaccine on a few safety-critical layers, drawn by their harmful-gradient scores',
    defaults: TVACCINE_DEFAULTS,
    create: (knobs: Partial<TVaccineConfig>) => new TVaccineDefense({ ...TVACCINE_DEFAULTS, ...knobs }),
  }),
  lisa: entry({
    description: 'aligns with SFT; during fine-tuning interleaves alignment steps with a proximal term',
    defaults: LISA_DEFAULTS,
    create: (knobs: Partial<LisaConfig>) => new LisaDefense({ ...LISA_DEFAULTS, ...knobs }),
  }),
};

type Entries = typeof DEFENSES;
export type DefenseName = keyof Entries;
export const DEFENSE_NAMES = Object.keys(DEFENSES) as readonly DefenseName[];

/** The defenses with knobs. */
export type TunableDefense = { [K in DefenseName]: Entries[K]['defaults'] extends null ? never : K }[DefenseName];
type KnobsOf<K extends TunableDefense> = NonNullable<Entries[K]['defaults']>;

/** Overrides of the knobs, per defense. */
export type DefenseOptions = { [K in TunableDefense]?: Partial<KnobsOf<K>> };

/** Every defense's knobs and their defaults (documented beside each config type): what grids and the CLI override. */
export const DEFENSE_DEFAULTS = Object.fromEntries(
  Object.entries(DEFENSES).flatMap(([name, e]) => (e.defaults === null ? [] : [[name, e.defaults]])),
) as { readonly [K in TunableDefense]: KnobsOf<K> };

const isDefense = (name: string): name is DefenseName => Object.hasOwn(DEFENSES, name);
const isTunable = (name: string): name is TunableDefense => Object.hasOwn(DEFENSE_DEFAULTS, name);

/** Knobs that count steps or layers take whole numbers. */
export const isCountKnob = (knob: string) => /(Layers|Every|Steps)$/.test(knob);

/**
 * `key=value` overrides of one defense's knobs (the CLI's --defense-option), checked against its defaults:
 * an unknown knob or a value that is not a number is an error naming both.
 */
export function parseDefenseOptions(
  defense: string,
  pairs: readonly string[],
  flag = '--defense-option',
): DefenseOptions {
  if (pairs.length === 0) return {};
  if (!isTunable(defense)) throw new Error(`${flag}: ${defense} has no options`);
  const defaults = DEFENSE_DEFAULTS[defense] as unknown as Record<string, number>;
  const out: Record<string, number> = {};
  for (const pair of pairs) {
    const [knob, text] = pair.split('=', 2);
    if (!(knob in defaults))
      throw new Error(
        `${flag} ${pair}: ${defense} has no option "${knob}" (choose ${Object.keys(defaults).join(', ')})`,
      );
    const value = Number(text);
    if (
      text === undefined ||
      text.trim() === '' ||
      !Number.isFinite(value) ||
      (isCountKnob(knob) && !(Number.isInteger(value) && value >= 1))
    ) {
      throw new Error(`${flag} ${pair}: "${knob}" takes ${isCountKnob(knob) ? 'a whole number >= 1' : 'a number'}`);
    }
    out[knob] = value;
  }
  return { [defense]: out };
}

/** The defense `name` with its knobs from `options` (the other defenses' entries there are ignored). */
export function createDefense(name: string, options: DefenseOptions = {}): Defense {
  if (!isDefense(name)) throw new Error(`unknown defense "${name}" (choose ${DEFENSE_NAMES.join(', ')})`);
  const knobs = isTunable(name) ? options[name] : undefined;
  // Each entry's create takes its own knob type; the name ties `knobs` to it, which TypeScript cannot follow.
  return (DEFENSES[name].create as (knobs: object) => Defense)(knobs ?? {});
}
