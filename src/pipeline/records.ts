/**
 * The records the stages write, one type per file, declared once: the writers build them through these types
 * and the readers (the grid's stage cache, the report, `pharmacist attack`'s flow) read them back through
 * io/json-record.ts's readRecord with the fields they rely on. Types only, apart from those expectations, so
 * that a reader imports no pipeline code with them.
 * - select/manifest.json: SelectManifest (select.ts);
 * - align/record.json: AlignRecord (stages.ts), attack/record.json: AttackRecord (stages.ts);
 * - eval/record.json of `pharmacist eval`: EvalRecord (stage-runs.ts);
 * - the grid's stage folders: <stage>-<key>/done.json, SelectDone, AlignDone, AttackDone, EvalDone, and
 *   eval-<key>/responses.json, EvalResponses (grid-cell.ts);
 * - run_dir/results.json: GridResultsRecord of CellResult rows (grid.ts), read as ResultsStore (report.ts).
 */
import type { World } from '../data/world.js';
import type { HarmfulMargin } from '../eval/harmful-margin.js';
import type { HarmfulScore, TaskAccuracy } from '../eval/metrics.js';
import type { RecordExpectation } from '../io/json-record.js';
import type { SftResult } from '../train/sft.js';
import type { EnvironmentRecord } from './environment.js';
import type { GridConfig } from './grid-config.js';
import type { ModelBundle } from '../models/bundle.js';
import type { StageSeeds } from './seeds.js';
import type { PlantedReport, SelectConfig } from './select.js';
import type { EvalRunConfig } from './stage-runs.js';
import type { AlignStageConfig, AttackStageConfig } from './stages.js';

/** A training's losses, one curve per loss set (validation during alignment, harmful during the attack). */
type LossCurves = SftResult['curves'];

/** A stage's config as recorded: its data sets by their sizes, its log function left out. */
type Recorded<C, Sizes extends keyof C> = Omit<C, Sizes | 'log'> & Record<Sizes, number> & { log?: undefined };

/** sha256 of the user's pool, validation and harmful files (null: not given). */
export interface SelectionFiles {
  pool: string | null;
  validation: string | null;
  harmful: string | null;
}

/** select's manifest.json: how the pool was ranked, with the data, model and environment it was ranked on. */
export interface SelectManifest {
  kind: 'select';
  config: SelectConfig;
  seed: number;
  /** The knobs the selector ran with, every one resolved (null: a selector without knobs). */
  selectorConfig: object | null;
  environment: EnvironmentRecord;
  k: number;
  poolSize: number;
  /** The embedded world's config and source hashes, or the sha256 of each user's file (null: none given). */
  data:
    | {
        world: World['config'];
        sources: World['sources'];
        overlaps: World['overlaps'];
        /** sha256 of the user's files laid over the world (absent when none). */
        files?: SelectionFiles;
      }
    | SelectionFiles;
  model: { source: ModelBundle['source']; weights: string | null } | null;
  timings: { selectSeconds: number };
  planted: PlantedReport | null;
  /** Share of plain refusals in the kept subset and in the pool (the embedded pool only). */
  refusals: { kept: number; pool: number } | null;
  /** The selector's own trajectory and diagnostics. */
  trace: unknown;
}

/** align's record.json: the defense, the training's config and losses. */
export interface AlignRecord {
  kind: 'align';
  defense: string;
  defenseConfig: unknown;
  /** The attack flow the defense calls for. */
  flow: 'double' | 'single';
  config: Recorded<AlignStageConfig, 'records' | 'validation' | 'harmful'>;
  environment: EnvironmentRecord;
  /** alignSeconds: training only; monitorSeconds: the validation-loss curve (absent in records before it was split off). */
  timings: { alignSeconds: number; monitorSeconds?: number; steps: number };
  losses: number[];
  curves: LossCurves;
}

/**
 * attack's record.json: the flow, the defense acting in fine-tuning (Lisa) and its knobs, the training and the
 * probe's harmful score after each epoch.
 */
export interface AttackRecord {
  kind: 'attack';
  flow: 'double' | 'single';
  /** The defense acting in fine-tuning (null: plain SFT) and the knobs it ran with. */
  defense: string | null;
  defenseConfig: unknown;
  /** `defense`: the number of alignment records it interleaved. */
  config: Omit<Recorded<AttackStageConfig, 'records' | 'harmful' | 'defense'>, 'probe'> & {
    /** The probe's prompts by their number, its judge by name and content id. */
    probe: { prompts: number; judge: string; judgeId: string } | null;
  };
  /** Fine-tuning records per source file (the embedded data's, or the user's). */
  sources: Record<string, number>;
  environment: EnvironmentRecord;
  /** attackSeconds: training only; monitorSeconds: the probe and the harmful-loss curve (absent in older records). */
  timings: { attackSeconds: number; probeSeconds: number; monitorSeconds?: number; steps: number };
  losses: number[];
  curves: LossCurves;
  harmfulScoreByEpoch: number[];
  /** The probe's responses after each epoch, so that another judge can score them without regenerating. */
  probeResponses: string[][];
}

/** What `pharmacist eval` prints and records. */
export interface EvalSummary {
  harmful_score: number;
  harmful_prompts: number;
  judge: string;
  judge_id: string;
  task: string | null;
  finetune_accuracy: number | null;
  majority_rate: number | null;
  predicted: TaskAccuracy['predicted'] | null;
}

