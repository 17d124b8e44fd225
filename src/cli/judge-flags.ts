/** The judge flags every command that scores takes (judge, judge-eval, attack's probe, eval), from the judges' knobs. */
import type { Command } from 'commander';
import { kebab, parseKnob, type KnobValue } from '../config/knobs.js';
import { ALL_JUDGE_KNOBS, JUDGE_KNOBS, JUDGE_NAMES, type JudgeOptions } from '../eval/judges/registry.js';
import { addKnobFlags } from './knob-flags.js';

/** --judge and one flag per judge knob (ALL_JUDGE_KNOBS), as commander hands them over (strings). */
export type JudgeFlags = { judge: string } & { [K in keyof typeof ALL_JUDGE_KNOBS]?: string };

export function addJudgeFlags(command: Command, what = 'judge'): Command {
  return addKnobFlags(command.option('--judge <name>', `${what}: ${JUDGE_NAMES.join(', ')}`, 'builtin'), JUDGE_KNOBS);
}

/** The judge flags given, checked against their declarations (every judge gets them all and reads its own). */
export function judgeOptions(o: JudgeFlags): JudgeOptions {
  const given = o as unknown as Record<string, unknown>;
  const out: Record<string, KnobValue> = {};
  for (const [name, knob] of Object.entries(ALL_JUDGE_KNOBS))
    if (given[name] !== undefined) out[name] = parseKnob(knob, String(given[name]), `--${kebab(name)}`);
  return out as JudgeOptions;
}
