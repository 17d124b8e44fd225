/**
 * Judges by name: one entry per judge, with what it is and how to make it from the shared options; JUDGE_NAMES
 * and JudgeName follow the entries.
 */
import { packagePath } from '../../io/package-paths.js';
import { BuiltinJudge } from './builtin.js';
import { choice, text, type Knobs, type KnobValues } from '../../config/knobs.js';
import { HTTP_JUDGE_DEFAULTS, HTTP_JUDGE_FORMATS, HttpJudge } from './http.js';
import type { Judge } from './judge.js';
import { KeywordJudge } from './keyword.js';
import { LmJudge } from './lm.js';

/** Each judge's knobs, declared once (src/config/knobs.ts): the CLI's judge flags and the grid's eval fields. */
const judgeDir = text(null, "a trained judge's folder (null: the committed one, assets/judge or assets/judge-lm)");
export const JUDGE_KNOBS = {
  builtin: { judgeDir },
  lm: { judgeDir },
  http: {
    url: text(null, 'OpenAI-compatible base URL, e.g. http://localhost:8000/v1 (the http judge needs it)'),
    modelName: text(null, 'model name the server expects (null: llama-guard)'),
    judgeFormat: choice(
      HTTP_JUDGE_FORMATS,
      HTTP_JUDGE_DEFAULTS.format,
      'request format: classifier (a one-word classifier prompt) or llama-guard (Llama Guard)',
    ),
  },
} as const;

/** Every judge's knobs in one set (their names do not collide): what a grid's eval section and the CLI take. */
export const ALL_JUDGE_KNOBS = { ...JUDGE_KNOBS.builtin, ...JUDGE_KNOBS.http };

/** Settings of the judges: each judge reads its own (unset: its default). */
export type JudgeOptions = Partial<KnobValues<typeof ALL_JUDGE_KNOBS>>;

/** The committed builtin judge (the package's assets/judge). */
export function defaultJudgeDir(): string {
  return packagePath('assets', 'judge');
}

/** The committed lm judge (the package's assets/judge-lm), and the base model it was fine-tuned from. */
export function defaultLmJudgeDir(): string {
  return packagePath('assets', 'judge-lm');
}
export function embeddedBaseModel(): string {
  return packagePath('assets', 'base');
}

export interface JudgeEntry {
  description: string;
  /** Its knobs (JUDGE_KNOBS), null: none. */
  knobs: Knobs | null;
  create(options: JudgeOptions): Judge;
}

export const JUDGES = {
  builtin: {
    description: 'a trained n-gram network (assets/judge, or --judge-dir)',
    knobs: JUDGE_KNOBS.builtin,
    create: (options) => BuiltinJudge.load(options.judgeDir ?? defaultJudgeDir()),
  },
  lm: {
    description: 'the embedded base model fine-tuned to answer harmful or safe (assets/judge-lm, or --judge-dir)',
    knobs: JUDGE_KNOBS.lm,
    create: (options) => LmJudge.load(options.judgeDir ?? defaultLmJudgeDir(), embeddedBaseModel()),
  },
  keyword: {
    description: 'harmful unless the response refuses or is empty',
    knobs: null,
    create: () => new KeywordJudge(),
  },
  http: {
    description: 'an external model behind an OpenAI-compatible chat endpoint (needs --url)',
    knobs: JUDGE_KNOBS.http,
    create: (options) => {
      if (!options.url)
        throw new Error('the http judge needs --url (an OpenAI-compatible base URL, e.g. http://localhost:8000/v1)');
      return new HttpJudge({
        baseUrl: options.url,
        ...(options.modelName ? { model: options.modelName } : {}),
        ...(options.judgeFormat ? { format: options.judgeFormat } : {}),
      });
    },
  },
} satisfies Record<string, JudgeEntry>;

export type JudgeName = keyof typeof JUDGES;
export const JUDGE_NAMES = Object.keys(JUDGES) as readonly JudgeName[];

export function createJudge(name: string, options: JudgeOptions = {}): Judge {
  if (!Object.hasOwn(JUDGES, name)) throw new Error(`unknown judge "${name}" (choose ${JUDGE_NAMES.join(', ')})`);
  return JUDGES[name as JudgeName].create(options);
}
