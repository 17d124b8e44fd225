import type { Command } from 'commander';
import { runSelect, SELECT_DEFAULTS, SELECTOR_NAMES, VALIDATION_RULES, WORLD_DEFAULTS } from '../../pipeline/select.js';
import { PHARMACIST_DEFAULTS } from '../../select/pharmacist.js';
import { PHARMACIST_SELECTOR_DEFAULTS } from '../../select/pharmacist-selector.js';
import { addSeedFlags, seedsOf, type SeedFlags } from '../seed-flags.js';
import { choice, nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, probability } from '../parse.js';

interface SelectOptions extends SeedFlags {
  method: string;
  ratio?: number;
  count?: number;
  model: string;
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
  epochs: number;
  safety: string;
  lambda: number;
  alpha: number;
  innerLr: number;
  selectorLr: number;
  batchSize: number;
  evalBatchSize: number;
  warmupEpochs: number;
  warmupLr: number;
  upperEvery: number;
  weightForm: string;
}

const fraction = (v: string) => (v === '0' ? 0 : probability(v));

export function registerSelect(program: Command): void {
  const d = SELECT_DEFAULTS;
  const p = PHARMACIST_DEFAULTS,
    ps = PHARMACIST_SELECTOR_DEFAULTS;
  addSeedFlags(program.command('select'), ['world', 'select'])
    .description('rank the alignment pool and keep the top k: writes ranking.jsonl, subset.jsonl and manifest.json')
    .option('--method <name>', `selector: ${SELECTOR_NAMES.join(', ')}`, d.method)
    .option('--ratio <r>', 'keep this fraction of the pool (default 0.4)', probability)
    .option('--count <k>', 'keep exactly k samples', positiveInt)
    .option('--model <dir>', 'base model for model-based selectors', d.model)
    .option('--pool <file>', 'your alignment pool (JSONL/JSON/CSV/TSV; default: the embedded world)')
    .option('--validation <file>', 'your validation set (default: the embedded world)')
    .option('--harmful <file>', 'your harmful set (default: the embedded world)')
    .option('--prompt-field <name>', 'field holding the prompt in your files', d.mapping.prompt)
    .option('--response-field <name>', 'field holding the response', d.mapping.response)
    .option('--input-field <name>', 'field holding optional input context', d.mapping.input!)
    .option('--pool-size <n>', 'embedded pool size', positiveInt, 2000)
    .option(
      '--validation-rule <rule>',
      `embedded validation set: ${VALIDATION_RULES.join(' or ')} (src/data/world.ts)`,
      WORLD_DEFAULTS.validation,
    )
    .option('--plant-corrupted <f>', 'embedded pool: fraction replaced by word-shuffled answers', fraction, 0)
    .option('--plant-mismatched <f>', 'embedded pool: fraction replaced by answers to other prompts', fraction, 0)
    .option('--plant-benign <f>', 'embedded pool: fraction replaced by benign Alpaca Q&A', fraction, 0)
    .option('--max-length <n>', 'truncation in tokens', positiveInt, d.maxLength)
    .option('--epochs <n>', 'pharmacist: passes over the pool', positiveInt, p.epochs)
    .option('--safety <term>', 'pharmacist: safety-critical term S: simulated, plain or none', p.safety)
    .option('--lambda <x>', 'pharmacist: weight of S', nonNegativeNumber, p.lambda)
    .option('--alpha <x>', 'pharmacist: norm of the simulated harmful step', nonNegativeNumber, p.alpha)
    .option('--inner-lr <x>', 'pharmacist: lower-level SGD learning rate', positiveNumber, p.innerLr)
    .option('--selector-lr <x>', 'pharmacist: Adam learning rate on the logits', positiveNumber, p.selectorLr)
    .option('--batch-size <n>', 'pharmacist: pool samples per lower step', positiveInt, p.batchSize)
    .option(
      '--eval-batch-size <n>',
      'pharmacist: validation / harmful samples per upper gradient',
      positiveInt,
      p.evalBatchSize,
    )
    .option('--upper-every <n>', 'pharmacist: recompute grad F every n steps', positiveInt, p.upperEvery)
    .option('--weight-form <form>', 'pharmacist: softmax or sigmoid weights', p.weightForm)
    .option(
      '--warmup-epochs <n>',
      'pharmacist: epochs of SFT on the pool before the bilevel pass',
      nonNegativeInt,
      ps.warmupEpochs,
    )
    .option('--warmup-lr <x>', 'pharmacist: warm-up learning rate', positiveNumber, ps.warmupLr)
    .option('--out <dir>', 'output folder', d.outDir)
    .action(async (o: SelectOptions) => {
      const seeds = seedsOf(o);
      await runSelect({
        ...d,
        method: o.method,
        ratio: o.ratio,
        count: o.count,
        model: o.model,
        poolFile: o.pool,
        validationFile: o.validation,
        harmfulFile: o.harmful,
        mapping: { prompt: o.promptField, response: o.responseField, input: o.inputField },
        plant: { corrupted: o.plantCorrupted, mismatched: o.plantMismatched, benign: o.plantBenign },
        seed: seeds.select,
        outDir: o.out,
        maxLength: o.maxLength,
        world: {
          poolSize: o.poolSize,
          seed: seeds.world,
          validation: choice('--validation-rule', o.validationRule, VALIDATION_RULES),
        },
        pharmacist: {
          epochs: o.epochs,
          safety: choice('--safety', o.safety, ['simulated', 'plain', 'none'] as const),
          lambda: o.lambda,
          alpha: o.alpha,
          innerLr: o.innerLr,
          selectorLr: o.selectorLr,
          batchSize: o.batchSize,
          evalBatchSize: o.evalBatchSize,
          upperEvery: o.upperEvery,
          weightForm: choice('--weight-form', o.weightForm, ['softmax', 'sigmoid'] as const),
          warmupEpochs: o.warmupEpochs,
          warmupLr: o.warmupLr,
        },
      });
    });
}
