/**
 * Judges by name: one entry per judge, with what it is and how to make it from the shared options; JUDGE_NAMES
 * and JudgeName follow the entries.
 */
import { join } from 'node:path';
import { dataDir } from '../../data/datasets.js';
import { BuiltinJudge } from './builtin.js';
import { HttpJudge } from './http.js';
import type { Judge } from './judge.js';
import { KeywordJudge } from './keyword.js';

export interface JudgeOptions {
  /** builtin: the judge folder. Default assets/judge at the package root. */
  dir?: string;
  /** http: the endpoint's base URL. */
  url?: string;
  /** http: the model name. */
  model?: string;
  /** http: the request format (default classifier). */
  format?: 'classifier' | 'llama-guard';
}

/** The committed builtin judge (assets/judge beside data/). */
export function defaultJudgeDir(): string {
  return join(dataDir(), '..', 'assets', 'judge');
}

export interface JudgeEntry {
  description: string;
  create(options: JudgeOptions): Judge;
}

export const JUDGES = {
  builtin: {
    description: 'a trained n-gram network (assets/judge, or --judge-dir)',
    create: (options) => BuiltinJudge.load(options.dir ?? defaultJudgeDir()),
  },
  keyword: { description: 'harmful unless the response refuses or is empty', create: () => new KeywordJudge() },
  http: {
    description: 'an external model behind an OpenAI-compatible chat endpoint (needs --url)',
    create: (options) => {
      if (!options.url)
        throw new Error('the http judge needs --url (an OpenAI-compatible base URL, e.g. http://localhost:8000/v1)');
      return new HttpJudge({
        baseUrl: options.url,
        ...(options.model ? { model: options.model } : {}),
        ...(options.format ? { format: options.format } : {}),
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
