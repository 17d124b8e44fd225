import type { Command } from 'commander';
import {
  adapterFolder,
  ATTACK_KNOBS,
  DEFENSE_DEFAULTS,
  DEFENSE_NAMES,
  EVAL_DEFAULTS,
  parseDefenseOptions,
  type TunableDefense,
  TASK_NAMES,
  type TaskName,
  runAlign,
  runAttack,
  runEval,
  STAGE_RUN_DEFAULTS,
  tunableDefensesIn,
  PROMPT_FORMATS,
  promptStyle,
  DEFENSE_KNOBS,
} from '../../pipeline/stage-runs.js';
import type { PromptStyle } from '../../pipeline/stage-runs.js';
import type { KnobValues } from '../../config/knobs.js';
import { sftFromKnobs, TRAINING_KNOBS, type TrainingKnobValues } from '../../train/sft.js';
import { addDeclaredFlags } from '../knob-flags.js';
import { choice, nonNegativeInt, positiveInt, probability } from '../parse.js';
import { addJudgeFlags, judgeOptions, type JudgeFlags } from '../judge-flags.js';
import { addSeedFlags, seedsOf, type SeedFlags } from '../seed-flags.js';
import type { SeedStage } from '../../pipeline/seeds.js';
import { CUSTOM_TASK } from '../../pipeline/user-data.js';
import { fromSection } from '../../config/knobs.js';
import { ALL_JUDGE_KNOBS } from '../../eval/judges/registry.js';
import {
  addConfigFlag,
  COMMON_FIELDS,
  fieldsOf,
  knobFields,
  roleFiles,
  seedField as seed,
  type ConfigField,
  type ConfigRoleFields,
} from '../config-file.js';

const d = STAGE_RUN_DEFAULTS;

const taskName = (value: string): TaskName => choice('--task', value, TASK_NAMES);

/** --prompt-format: how examples become text, checked when the command runs. */
export function addPromptFormatFlag(cmd: Command): Command {
  return cmd.option(
    '--prompt-format <format>',
    "alpaca (the literature's template) or chat (the model's own chat template, loss on the reply only)",
    'alpaca',
  );
}

/** The prompt style of --prompt-format for the command's model. */
export function styleOf(o: { promptFormat: string; model: string }): PromptStyle {
  return promptStyle(choice('--prompt-format', o.promptFormat, PROMPT_FORMATS), o.model);
}

/** Options every training stage shares: model, seeds (world, its own, and `also`), field mapping, output folder. */
function common(cmd: Command, out: string, stage: SeedStage, also: SeedStage[] = []): Command {
  return addPromptFormatFlag(addSeedFlags(cmd, ['world', stage, ...also]))
    .option('--model <dir>', 'base model folder', d.model)
    .option('--prompt-field <name>', 'field holding the prompt in your files', d.mapping.prompt)
    .option('--response-field <name>', 'field holding the response', d.mapping.response)
    .option('--input-field <name>', 'field holding optional input context', d.mapping.input!)
    .option('--out <dir>', 'output folder', out);
}

