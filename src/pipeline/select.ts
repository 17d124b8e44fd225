/**
 * `pharmacist select`: rank an alignment pool with a selector and keep the top k. Writes, atomically,
 * ranking.jsonl ({id, score, rank} per pool sample, rank 1 = best), subset.jsonl (the kept records in the
 * input's own format) and manifest.json (config, seed, data hashes, versions, timings, the selector's trace).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  asInstruction,
  DEFAULT_FIELD_MAPPING,
  loadUserRecords,
  type FieldMapping,
  type QaRecord,
} from '../data/datasets.js';
import { DEFAULT_PROMPT_PROFILE, type PromptStyle } from '../data/prompt-format.js';
import { SFT_DEFAULTS } from '../train/sft.js';
import { buildWorld, looksLikeRefusal, VALIDATION_RULES, WORLD_DEFAULTS, type WorldConfig } from '../data/world.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { sha256Files } from '../io/hash.js';
import { modelWeightFiles } from '../io/safetensors.js';
import { createSelector, SELECTOR_NAMES, type SelectorOptions } from '../select/registry.js';
import { subsetSize, topK } from '../select/selector.js';
import { describeEnvironment } from './environment.js';
import { loadModelBundle } from '../models/bundle.js';
import type { SelectManifest } from './records.js';
import { embeddedModelDir } from '../io/package-paths.js';

export { SELECTOR_NAMES, VALIDATION_RULES, WORLD_DEFAULTS };

export interface SelectConfig {
  method: string;
  /** Keep this fraction of the pool (default DEFAULT_RATIO, 0.4) ... */
  ratio?: number;
  /** ... or exactly this many samples. */
  count?: number;
  /** Base model folder for model-based selectors. Default: the embedded model. */
  model: string;
  /** Users' files (default: the embedded world's pool, validation and harmful sets for `seed`). */
  poolFile?: string;
  validationFile?: string;
  harmfulFile?: string;
  mapping: FieldMapping;
  /** A file's own fields, where they differ from `mapping` (a grid's data roles). */
  mappings?: SelectMappings;
  /** Planted samples in the embedded pool (fractions), for scoring a selector against known labels. */
  plant?: { corrupted: number; mismatched: number; benign: number };
  /** Other settings of the embedded world (sizes, task, seeds); its seed defaults to `seed`. */
  world?: Partial<WorldConfig>;
  profile: PromptStyle;
  maxLength: number;
  /** The selector's seed (and the world's, unless world.seed is set). */
  seed: number;
  outDir: string;
  /** Overrides of the selectors' knobs, per selector (src/select/registry.ts; only the method's are read). */
  options?: SelectorOptions;
}

export type SelectMappings = Partial<Record<'pool' | 'validation' | 'harmful', FieldMapping>>;

export const SELECT_DEFAULTS: SelectConfig = {
  method: 'pharmacist',
  model: embeddedModelDir(),
  mapping: DEFAULT_FIELD_MAPPING,
  profile: DEFAULT_PROMPT_PROFILE,
  maxLength: SFT_DEFAULTS.maxLength,
  seed: 0,
  outDir: 'runs/select',
};

export interface SelectResult {
  scores: number[];
  kept: number[];
  seconds: number;
  pool: (QaRecord & { kind?: string })[];
  planted: PlantedReport | null;
}

