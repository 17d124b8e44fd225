import type { Command } from 'commander';
import { runSelect, SELECT_DEFAULTS, SELECTOR_NAMES, VALIDATION_RULES, WORLD_DEFAULTS } from '../../pipeline/select.js';
import { SELECTOR_KNOBS } from '../../select/registry.js';
import { DEFAULT_RATIO } from '../../select/selector.js';
import { addKnobFlags, knobOverrides } from '../knob-flags.js';
import { addSeedFlags, seedsOf, type SeedFlags } from '../seed-flags.js';
import { choice, positiveInt, probability } from '../parse.js';
import { addPromptFormatFlag, styleOf } from './stages.js';
import {
  addConfigFlag,
  COMMON_FIELDS,
  fieldsOf,
  knobFields,
  roleFiles,
  seedField,
  type ConfigRoleFields,
} from '../config-file.js';

interface SelectOptions extends SeedFlags, ConfigRoleFields {
  method: string;
  ratio?: number;
  count?: number;
  model: string;
  promptFormat: string;
  pool?: string;
  validation?: string;
  harmful?: string;
  promptField: string;
  responseField: string;
  inputField: string;
  plantCorrupted: number;
  plantMismatched: number;
  plantBenign: number;
  out: string;
  maxLength: number;
  poolSize: number;
  validationRule: string;
}

const fraction = (v: string) => (v === '0' ? 0 : probability(v));

export function registerSelect(program: Command): void {
  const d = SELECT_DEFAULTS;
  const command = addPromptFormatFlag(addSeedFlags(program.command('select'), ['world', 'select']))
    .description('rank the alignment pool and keep the top k: writes ranking.jsonl, subset.jsonl and manifest.json')
    .option('--method <name>', `selector: ${SELECTOR_NAMES.join(', ')}`, d.method)
    .option('--ratio <r>', `keep this fraction of the pool (default ${DEFAULT_RATIO})`, probability)
    .option('--count <k>', 'keep exactly k samples', positiveInt)
    .option('--model <dir>', 'base model for model-based selectors', d.model)
    .option('--pool <file>', 'your alignment pool (JSONL/JSON/CSV/TSV; default: the embedded world)')
    .option('--validation <file>', 'your validation set (default: the embedded world)')
    .option('--harmful <file>', 'your harmful set (default: the embedded world)')
    .option('--prompt-field <name>', 'field holding the prompt in your files', d.mapping.prompt)
    .option('--response-field <name>', 'field holding the response', d.mapping.response)
    .option('--input-field <name>', 'field holding optional input context', d.mapping.input!)
    .option('--pool-size <n>', 'embedded pool size', positiveInt, WORLD_DEFAULTS.poolSize)
    .option(
      '--validation-rule <rule>',
      `embedded validation set: ${VALIDATION_RULES.join(' or ')} (src/data/world.ts)`,
      WORLD_DEFAULTS.validation,
    )
    .option('--plant-corrupted <f>', 'embedded pool: fraction replaced by word-shuffled answers', fraction, 0)
    .option('--plant-mismatched <f>', 'embedded pool: fraction replaced by answers to other prompts', fraction, 0)
    .option('--plant-benign <f>', 'embedded pool: fraction replaced by benign Alpaca Q&A', fraction, 0)
    .option('--max-length <n>', 'truncation in tokens', positiveInt, d.maxLength)
    .option('--out <dir>', 'output folder', d.outDir);
  // The selectors' own knobs (docs/knobs.md): one typed flag each, checked against the chosen method's declaration.
  addKnobFlags(command, SELECTOR_KNOBS).action(async (o: SelectOptions) => {
    const seeds = seedsOf(o);
    await runSelect({
      ...d,
      method: o.method,
      ratio: o.ratio,
      count: o.count,
      model: o.model,
      profile: styleOf(o),
      poolFile: o.pool,
      validationFile: o.validation,
      harmfulFile: o.harmful,
      mapping: fieldsOf(o),
      mappings: roleFiles(o, { pool: o.pool, validation: o.validation, harmful: o.harmful }),
      plant: { corrupted: o.plantCorrupted, mismatched: o.plantMismatched, benign: o.plantBenign },
      seed: seeds.select,
      outDir: o.out,
      maxLength: o.maxLength,
      world: {
        poolSize: o.poolSize,
        seed: seeds.world,
        validation: choice('--validation-rule', o.validationRule, VALIDATION_RULES),
      },
      options: { [o.method]: knobOverrides(o as unknown as Record<string, unknown>, o.method, SELECTOR_KNOBS) },
    });
  });
  // --config FILE: the grid's fields select has a flag for, and the chosen selector's section (select.<method>).
  const one = (path: string[], option: string) => ({ path, option, one: true });
  addConfigFlag(
    command,
    [
      ...COMMON_FIELDS,
      seedField('world'),
      seedField('select'),
      one(['grid', 'selector'], 'method'),
      one(['grid', 'ratio'], 'ratio'),
      { path: ['world', 'pool_size'], option: 'poolSize' },
      { path: ['world', 'validation'], option: 'validationRule' },
      { path: ['world', 'plant', 'corrupted'], option: 'plantCorrupted' },
      { path: ['world', 'plant', 'mismatched'], option: 'plantMismatched' },
      { path: ['world', 'plant', 'benign'], option: 'plantBenign' },
      { path: ['select', 'max_length'], option: 'maxLength' },
    ],
    { pool: 'pool', validation: 'validation', harmful: 'harmful' },
    (o) => {
      const method = String(o.method);
      return Object.hasOwn(SELECTOR_KNOBS, method)
        ? knobFields(['select', method], SELECTOR_KNOBS[method as keyof typeof SELECTOR_KNOBS], String)
        : [];
    },
  );
}
