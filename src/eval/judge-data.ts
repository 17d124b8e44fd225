/**
 * Labelled (prompt, response) pairs for training and checking harmfulness judges, in five groups:
 * - unsafe: BeaverTails unsafe answers (harmful by BeaverTails' label, which readers reject on about 44% of them:
 *   data/judge/beavertails-read/README.md). By default only its held-out part is used, to report agreement with that
 *   label; training uses the read answers below instead (`unsafeRead`, `keepUnreadUnsafe`);
 * - safe: on-topic safe answers to harmful prompts that are not refusals — safety-tuned-llamas answers
 *   without refusal wording (not harmful). BeaverTails' own is_safe=true answers are kept out of training
 *   and reported apart (`diagnostic`): their labels are noisy (a shop "easiest to rob" is labelled safe;
 *   "3 year olds don't have a driving licence" unsafe), so they would teach noise;
 * - refusal: safety-tuned-llamas and DecodingTrust refusals (not harmful);
 * - offtopic: harmful prompts answered with harmless unrelated text — Alpaca, AlpacaEval, GSM8K, AG News,
 *   SST-2 and the task label words a fine-tuned model may answer with (not harmful);
 * - salad: harmful prompts answered with word salad — shuffled words of any group, unsafe answers included (not with
 *   `saladFromSafe`), and random vocabulary (not harmful: nothing in it can be acted on; but see `saladFromSafe`).
 * - benign: benign instructions with their own real answers (Alpaca, GSM8K, AG News and SST-2 prompts with
 *   their label words) (not harmful);
 * - the generated hard cases of judge-hard-cases.ts (short refusals, refusal then harm, bare endorsements,
 *   benign answers with violent-sounding words, garbled refusals, garbled harm; with `methodCases`, openings that
 *   set out to explain a harmful or a harmless act);
 * - gold-harmful / gold-safe: the gold set's dev split (data/judge/gold/dev.jsonl), the embedded models' own
 *   outputs labelled by reading against docs/judge-rubric.md. Its test split is never read here.
 * - written-harmful / written-safe: pairs written by hand, one at a time, and labelled against the same rubric
 *   (data/judge/written/writer-*.jsonl, how in its README): the hard-case families in words no template produces.
 *   Their writers never saw the hand-written hard pairs that judge-eval scores.
 * - beavertails-read-harmful / beavertails-read-safe (with `unsafeRead`): training-split unsafe answers that readers
 *   labelled against the rubric (data/judge/beavertails-read/train.jsonl), each with the readers' label: BeaverTails
 *   calls them all unsafe, the readers call about half of them safe.
 * The BeaverTails test file is never trained on: its prompts are the harmful-score evaluation prompts, and no
 * record of any group has one of them as its prompt.
 * Each group is split by a seed into train and held-out parts.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../engine/index.js';
import {
  dataDir,
  loadAgNews,
  loadBeaverTails,
  loadDecodingTrustRefusals,
  loadGsm8k,
  loadInstructions,
  loadSst2,
} from '../data/datasets.js';
import { AGNEWS_INSTRUCTION, AGNEWS_LABELS, SST2_INSTRUCTION, SST2_LABELS } from '../data/tasks.js';
import { FILES, looksLikeRefusal, promptKey, shuffled } from '../data/world.js';
import { FieldReader, readJsonl } from '../io/records.js';
import { hardCases, methodCases, type HardCaseGroup } from './judge-hard-cases.js';

export type JudgeGroup =
  | 'unsafe'
  | 'safe'
  | 'refusal'
  | 'offtopic'
  | 'salad'
  | 'benign'
  | HardCaseGroup
  | 'gold-harmful'
  | 'gold-safe'
  | 'written-harmful'
  | 'written-safe'
  | 'beavertails-read-harmful'
  | 'beavertails-read-safe';
/** The groups of the judge's first version, each held out in part and reported by judge-eval. */
export const BASE_JUDGE_GROUPS: readonly JudgeGroup[] = ['unsafe', 'safe', 'refusal', 'offtopic', 'salad'];
export const JUDGE_GROUPS: readonly JudgeGroup[] = [
  ...BASE_JUDGE_GROUPS,
  'benign',
  'refusal-short',
  'refusal-then-harm',
  'endorse-short',
  'benign-violent',
  'garbled-refusal',
  'garbled-harm',
  'gold-harmful',
  'gold-safe',
  'written-harmful',
  'written-safe',
  'beavertails-read-harmful',
  'beavertails-read-safe',
  'method-harm',
  'method-benign',
];

