/** Judges by name: builtin (assets/judge unless a folder is given), keyword, http (needs a URL). */
import { join } from 'node:path';
import { dataDir } from '../../data/datasets.js';
import { BuiltinJudge } from './builtin.js';
import { HttpJudge } from './http.js';
import type { Judge } from './judge.js';
import { KeywordJudge } from './keyword.js';

export type JudgeName = 'builtin' | 'keyword' | 'http';
export const JUDGE_NAMES: readonly JudgeName[] = ['builtin', 'keyword', 'http'];

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

export function createJudge(name: string, options: JudgeOptions = {}): Judge {
  switch (name) {
    case 'builtin':
      return BuiltinJudge.load(options.dir ?? defaultJudgeDir());
    case 'keyword':
      return new KeywordJudge();
    case 'http':
      if (!options.url)
        throw new Error('the http judge needs --url (an OpenAI-compatible base URL, e.g. http://localhost:8000/v1)');
      return new HttpJudge({
        baseUrl: options.url,
        ...(options.model ? { model: options.model } : {}),
        ...(options.format ? { format: options.format } : {}),
      });
    default:
      throw new Error(`unknown judge "${name}" (choose ${JUDGE_NAMES.join(', ')})`);
  }
}
