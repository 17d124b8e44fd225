/** Helpers for the plug-in contract tests: a value of each knob other than its default, within its bounds. */
import type { Knob, KnobValue } from './knobs.js';

export function anotherValue(knob: Knob): KnobValue {
  switch (knob.kind) {
    case 'int':
      return knob.default + 1;
    case 'number':
      return knob.max === undefined ? knob.default + 1 : (knob.default + knob.min) / 2 || knob.max;
    case 'choice':
      return knob.values.find((v) => v !== knob.default)!;
    case 'flag':
      return !knob.default;
    case 'text':
      return `${knob.default ?? ''}-other`;
  }
}
