/** The judge flags every command that scores takes (judge, judge-eval, attack's probe, eval), from the judges' knobs. */
import type { Command } from 'commander';
import { kebab, parseKnob, type KnobValue } from '../config/knobs.js';
import { JUDGE_KNOBS, JUDGE_NAMES, type JudgeOptions } from '../eval/judges/registry.js';
import { addKnobFlags } from './knob-flags.js';

export interface JudgeFlags {
  judge: string;
  judgeDir?: string;
  url?: string;
  modelName?: string;
  judgeFormat?: string;
}

export function addJudgeFlags(command: Command, what = 'judge'): Command {
  return addKnobFlags(command.option('--judge <name>', `${what}: ${JUDGE_NAMES.join(', ')}`, 'builtin'), JUDGE_KNOBS);
}

/** The judge flags given, checked against their declarations (every judge gets them all and reads its own). */
export function judgeOptions(o: JudgeFlags): JudgeOptions {
  const given = o as unknown as Record<string, unknown>;
  const out: Record<string, KnobValue> = {};
  for (const knobs of Object.values(JUDGE_KNOBS))
    for (const [name, knob] of Object.entries(knobs))
      if (given[name] !== undefined) out[name] = parseKnob(knob, String(given[name]), `--${kebab(name)}`);
  return out as JudgeOptions;
}