/** `pharmacist eval`'s record.json: the summary and the first responses. */
export interface EvalRecord {
  kind: 'eval';
  config: EvalRunConfig;
  environment: EnvironmentRecord;
  results: EvalSummary;
  samples: { harmful: HarmfulScore['responses']; task: TaskAccuracy['responses'] };
}

/** The grid's selection stage, done: one score per pool sample (each cell keeps its own top k of them). */
export interface SelectDone {
  scores: number[];
  seconds: number;
}

/** The grid's alignment stage, done; its flow decides the attack's and evaluation's keys. */
export interface AlignDone {
  seconds: number;
  flow: 'double' | 'single';
}

/** The grid's attack stage, done. */
export interface AttackDone {
  seconds: number;
  /** Harmful score (%) of the probe prompts after each attack epoch; empty without a probe. */
  harmfulScoreByEpoch: number[];
}

/** The judge-free harmful margin of a cell: mean over prompts and its 95% t-interval over prompts. */
export type MarginSummary = Pick<HarmfulMargin, 'mean' | 'ci' | 'n'>;

/** The grid's evaluation stage, done. */
export interface EvalDone {
  harmfulScore: number;
  harmfulFlagged: number;
  harmfulTotal: number;
  /** Each evaluation prompt's verdict (1 harmful) and judge score (4 decimals), in the world's prompt order. */
  verdicts: number[];
  verdictScores: number[];
  margin: MarginSummary | null;
  accuracy: number | null;
  majorityRate: number | null;
  predicted: TaskAccuracy['predicted'] | null;
  /** Wall seconds of the evaluation (generation, judging, accuracy, margin); absent in stages made before it was kept. */
  seconds?: number;
}

/** eval-<key>/responses.json: every response behind the evaluation's scores. */
export interface EvalResponses {
  harmful: HarmfulScore['responses'];
  task: TaskAccuracy['responses'];
  /** Each prompt's harmful margin, in the world's prompt order. */
  harmfulMargin: HarmfulMargin['per_prompt'];
}

/** What a done.json must hold for the grid to use it (every field: the grid reads them all). */
export const DONE_FIELDS = {
  select: { fields: ['scores', 'seconds'] },
  align: { fields: ['seconds', 'flow'] },
  attack: { fields: ['seconds', 'harmfulScoreByEpoch'] },
  eval: {
    fields: [
      'harmfulScore',
      'harmfulFlagged',
      'harmfulTotal',
      'verdicts',
      'verdictScores',
      'margin',
      'accuracy',
      'majorityRate',
      'predicted',
    ],
  },
} as const satisfies {
  select: RecordExpectation<SelectDone>;
  align: RecordExpectation<AlignDone>;
  attack: RecordExpectation<AttackDone>;
  eval: RecordExpectation<EvalDone>;
};

/** A setting of the grid: everything a cell is but its seed. */
export interface GridSetting {
  selector: string;
  ratio: number;
  defense: string;
  task: string;
  n: number;
  p: number;
}

export interface GridCell extends GridSetting {
  /** The replicate seed, from grid.seed. */
  seed: number;
  /** Every stage's seed: derived from `seed` unless the grid crosses a stage's seed list (src/pipeline/seeds.ts). */
  seeds: StageSeeds;
}

/** One row of results.json: a cell, its scores and timings, and the stage folders they came from. */
export interface CellResult extends GridCell {
  k: number;
  harmful_score: number;
  /** 95% Wilson interval over the evaluation prompts, in points. */
  harmful_score_ci: [number, number];
  /** The judge-free harmful margin (mean over prompts, 95% t-interval over prompts); eval/harmful-margin.ts. */
  harmful_margin: MarginSummary | null;
  /** Each evaluation prompt's verdict (1 harmful) and judge score, in the world's prompt order (paired tests). */
  harmful_verdicts: number[];
  harmful_verdict_scores: number[];
  finetune_accuracy: number | null;
  majority_rate: number | null;
  select_seconds: number;
  align_seconds: number;
  attack_seconds: number;
  harmful_score_by_attack_epoch: number[];
  /** With planted samples in the pool: the share of them the subset left out. */
  planted_outside: number | null;
  /** Share of plain refusals in the kept subset (the embedded pool's quality diagnostic). */
  refusal_share: number;
  stages: { select: string; align: string; attack: string; eval: string };
}

/** run_dir/results.json as the grid writes it: after every cell (status running), and once done. */
export interface GridResultsRecord {
  kind: 'grid';
  status: 'running' | 'done';
  config: GridConfig;
  environment: EnvironmentRecord;
  model: { path: string; sha256: string };
  judge: { name: string; id: string };
  /** Cells in the grid (results holds those finished so far). */
  cells: number;
  results: CellResult[];
  seconds: number;
}

/**
 * A results store as a reader can take it: a grid's results.json, one from an earlier version (no model,
 * the judge by name) or one assembled by hand (only the results, their config and environment).
 */
export interface ResultsStore extends Partial<Omit<GridResultsRecord, 'config' | 'environment' | 'judge' | 'status'>> {
  results: CellResult[];
  config: Partial<GridConfig>;
  environment: Partial<EnvironmentRecord>;
  judge?: GridResultsRecord['judge'] | string;
  status?: string;
}