export interface JudgeExample {
  prompt: string;
  response: string;
  harmful: boolean;
  group: JudgeGroup;
}

export interface JudgeDataset {
  train: JudgeExample[];
  heldOut: JudgeExample[];
  /** BeaverTails is_safe=true answers (label-noisy), never trained on. */
  diagnostic: JudgeExample[];
}

export interface JudgeDataConfig {
  /** Default 0. */
  seed: number;
  /** Held-out fraction of every group. Default 0.2. */
  heldOutFraction: number;
  /** At most this many unsafe answers (the largest group). Default 6000. */
  maxUnsafe: number;
  /** Word-salad examples to synthesise. Default 2000. */
  salad: number;
  /** Generated cases of each hard-case family. Default 600. */
  hardCases: number;
  /** Benign instructions with their real answers. Default 1500. */
  benign: number;
  /** The gold dev split (labelled model outputs); null: none. Default data/judge/gold/dev.jsonl when present. */
  goldDev: string | null;
  /** The gold dev split's waves 1 to this one are read (a pair's wave is in its id, `gold-w<N>-...`); null: every
   * wave. Default 9, the waves the committed judge trained on, so that `pharmacist train-judge` rebuilds it after
   * a later wave is committed; a later wave joins training when a judge trained on it is adopted
   * (docs/judge-adoption.md). */
  goldWaves: number | null;
  /** Folder of hand-written labelled pairs (its writer-*.jsonl files); null: none. Default data/judge/written when
   * present. */
  written: string | null;
  /** BeaverTails unsafe answers read against the rubric (`{prompt, response, label}` rows): each one in the training
   * split takes its readers' label, in group beavertails-read-harmful or -safe. null: none (every unsafe answer
   * trains as harmful, as before docs/judge-adoption.md's rule 5). Default judge/beavertails-read/train.jsonl when
   * present. */
  unsafeRead: string | null;
  /** With `unsafeRead`: false leaves the unsafe answers nobody read out of training (the held-out split keeps them).
   * Default false (the judges of rules 5 and 6). */
  keepUnreadUnsafe: boolean;
  /** With `unsafeRead`: true builds the generated cases that reuse a real unsafe answer (refusal then harm, garbled
   * harm) from the read answers readers call harmful only, so that their `harmful` label holds by the rubric. Default
   * true (the judges of rules 5 and 6). */
  hardCasesFromRead: boolean;
  /** Also generate method-harm and method-benign (judge-hard-cases.ts), `hardCases` of each. Default false. */
  methodCases: boolean;
  /** Build word salad from the safe groups' answers and words only, leaving BeaverTails unsafe answers out: a reader
   * finds harmful content in about a fifth of salad shuffled from them (data/judge/salad-read/), so their `safe`
   * label does not hold. Default false. */
  saladFromSafe: boolean;
}

export const JUDGE_DATA_DEFAULTS: JudgeDataConfig = {
  seed: 0,
  heldOutFraction: 0.2,
  maxUnsafe: 6000,
  salad: 2000,
  hardCases: 600,
  benign: 1500,
  goldDev: 'judge/gold/dev.jsonl',
  goldWaves: 9,
  written: 'judge/written',
  unsafeRead: 'judge/beavertails-read/train.jsonl',
  keepUnreadUnsafe: false,
  hardCasesFromRead: true,
  methodCases: false,
  saladFromSafe: false,
};

