/**
 * docs/knobs.md: every plug-in's knobs, from their declarations (`pharmacist knobs > docs/knobs.md`; a test checks
 * that the committed file is current, so the tables cannot drift from the code).
 */
import { knobTable, type Knobs } from '../config/knobs.js';
import { DEFENSES } from '../defenses/registry.js';
import { JUDGES } from '../eval/judges/registry.js';
import { SELECTORS } from '../select/registry.js';
import { TRAINING_KNOBS } from '../train/sft.js';
import { ATTACK_KNOBS } from './stage-runs.js';

interface Family {
  title: string;
  entries: Readonly<Record<string, { description: string; knobs: Knobs | null }>>;
  how: string;
}

const FAMILIES: Family[] = [
  {
    title: 'Selectors',
    entries: SELECTORS,
    how:
      "`pharmacist select --method NAME --<knob-in-kebab-case> VALUE` (e.g. `--inner-lr 0.1`), or a grid's " +
      '`select: {NAME: {knob_in_snake_case: VALUE}}`.',
  },
  {
    title: 'Defenses',
    entries: DEFENSES,
    how:
      '`pharmacist align --defense NAME --defense-option knob=VALUE` (`attack --lisa-option` for Lisa), or a ' +
      "grid's `defenses: {NAME: {knob_in_snake_case: VALUE}}`. A knob keys only the stages its defense acts in.",
  },
  {
    title: 'Training stages',
    entries: {
      align: { description: 'alignment: LoRA SFT (with the defense) on the kept subset', knobs: TRAINING_KNOBS },
      attack: { description: 'harmful fine-tuning on the task data with its harmful share', knobs: ATTACK_KNOBS },
    },
    how:
      "`pharmacist align|attack --<knob-in-kebab-case> VALUE`, or a grid's `align:` / `attack:` sections " +
      '(snake_case keys).',
  },
  {
    title: 'Judges',
    entries: JUDGES,
    how:
      "`--judge NAME --<knob-in-kebab-case> VALUE` on judge, judge-eval, attack and eval; a grid's `eval:` " +
      "section takes every judge's (snake_case: `judge_dir`, `url`, ...); each judge reads its own.",
  },
];

export function knobTables(): string {
  const out = [
    '# Knobs',
    '',
    "Every plug-in's settings, generated from their declarations (`pharmacist knobs > docs/knobs.md`;",
    '`test/knob-tables.test.ts` fails when this file is out of date). Each knob is declared once, beside its',
    'plug-in (src/config/knobs.ts); the CLI flags, the grid schema and these tables are derived from it.',
  ];
  for (const family of FAMILIES) {
    out.push('', `## ${family.title}`, '', family.how);
    for (const [name, entry] of Object.entries(family.entries)) {
      out.push('', `### \`${name}\``, '', `${entry.description}.`, '');
      out.push(entry.knobs && Object.keys(entry.knobs).length > 0 ? knobTable(entry.knobs) : 'No knobs.');
    }
  }
  return out.join('\n') + '\n';
}