export async function runSelect(
  config: SelectConfig,
  log: (line: string) => void = console.error,
): Promise<SelectResult> {
  const t0 = performance.now();
  const world =
    !config.poolFile || !config.validationFile || !config.harmfulFile
      ? buildWorld({
          ...WORLD_DEFAULTS,
          seed: config.seed,
          ...config.world,
          plant: config.plant ?? config.world?.plant ?? WORLD_DEFAULTS.plant,
        })
      : null;
  const load = (file: string | undefined, fallback: QaRecord[] | undefined, role: keyof SelectMappings) =>
    file ? loadUserRecords(file, config.mappings?.[role] ?? config.mapping).records : fallback!;
  const pool: (QaRecord & { kind?: string })[] = load(config.poolFile, world?.pool, 'pool');
  const validation = load(config.validationFile, world?.validation, 'validation');
  const harmful = load(config.harmfulFile, world?.harmful, 'harmful');
  const selector = createSelector(config.method, config.options);
  const bundle = selector.needsModel ? loadModelBundle(config.model) : null;
  const tokenizer = bundle?.tokenizer;
  log(
    `selecting with ${selector.name} from ${pool.length} samples (validation ${validation.length}, harmful ${harmful.length})`,
  );
  const ranking = await selector.select({
    pool: pool.map(asInstruction),
    validation: validation.map(asInstruction),
    harmful: harmful.map(asInstruction),
    model: bundle?.model,
    tokenizer,
    eosTokenId: bundle?.eosTokenIds[0],
    padTokenId: bundle?.padTokenId,
    profile: config.profile,
    maxLength: config.maxLength,
    seed: config.seed,
    log,
  });
  const k = subsetSize(pool.length, { ratio: config.ratio, count: config.count });
  const seconds = (performance.now() - t0) / 1000;
  const { kept, planted, refusals: shares } = summarizeSelection(pool, ranking.scores, k);
  // Refusal shares are a diagnostic of the embedded pool; users' data has no such expectation.
  const refusals = world ? shares : null;
  if (refusals && k < pool.length)
    log(
      `refusals: ${(100 * refusals.kept).toFixed(1)}% of the kept samples, ${(100 * refusals.pool).toFixed(1)}% of the pool`,
    );
  if (planted)
    log(
      `planted samples outside the top ${k}: ${planted.outside} of ${planted.planted} ` +
        `(${(100 * planted.outsideShare).toFixed(1)}%); kept by kind ${JSON.stringify(planted.keptByKind)}`,
    );
  const rankOf = new Map(topK(ranking.scores, pool.length).map((idx, r) => [idx, r + 1]));
  const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  writeFileAtomic(
    join(config.outDir, 'ranking.jsonl'),
    jsonl(
      pool.map((r, i) => ({
        id: i,
        score: ranking.scores[i],
        rank: rankOf.get(i),
        ...(r.kind ? { kind: r.kind } : {}),
      })),
    ),
  );
  writeFileAtomic(
    join(config.outDir, 'subset.jsonl'),
    jsonl(
      [...kept]
        .sort((a, b) => a - b)
        .map((i) => pool[i].raw ?? { instruction: pool[i].prompt, input: pool[i].input, output: pool[i].response }),
    ),
  );
  const hash = (f?: string) => (f && existsSync(f) ? sha256Files(f) : null);
  const files = {
    pool: hash(config.poolFile),
    validation: hash(config.validationFile),
    harmful: hash(config.harmfulFile),
  };
  const manifest: SelectManifest = {
    kind: 'select',
    config,
    seed: config.seed,
    selectorConfig: selector.config ?? null,
    environment: describeEnvironment(),
    k,
    poolSize: pool.length,
    data: world
      ? {
          world: world.config,
          sources: world.sources,
          overlaps: world.overlaps,
          // The user's files laid over the world (a grid's data roles), when there are some.
          ...(config.poolFile || config.validationFile || config.harmfulFile ? { files } : {}),
        }
      : files,
    model: bundle ? { source: bundle.source, weights: sha256Files(...modelWeightFiles(config.model)) } : null,
    timings: { selectSeconds: seconds },
    planted,
    refusals,
    trace: ranking.trace ?? null,
  };
  writeJsonAtomic(join(config.outDir, 'manifest.json'), manifest);
  log(
    `kept ${k} of ${pool.length} in ${seconds.toFixed(1)}s; wrote ${config.outDir}/ranking.jsonl, subset.jsonl, manifest.json`,
  );
  return { scores: ranking.scores, kept, seconds, pool, planted };
}

/** What a selection keeps of a pool (its top k), the planted samples it leaves out and the refusals it keeps. */
export interface SelectionSummary {
  kept: number[];
  planted: PlantedReport | null;
  /** Share of plain refusals among the kept samples and in the whole pool. */
  refusals: { kept: number; pool: number };
}

/** The top k of a ranking and what it keeps: one computation for `pharmacist select` and the grid's cells. */
export function summarizeSelection(
  pool: readonly (QaRecord & { kind?: string })[],
  scores: readonly number[],
  k: number,
): SelectionSummary {
  const kept = topK(scores, k);
  const refusals = {
    kept: refusalShare(pool, kept),
    pool: refusalShare(
      pool,
      pool.map((_, i) => i),
    ),
  };
  return { kept, planted: plantedReport(pool, kept), refusals };
}

export function refusalShare(pool: readonly (QaRecord & { kind?: string })[], idx: readonly number[]): number {
  return (
    idx.filter((i) => (pool[i].kind ?? 'natural') === 'natural' && looksLikeRefusal(pool[i].response)).length /
    Math.max(1, idx.length)
  );
}

export interface PlantedReport {
  /** Planted (non-natural) samples in the pool, and how many of them the subset left out. */
  planted: number;
  outside: number;
  outsideShare: number;
  /** Kept samples per kind, next to the pool's counts. */
  keptByKind: Record<string, number>;
  poolByKind: Record<string, number>;
}

/** How a selection treated the planted samples of the embedded pool (null when nothing was planted). */
export function plantedReport(pool: readonly { kind?: string }[], kept: readonly number[]): PlantedReport | null {
  const count = (idx: Iterable<number>) => {
    const out: Record<string, number> = {};
    for (const i of idx) {
      const kind = pool[i].kind ?? 'natural';
      out[kind] = (out[kind] ?? 0) + 1;
    }
    return out;
  };
  const poolByKind = count(pool.keys());
  const keptByKind = count(kept);
  const planted = pool.length - (poolByKind.natural ?? 0);
  if (planted === 0) return null;
  const outside = planted - (kept.length - (keptByKind.natural ?? 0));
  return { planted, outside, outsideShare: outside / planted, keptByKind, poolByKind };
}