const LABEL_ANSWERS = [
  'positive',
  'negative',
  'World',
  'Sports',
  'Business',
  'Sci/Tech',
  'Positive.',
  'negative.',
  'The final answer is: 12',
  'The final answer is: 7',
];

export function buildJudgeDataset(options: Partial<JudgeDataConfig> = {}, dir = dataDir()): JudgeDataset {
  const cfg: JudgeDataConfig = { ...JUDGE_DATA_DEFAULTS, ...options };
  if (cfg.goldWaves !== null && !(Number.isInteger(cfg.goldWaves) && cfg.goldWaves >= 1))
    throw new Error(
      `judge data: goldWaves must be a wave number (1 or more) or null (every wave), got ${JSON.stringify(cfg.goldWaves)}`,
    );
  const rng = new Rng(cfg.seed);
  const path = (f: string) => join(dir, f);
  // The BeaverTails test file's prompts are the evaluation prompts (and the gold set's): 243 records of the
  // "disjoint" train and attack files share one of them, so those are left out of every group.
  const evaluation = new Set(loadBeaverTails(path(FILES.beaverTest)).records.map((r) => promptKey(r.prompt)));
  const notEvaluated = (r: { prompt: string }) => !evaluation.has(promptKey(r.prompt));
  const attack = loadBeaverTails(path(FILES.beaverAttack)).records.filter(notEvaluated);
  const unsafeSource = [
    ...loadBeaverTails(path(FILES.beaverTrain)).records.filter(notEvaluated),
    ...attack.filter((r) => !r.isSafe),
  ];
  const harmfulPrompts = unsafeSource.map((r) => r.prompt);
  const anyPrompt = () => harmfulPrompts[rng.int(harmfulPrompts.length)];

  const safety = loadInstructions(path(FILES.safety)).records;
  const groups: Record<JudgeGroup, JudgeExample[]> = {
    unsafe: shuffled(unsafeSource, rng)
      .slice(0, cfg.maxUnsafe)
      .map((r) => ({ prompt: r.prompt, response: r.response, harmful: true, group: 'unsafe' })),
    safe: safety
      .filter((r) => !looksLikeRefusal(r.response))
      .map((r) => ({ prompt: r.prompt, response: r.response, harmful: false, group: 'safe' })),
    refusal: [
      ...safety.filter((r) => looksLikeRefusal(r.response)),
      ...loadDecodingTrustRefusals(path('safety/decoding_trust_with_refusals_train.json')).records,
    ].map((r) => ({ prompt: r.prompt, response: r.response, harmful: false, group: 'refusal' })),
    offtopic: offTopicTexts(dir, rng).map((response) => ({
      prompt: anyPrompt(),
      response,
      harmful: false,
      group: 'offtopic',
    })),
    salad: [],
    benign: benignAnswers(dir, rng)
      .slice(0, cfg.benign)
      .map((b) => ({ ...b, harmful: false, group: 'benign' })),
    'refusal-short': [],
    'refusal-then-harm': [],
    'endorse-short': [],
    'benign-violent': [],
    'garbled-refusal': [],
    'garbled-harm': [],
    'gold-harmful': [],
    'gold-safe': [],
    'written-harmful': [],
    'written-safe': [],
    'beavertails-read-harmful': [],
    'beavertails-read-safe': [],
    'method-harm': [],
    'method-benign': [],
  };
  const readFile = cfg.unsafeRead === null ? null : join(dir, cfg.unsafeRead);
  const readLabels = readFile === null || !existsSync(readFile) ? null : readersLabels(loadReadPairs(readFile));
  const cases = hardCases(
    {
      harmfulPrompts,
      unsafe:
        cfg.hardCasesFromRead && readLabels !== null
          ? groups.unsafe.filter((e) => readLabels.get(pairKey(e)) === true)
          : groups.unsafe,
      refusals: groups.refusal.map((r) => r.response),
      benign: groups.benign,
    },
    cfg.hardCases,
    cfg.seed + 7,
  );
  for (const c of cases) groups[c.group].push(c);
  if (cfg.methodCases)
    for (const c of methodCases({ harmfulPrompts, benign: groups.benign }, cfg.hardCases, cfg.seed + 11))
      groups[c.group].push(c);
  const goldFile = cfg.goldDev === null ? null : join(dir, cfg.goldDev);
  if (goldFile && existsSync(goldFile))
    for (const g of loadGold(goldFile).filter((g) => cfg.goldWaves === null || goldWave(g) <= cfg.goldWaves))
      groups[g.harmful ? 'gold-harmful' : 'gold-safe'].push(g);
  const writtenDir = cfg.written === null ? null : join(dir, cfg.written);
  if (writtenDir && existsSync(writtenDir))
    for (const w of loadWritten(writtenDir).filter(notEvaluated))
      groups[w.harmful ? 'written-harmful' : 'written-safe'].push(w);
  const saladOf = (answers: readonly JudgeExample[], r: Rng): JudgeExample[] => {
    const pool = answers.map((e) => e.response);
    const vocabulary = [...new Set(pool.join(' ').split(/\s+/))];
    return Array.from({ length: cfg.salad }, (_, i) => {
      const words =
        i % 3 === 2
          ? Array.from({ length: 5 + r.int(60) }, () => vocabulary[r.int(vocabulary.length)])
          : shuffled(pool[r.int(pool.length)].split(/\s+/), r);
      return {
        prompt: harmfulPrompts[r.int(harmfulPrompts.length)],
        response: words.join(' '),
        harmful: false,
        group: 'salad',
      };
    });
  };
  groups.salad = saladOf([...groups.unsafe, ...groups.safe, ...groups.refusal, ...groups.offtopic], rng);
  // Drawn after the default salad, from its own stream, so that the default's draws (and every later split) stay
  // as they are.
  if (cfg.saladFromSafe)
    groups.salad = saladOf([...groups.safe, ...groups.refusal, ...groups.offtopic], new Rng(cfg.seed + 13));
  let train: JudgeExample[] = [];
  const heldOut: JudgeExample[] = [];
  for (const g of JUDGE_GROUPS) {
    // Gold pairs of later waves and hand-written pairs are split by their prompt's hash (below), so that adding a
    // wave never moves an earlier pair between the parts: a judge's held-out figures stay valid for the data it
    // was trained with.
    const later = groups[g].filter(splitByPrompt);
    const items = shuffled(
      groups[g].filter((e) => !splitByPrompt(e)),
      rng,
    );
    const cut = Math.round(items.length * cfg.heldOutFraction);
    heldOut.push(...items.slice(0, cut));
    train.push(...items.slice(cut));
    for (const e of later) (heldOutByPrompt(e.prompt, cfg.heldOutFraction) ? heldOut : train).push(e);
  }
  // Read answers change label and group after the split, so that the split of every group is the same with or without
  // them (the held-out part of `unsafe`, which the read test sample comes from, included).
  if (readLabels !== null) {
    train = train.flatMap((e): JudgeExample[] => {
      if (e.group !== 'unsafe') return [e];
      const harmful = readLabels.get(pairKey(e));
      if (harmful === undefined) return cfg.keepUnreadUnsafe ? [e] : [];
      return [{ ...e, harmful, group: harmful ? 'beavertails-read-harmful' : 'beavertails-read-safe' }];
    });
  }
  const diagnostic = attack
    .filter((r) => r.isSafe)
    .map((r): JudgeExample => ({ prompt: r.prompt, response: r.response, harmful: false, group: 'safe' }));
  return { train: shuffled(train, rng), heldOut, diagnostic };
}

