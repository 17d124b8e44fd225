/** Defenses by name, each with its documented defaults (overridable). */
import { BoosterDefense, BOOSTER_DEFAULTS, type BoosterConfig } from './booster.js';
import { SftDefense, type Defense } from './defense.js';
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
}

export function createDefense(name: string, options: DefenseOptions = {}): Defense {
  switch (name) {
    case 'sft': return new SftDefense();
    case 'lisa': return Object.assign(new SftDefense(), { name: 'lisa' });
    case 'vaccine': return new VaccineDefense({ ...VACCINE_DEFAULTS, ...options.vaccine });
    case 'repnoise': return new RepNoiseDefense({ ...REPNOISE_DEFAULTS, ...options.repnoise });
    case 'booster': return new BoosterDefense({ ...BOOSTER_DEFAULTS, ...options.booster });
    case 'tvaccine': return new TVaccineDefense({ ...TVACCINE_DEFAULTS, ...options.tvaccine });
    default: throw new Error(`unknown defense "${name}" (choose ${DEFENSE_NAMES.join(', ')})`);
  }
}
