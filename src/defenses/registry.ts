/** Defenses by name, each with its documented defaults (overridable). */
import { BoosterDefense, BOOSTER_DEFAULTS, type BoosterConfig } from './booster.js';
import { SftDefense, type Defense } from './defense.js';
import { LISA_DEFAULTS, type LisaConfig } from './lisa.js';
import { RepNoiseDefense, REPNOISE_DEFAULTS, type RepNoiseConfig } from './repnoise.js';
import { TVaccineDefense, TVACCINE_DEFAULTS, type TVaccineConfig } from './tvaccine.js';
import { VaccineDefense, VACCINE_DEFAULTS, type VaccineConfig } from './vaccine.js';

/** `lisa` aligns with SFT and defends during fine-tuning (the attack stage interleaves alignment steps). */
export const DEFENSE_NAMES = ['sft', 'vaccine', 'repnoise', 'booster', 'tvaccine', 'lisa'] as const;
export type DefenseName = (typeof DEFENSE_NAMES)[number];

export interface DefenseOptions {
  vaccine?: Partial<VaccineConfig>;
  repnoise?: Partial<RepNoiseConfig>;
  booster?: Partial<BoosterConfig>;
  tvaccine?: Partial<TVaccineConfig>;
  lisa?: Partial<LisaConfig>;
}

/** Every defense's knobs and their defaults (documented beside each config type): what grids and the CLI override. */
export const DEFENSE_DEFAULTS = {
  vaccine: VACCINE_DEFAULTS,
  repnoise: REPNOISE_DEFAULTS,
  booster: BOOSTER_DEFAULTS,
  tvaccine: TVACCINE_DEFAULTS,
  lisa: LISA_DEFAULTS,
} as const;
export type TunableDefense = keyof typeof DEFENSE_DEFAULTS;

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
  if (!(defense in DEFENSE_DEFAULTS)) throw new Error(`${flag}: ${defense} has no options`);
  const defaults = DEFENSE_DEFAULTS[defense as TunableDefense] as unknown as Record<string, number>;
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

export function createDefense(name: string, options: DefenseOptions = {}): Defense {
  switch (name) {
    case 'sft':
      return new SftDefense();
    case 'lisa':
      return Object.assign(new SftDefense(), { name: 'lisa' });
    case 'vaccine':
      return new VaccineDefense({ ...VACCINE_DEFAULTS, ...options.vaccine });
    case 'repnoise':
      return new RepNoiseDefense({ ...REPNOISE_DEFAULTS, ...options.repnoise });
    case 'booster':
      return new BoosterDefense({ ...BOOSTER_DEFAULTS, ...options.booster });
    case 'tvaccine':
      return new TVaccineDefense({ ...TVACCINE_DEFAULTS, ...options.tvaccine });
    default:
      throw new Error(`unknown defense "${name}" (choose ${DEFENSE_NAMES.join(', ')})`);
  }
}