/** The identity of a (prompt, response) pair: BeaverTails repeats rows, so one pair can sit in several groups or
 * on both sides of a split. */
export const pairKey = (e: { prompt: string; response: string }) => `${e.prompt}\u0000${e.response}`;

/**
 * Each read pair's label. BeaverTails repeats rows, so a pair can be read twice (by different readers); where the
 * two labels differ, the pair counts as unread (undecided), whatever the order of the rows.
 */
function readersLabels(rows: readonly { prompt: string; response: string; harmful: boolean }[]): Map<string, boolean> {
  const labels = new Map<string, boolean>();
  const undecided = new Set<string>();
  for (const r of rows) {
    const key = pairKey(r);
    if (labels.has(key) && labels.get(key) !== r.harmful) undecided.add(key);
    labels.set(key, r.harmful);
  }
  for (const key of undecided) labels.delete(key);
  return labels;
}

/** Pairs read against the rubric: `{prompt, response, label}` rows (other fields ignored). */
export function loadReadPairs(file: string): { prompt: string; response: string; harmful: boolean }[] {
  return readJsonl(file).map((at) => {
    const f = new FieldReader(at);
    const harmful = readHarmfulLabel(f, file, at.line);
    return { prompt: f.string('prompt'), response: f.string('response'), harmful };
  });
}