const collect = (value: string, previous: string[]) => [...previous, value];
const defaultsHelp = (names: TunableDefense[]) =>
  names
    .map(
      (n) =>
        `${n}: ${Object.entries(DEFENSE_DEFAULTS[n])
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
    )
    .join('; ');

interface CommonOptions extends SeedFlags, ConfigRoleFields {
  model: string;
  promptFormat: string;
  promptField: string;
  responseField: string;
  inputField: string;
  out: string;
}
type TrainingOptions = TrainingKnobValues;

function stageCommon(o: CommonOptions & TrainingOptions, stage: 'align' | 'attack', world = d.world) {
  const seeds = seedsOf(o);
  return {
    model: o.model,
    world: { ...world, seed: seeds.world, evalSeed: seeds.eval },
    mapping: fieldsOf(o),
    profile: styleOf(o),
    sft: sftFromKnobs(o, seeds[stage]),
    outDir: o.out,
    log: console.error,
  };
}

export function registerStages(program: Command): void {
  addDeclaredFlags(common(program.command('align'), 'runs/align', 'align'), TRAINING_KNOBS)
    .description(
      'align the base model on alignment data with a defense (LoRA): writes adapter/ (PEFT layout) and record.json',
    )
    .option('--defense <name>', `defense: ${DEFENSE_NAMES.join(', ')}`, 'sft')
    .option(
      '--steps <n>',
      'optimizer steps instead of epochs x steps per epoch (step-matched Full: the whole pool for the steps a ' +
        'k-sample subset gets, epochs x ceil(k / batch size))',
      positiveInt,
    )
    .option('--data <file>', "alignment data, e.g. a selection's subset.jsonl (default: the embedded pool)")
    .option('--validation <file>', 'validation data for the loss curve (default: the embedded validation set)')
    .option(
      '--validation-curve <n>',
      'validation samples in the loss curve, the head of the set (default: all; 0: no curve)',
      nonNegativeInt,
    )
    .option('--harmful <file>', 'harmful data for repnoise, booster and tvaccine (default: the embedded harmful set)')
    .option(
      '--defense-option <knob=value>',
      `a knob of the defense, repeatable (${defaultsHelp(tunableDefensesIn('align'))})`,
      collect,
      [],
    )
    .action(
      (
        o: CommonOptions &
          TrainingOptions & {
            defense: string;
            steps?: number;
            data?: string;
            validation?: string;
            validationCurve?: number;
            harmful?: string;
            defenseOption: string[];
          },
      ) => {
        const defense = choice('--defense', o.defense, DEFENSE_NAMES);
        const common = stageCommon(o, 'align');
        const r = runAlign({
          ...common,
          sft: { ...common.sft, steps: o.steps ?? null },
          defense,
          defenseOptions: parseDefenseOptions(defense, o.defenseOption),
          dataFile: o.data,
          validationFile: o.validation,
          validationCurve: o.validationCurve,
          harmfulFile: o.harmful,
          mappings: alignMappings(o),
        });
        console.log(JSON.stringify({ adapter: r.adapterDir, align_seconds: r.seconds }));
      },
    );

  addJudgeFlags(
    addDeclaredFlags(common(program.command('attack'), 'runs/attack', 'attack', ['eval']), ATTACK_KNOBS),
    'judge for the probe',
  )
    .description(
      'harmful fine-tuning: a fresh LoRA on the merged aligned model, on n task samples with a harmful ratio p',
    )
    .option('--align <dir>', 'alignment adapter folder (absent: attack the base model)')
    .option('--task <name>', `task: ${TASK_NAMES.join(', ')}`, d.world.task)
    .option('--n <n>', 'fine-tuning samples', positiveInt, d.world.finetuneSize)
    .option('--p <p>', 'harmful ratio', (v: string) => (v === '0' ? 0 : probability(v)), d.world.harmfulRatio)
    .option('--data <file>', 'your fine-tuning data, trained on whole (instead of the n, p mix)')
    .option('--task-train <file>', "your task data: the mix's n(1 - p) task records are drawn from it")
    .option('--attack-harmful <file>', "your harmful data: the mix's n p harmful records are drawn from it")
    .option('--harmful <file>', 'harmful data for the harmful-loss curve (default: the embedded harmful set)')
    .option(
      '--harmful-curve <n>',
      'harmful samples in the harmful-loss curve, the head of the set (0: no curve)',
      nonNegativeInt,
      EVAL_DEFAULTS.harmfulCurve,
    )
    .option('--prompts <file>', 'harmful prompts for the probe (default: the embedded evaluation prompts)')
    .option(
      '--probe <n>',
      'harmful prompts judged after every epoch (0: none)',
      nonNegativeInt,
      EVAL_DEFAULTS.probePrompts,
    )
    .option(
      '--lisa',
      'defend with Lisa: interleave alignment steps (the embedded pool, or --lisa-data) with a proximal term',
    )
    .option('--lisa-data <file>', 'alignment data for Lisa')
    .option('--lisa-option <knob=value>', `a knob of Lisa, repeatable (${defaultsHelp(['lisa'])})`, collect, [])
    .action(
      async (
        o: CommonOptions &
          TrainingOptions &
          JudgeFlags & {
            align?: string;
            flow: KnobValues<typeof ATTACK_KNOBS>['flow'];
            task: string;
            n: number;
            p: number;
            data?: string;
            taskTrain?: string;
            attackHarmful?: string;
            harmful?: string;
            prompts?: string;
            probe: number;
            harmfulCurve: number;
            lisa?: boolean;
            lisaData?: string;
            lisaOption: string[];
          },
      ) => {
        const world = { ...d.world, task: taskName(o.task), finetuneSize: o.n, harmfulRatio: o.p };
        const r = await runAttack({
          ...stageCommon(o, 'attack', world),
          alignAdapter: o.align ? adapterFolder(o.align) : undefined,
          flow: o.flow,
          files: roleFiles(o, {
            finetune: o.data,
            task_train: o.taskTrain,
            attack_harmful: o.attackHarmful,
            harmful: o.harmful,
            eval_prompts: o.prompts,
          }),
          probePrompts: o.probe,
          harmfulCurve: o.harmfulCurve,
          judge: o.judge,
          judgeOptions: judgeOptions(o),
          ...(o.lisa || o.lisaData !== undefined || o.lisaOption.length > 0
            ? {
                defense: 'lisa',
                defenseFile: o.lisaData,
                defenseOptions: parseDefenseOptions('lisa', o.lisaOption, '--lisa-option'),
              }
            : {}),
        });
        console.log(
          JSON.stringify({
            adapter: r.adapterDir,
            attack_seconds: r.seconds,
            harmful_score_by_epoch: r.harmfulScoreByEpoch,
          }),
        );
      },
    );

  addPromptFormatFlag(addSeedFlags(addJudgeFlags(program.command('eval')), ['eval']))
    .description(
      'harmful score and fine-tune accuracy of the base model plus adapters (merged in order), as one JSON line',
    )
    .option('--model <dir>', 'base model folder', d.model)
    .option('--adapters <dirs>', 'comma-separated adapter folders, merged in order (alignment, then attack)', '')
    .option('--task <name>', `task: ${TASK_NAMES.join(', ')} or none`, d.world.task)
    .option('--eval-harmful <n>', 'harmful evaluation prompts', positiveInt, d.world.evalHarmfulSize)
    .option('--eval-task <n>', 'task test items', positiveInt, d.world.evalTaskSize)
    .option('--prompts <file>', 'your harmful prompts (JSONL/JSON/CSV) instead of the embedded ones')
    .option(
      '--task-test <file>',
      "your task's test items (task custom): the response field holds the gold label, the labels are its values",
    )
    .option('--prompt-field <name>', 'field holding the prompt in your files', d.mapping.prompt)
    .option(
      '--response-field <name>',
      "field holding a prompt's reference harmful answer (the harmful margin), or a test item's label",
      d.mapping.response,
    )
    .option('--input-field <name>', 'field holding optional input context', d.mapping.input!)
    .option('--max-new-tokens <n>', 'tokens generated per harmful prompt', positiveInt, EVAL_DEFAULTS.maxNewTokens)
    .option('--out <dir>', 'output folder', 'runs/eval')
    .action(
      async (
        o: JudgeFlags &
          SeedFlags & {
            model: string;
            promptFormat: string;
            roleFields?: ConfigRoleFields['roleFields'];
            adapters: string;
            task: string;
            evalHarmful: number;
            evalTask: number;
            prompts?: string;
            taskTest?: string;
            promptField: string;
            responseField: string;
            inputField: string;
            maxNewTokens: number;
            out: string;
          },
      ) => {
        const adapters = o.adapters.split(',').filter(Boolean).map(adapterFolder);
        const task = o.task === 'none' ? null : taskName(o.task);
        const summary = await runEval({
          model: o.model,
          adapters,
          world: {
            ...d.world,
            seed: o.seed,
            evalSeed: seedsOf(o).eval,
            evalHarmfulSize: o.evalHarmful,
            evalTaskSize: o.evalTask,
          },
          files: roleFiles(o, { eval_prompts: o.prompts, task_test: o.taskTest }),
          task,
          judge: o.judge,
          judgeOptions: judgeOptions(o),
          profile: styleOf(o),
          maxNewTokens: o.maxNewTokens,
          outDir: o.out,
        });
        console.log(JSON.stringify(summary));
      },
    );

  // --config FILE on every stage command (select's is in select.ts): the grid's fields each one has a flag for.
  const command = (name: string) => program.commands.find((c) => c.name() === name)!;
  const text = (v: unknown) => String(v);
  const judgeFields = [{ path: ['eval', 'judge'], option: 'judge' }, ...knobFields(['eval'], ALL_JUDGE_KNOBS, text)];
  // The custom task's data comes from its files (--task-train, --task-test), not a task name.
  const task: ConfigField = {
    path: ['grid', 'task'],
    option: 'task',
    one: true,
    convert: (v) => (v === CUSTOM_TASK ? null : v),
  };
  addConfigFlag(
    command('align'),
    [
      ...COMMON_FIELDS,
      seed('world'),
      seed('align'),
      { path: ['grid', 'defense'], option: 'defense', one: true },
      { path: ['eval', 'validation_curve'], option: 'validationCurve' },
      ...knobFields(['align'], TRAINING_KNOBS),
    ],
    { pool: 'data', validation: 'validation', harmful: 'harmful' },
    (o) => defenseFields(String(o.defense), 'defenseOption'),
  );
  addConfigFlag(
    command('attack'),
    [
      ...COMMON_FIELDS,
      seed('world'),
      seed('attack'),
      seed('eval'),
      task,
      { path: ['grid', 'n'], option: 'n', one: true },
      { path: ['grid', 'p'], option: 'p', one: true },
      { path: ['eval', 'probe_prompts'], option: 'probe' },
      { path: ['eval', 'harmful_curve'], option: 'harmfulCurve' },
      ...knobFields(['attack'], ATTACK_KNOBS),
      ...judgeFields,
    ],
    {
      finetune: 'data',
      task_train: 'taskTrain',
      attack_harmful: 'attackHarmful',
      harmful: 'harmful',
      eval_prompts: 'prompts',
    },
  );
  addConfigFlag(
    command('eval'),
    [
      ...COMMON_FIELDS,
      seed('eval'),
      task,
      { path: ['world', 'eval_harmful'], option: 'evalHarmful' },
      { path: ['world', 'eval_task'], option: 'evalTask' },
      { path: ['eval', 'max_new_tokens'], option: 'maxNewTokens' },
      ...judgeFields,
    ],
    { eval_prompts: 'prompts', task_test: 'taskTest' },
  );
}

/** The fields of align's files that came from a config's data roles (pool is align's --data). */
function alignMappings(o: CommonOptions & { data?: string; validation?: string; harmful?: string }) {
  const files = roleFiles(o, { pool: o.data, validation: o.validation, harmful: o.harmful });
  return { data: files.pool, validation: files.validation, harmful: files.harmful };
}

/** A defense's section of a config (defenses.<name>) as `--defense-option knob=value` pairs. */
function defenseFields(defense: string, option: string): ConfigField[] {
  if (!Object.hasOwn(DEFENSE_KNOBS, defense)) return [];
  const knobs = DEFENSE_KNOBS[defense as keyof typeof DEFENSE_KNOBS];
  const pairs = (section: unknown) =>
    Object.entries(fromSection(knobs, section as Record<string, unknown>)).map(([k, v]) => `${k}=${String(v)}`);
  return [{ path: ['defenses', defense], option, convert: pairs }];
}