/** A GSM8K solution with its "#### N" line written as the answer a fine-tuned model gives. */
const gsm8kAnswer = (solution: string) => solution.replace(/####\s*(.+)$/, 'The final answer is: $1');

/** The `label` field of a labelled pair (gold set, hard pairs): true for harmful. */
export function readHarmfulLabel(f: FieldReader, file: string, line: number): boolean {
  const label = f.string('label');
  if (label !== 'harmful' && label !== 'safe')
    throw new Error(`${file}:${line}: field "label" should be "harmful" or "safe", got ${JSON.stringify(label)}`);
  return label === 'harmful';
}

/** Benign instructions with their own answers, shuffled. */
function benignAnswers(dir: string, rng: Rng): { prompt: string; response: string }[] {
  const withInput = (p: string, input: string) => (input ? `${p}\n\n${input}` : p);
  const agnews = loadAgNews(join(dir, 'tasks/agnews/train_first580.csv')).records;
  const sst2 = shuffled(loadSst2(join(dir, 'tasks/sst2/train.tsv')).records, rng).slice(0, 300);
  return shuffled(
    [
      ...loadInstructions(join(dir, FILES.alpaca)).records.map((r) => ({
        prompt: withInput(r.prompt, r.input),
        response: r.response,
      })),
      ...shuffled(loadGsm8k(join(dir, 'tasks/gsm8k/train.jsonl')).records, rng)
        .slice(0, 400)
        .map((r) => ({ prompt: r.question, response: gsm8kAnswer(r.solution) })),
      ...agnews.map((r) => ({ prompt: withInput(AGNEWS_INSTRUCTION, r.text), response: AGNEWS_LABELS[r.label] })),
      ...sst2.map((r) => ({ prompt: withInput(SST2_INSTRUCTION, r.text), response: SST2_LABELS[r.label] })),
    ],
    rng,
  );
}

/** A gold split: {prompt, response, label: harmful | safe, ...} per line, labelled by reading. */
export function loadGold(file: string): (JudgeExample & { id: string; garbled: boolean; stage: string })[] {
  return readJsonl(file).map((at) => {
    const f = new FieldReader(at);
    const harmful = readHarmfulLabel(f, file, at.line);
    return {
      id: f.string('id'),
      prompt: f.string('prompt'),
      response: f.string('response'),
      harmful,
      garbled: f.boolean('garbled'),
      stage: f.string('stage'),
      group: harmful ? 'gold-harmful' : 'gold-safe',
    };
  });
}

/** The writers' files of a folder of hand-written pairs (writer-*.jsonl, sorted); a second reader's labels sit
 * beside them in second-reader.jsonl and are not among them. */
export function writtenFiles(folder: string): string[] {
  return readdirSync(folder)
    .filter((f) => f.startsWith('writer-') && f.endsWith('.jsonl'))
    .sort()
    .map((f) => join(folder, f));
}

/** Every pair of the writers' files: {id, family, prompt, response, label, garbled, note?}. */
export function loadWritten(folder: string): (JudgeExample & { id: string; family: string })[] {
  return writtenFiles(folder).flatMap((file) =>
    readJsonl(file).map((at) => {
      const f = new FieldReader(at);
      const harmful = readHarmfulLabel(f, file, at.line);
      f.boolean('garbled');
      return {
        id: f.string('id'),
        family: f.string('family'),
        prompt: f.string('prompt'),
        response: f.string('response'),
        harmful,
        group: harmful ? ('written-harmful' as const) : ('written-safe' as const),
      };
    }),
  );
}

function offTopicTexts(dir: string, rng: Rng): string[] {
  const take = <T>(xs: T[], n: number) => shuffled(xs, rng).slice(0, n);
  return [
    ...take(loadInstructions(join(dir, FILES.alpaca)).records, 1000).map((r) => r.response),
    ...take(loadInstructions(join(dir, 'tasks/alpacaeval/alpaca_eval_805_example_outputs.json')).records, 805).map(
      (r) => r.response,
    ),
    ...take(loadGsm8k(join(dir, 'tasks/gsm8k/train.jsonl')).records, 600).map((r) => gsm8kAnswer(r.solution)),
    ...take(loadAgNews(join(dir, 'tasks/agnews/train_first580.csv')).records, 400).map((r) => r.text),
    ...take(loadSst2(join(dir, 'tasks/sst2/train.tsv')).records, 600).map((r) => r.text),
    ...Array.from({ length: 200 }, (_, i) => LABEL_ANSWERS[i % LABEL_ANSWERS.length]),
    ...Array.from({ length: 20 }, () => ''),
  ];
}

/**
 * Gold waves 1-4 are split, as the committed judge was trained, by a seeded shuffle of their group's list (which any
 * appended pair would reshuffle); pairs of waves 5 and later by a hash of their prompt (all pairs of a prompt on one
 * side), whatever else the file holds.
 */
const SHUFFLED_GOLD_WAVES = 4;

/** A gold pair's wave, from its id (`gold-w<N>-...`); 0 for any other example. */
export function goldWave(e: JudgeExample): number {
  const wave = /^gold-w(\d+)-/.exec((e as { id?: string }).id ?? '');
  return wave === null ? 0 : Number(wave[1]);
}

/** Gold pairs of later waves and every hand-written pair are split by their prompt's hash. */
function splitByPrompt(e: JudgeExample): boolean {
  return e.group.startsWith('written-') || goldWave(e) > SHUFFLED_GOLD_WAVES;
}

/** Held out when a hash of the prompt (salted apart from the dev/test split's) falls in the first `fraction`. */
function heldOutByPrompt(prompt: string, fraction: number): boolean {
  const h = createHash('sha256')
    .update(`judge-held-out\u0000${promptKey(prompt)}`)
    .digest();
  return h.readUInt32BE(0) / 2 ** 32 < fraction;
}

/**
 * The cross-fitting fold (0 .. folds - 1) of a gold dev pair, a hash of its prompt (salted apart from the dev/test
 * and held-out splits'), so that every pair of a prompt is in one fold and adding a wave moves no pair between folds.
 * scripts/judge-crossfit.mjs trains a design once per fold without that fold's gold pairs and scores them with it.
 */
export function crossFitFold(prompt: string, folds: number): number {
  const h = createHash('sha256')
    .update(`judge-crossfit\u0000${promptKey(prompt)}`)
    .digest();
  return h.readUInt32BE(0) % folds;
}

/**
 * The pairs a judge's `sentenceStack` is fitted on, from a held-out split (pairs the networks did not train on): its
 * gold pairs (the models' own outputs, the distribution the targets measure), or with `held-out` every pair but those
 * of the `unsafe` group, whose label is BeaverTails' own (readers reject about 42% of it).
 */
export function stackPairs(heldOut: readonly JudgeExample[], groups: 'gold' | 'held-out' = 'gold'): JudgeExample[] {
  return heldOut.filter((e) => (groups === 'gold' ? e.group.startsWith('gold-') : e.group !== 'unsafe'));
}
