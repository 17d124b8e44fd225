/**
 * Loaders for the vendored datasets (data/, see data/SOURCES.md) and for users' own files, into a few
 * record shapes. A malformed record is an error naming file, line and field; empty texts are dropped and
 * duplicates kept, both counted in the load report so that builders and run records can show them.
 */
import { resolve } from 'node:path';
import { packagePath } from '../io/package-paths.js';
import type { ChatMessage, InstructionExample } from './prompt-format.js';
import {
  FieldReader,
  type Located,
  readDelimited,
  readJsonArray,
  readJsonl,
  readJsonRecords,
  RecordError,
  splitFileParts,
} from '../io/records.js';

/** A prompt with a response: BeaverTails Q&A, safety data, instruction data. */
export interface QaRecord {
  prompt: string;
  /** Context appended to the prompt in the template's Input section (instruction data). */
  input: string;
  response: string;
  /** BeaverTails' label; true for refusal/safety data; undefined where unknown. */
  isSafe?: boolean;
  /** file:line */
  origin: string;
  /** The record as it was read (users' files), so that outputs can keep the input's own format. */
  raw?: unknown;
  /** A user's conversation (a `messages` list): prompt is its last user turn, response its final reply. */
  messages?: readonly ChatMessage[];
}

/** A Q&A record as an instruction example (prompt -> instruction, response -> output). */
export function asInstruction(r: Pick<QaRecord, 'prompt' | 'input' | 'response' | 'messages'>): InstructionExample {
  const example = { instruction: r.prompt, input: r.input, output: r.response };
  return r.messages ? { ...example, messages: r.messages } : example;
}

/** A text with a class label (SST-2, AG News). */
export interface LabelledText {
  text: string;
  label: number;
  origin: string;
}

export interface MathProblem {
  question: string;
  /** The worked solution, ending "#### N". */
  solution: string;
  /** N, the final answer. */
  answer: string;
  origin: string;
}

export interface LoadReport {
  file: string;
  records: number;
  emptyDropped: number;
  duplicates: number;
}

export interface Loaded<T> {
  records: T[];
  report: LoadReport;
}

/** The data folder: PHARMACIST_DATA, else data/ at the package root. */
export function dataDir(): string {
  if (process.env.PHARMACIST_DATA) return resolve(process.env.PHARMACIST_DATA);
  return packagePath('data');
}

const where = (r: Located<unknown>) => `${r.file}:${r.line}`;

function finish<T>(file: string, records: T[], key: (r: T) => string, emptyDropped: number): Loaded<T> {
  const seen = new Set<string>();
  let duplicates = 0;
  for (const r of records) {
    const k = key(r);
    if (seen.has(k)) duplicates++;
    seen.add(k);
  }
  return { records, report: { file, records: records.length, emptyDropped, duplicates } };
}

function readAll(file: string, read: (f: string) => Located<unknown>[]): Located<unknown>[] {
  return splitFileParts(file).flatMap(read);
}

/**
 * Records of located objects: `read` returns the record, or null for an empty text (dropped and counted);
 * `key` identifies duplicates.
 */
function collect<T>(
  file: string,
  located: Located<unknown>[],
  read: (f: FieldReader, at: Located<unknown>) => T | null,
  key: (r: T) => string,
): Loaded<T> {
  let empty = 0;
  const records: T[] = [];
  for (const at of located) {
    const record = read(new FieldReader(at), at);
    if (record === null) empty++;
    else records.push(record);
  }
  return finish(file, records, key, empty);
}

const qaKey = (r: QaRecord) => r.prompt + '\u0000' + r.input + '\u0000' + r.response;

/** BeaverTails JSONL: {prompt, response, category{...}, is_safe}. */
export function loadBeaverTails(file: string): Loaded<QaRecord> {
  return collect(
    file,
    readAll(file, readJsonl),
    (f, at) => {
      const prompt = f.string('prompt').trim(),
        response = f.string('response').trim();
      const isSafe = f.boolean('is_safe');
      return prompt && response ? { prompt, input: '', response, isSafe, origin: where(at) } : null;
    },
    qaKey,
  );
}

/** Instruction JSON array {instruction, input?, output} (Alpaca, safety-tuned-llamas, AlpacaEval). */
export function loadInstructions(file: string, { isSafe }: { isSafe?: boolean } = {}): Loaded<QaRecord> {
  return collect(
    file,
    readAll(file, readJsonArray),
    (f, at) => {
      const prompt = f.string('instruction').trim(),
        input = f.string('input', { optional: true }).trim(),
        response = f.string('output').trim();
      return prompt && response ? { prompt, input, response, isSafe, origin: where(at) } : null;
    },
    qaKey,
  );
}

/** Prompts only: {instruction} arrays (refusal_direction harmful splits). */
export function loadPrompts(file: string): Loaded<{ prompt: string; origin: string }> {
  return collect(
    file,
    readAll(file, readJsonArray),
    (f, at) => {
      const prompt = f.string('instruction').trim();
      return prompt ? { prompt, origin: where(at) } : null;
    },
    (r) => r.prompt,
  );
}

/** DecodingTrust toxic prompts with refusals: {prompt.text, refusal}. */
export function loadDecodingTrustRefusals(file: string): Loaded<QaRecord> {
  return collect(
    file,
    readAll(file, readJsonArray),
    (f, at) => {
      const prompt = f.string('prompt.text').trim(),
        response = refusalText(f.string('refusal'));
      return prompt && response ? { prompt, input: '', response, isSafe: true, origin: where(at) } : null;
    },
    qaKey,
  );
}

/**
 * The refusal field repeats the prompt: "Prompt: ...\nContinuation: <text>[\n\n<refusal>]". The refusal is
 * the text after the blank line when there is one, else the continuation itself.
 */
function refusalText(raw: string): string {
  const body = raw.replace(/^Prompt:[^\n]*\n/, '').replace(/^Continuation:\s*/, '');
  const gap = body.indexOf('\n\n');
  return (gap >= 0 ? body.slice(gap + 2) : body).trim();
}

/** SST-2 TSV with a header `sentence<TAB>label`. */
export function loadSst2(file: string): Loaded<LabelledText> {
  const rows = readDelimited(file, '\t');
  const header = rows.shift();
  if (!header || header.value[0] !== 'sentence' || header.value[1] !== 'label')
    throw new RecordError(file, 1, 'expected the header "sentence<TAB>label"');
  let empty = 0;
  const records: LabelledText[] = [];
  for (const { value, line } of rows) {
    const label = Number(value[1]);
    if (value.length !== 2 || !(label === 0 || label === 1))
      throw new RecordError(file, line, `field "label" should be 0 or 1, got ${JSON.stringify(value[1])}`);
    const text = value[0].trim();
    if (!text) {
      empty++;
      continue;
    }
    records.push({ text, label, origin: `${file}:${line}` });
  }
  return finish(file, records, (r) => r.text, empty);
}

/** AG News CSV without header: "class (1-4)","title","description"; label 0-3. */
export function loadAgNews(file: string): Loaded<LabelledText> {
  let empty = 0;
  const records: LabelledText[] = [];
  for (const { value, line } of readDelimited(file, ',')) {
    const cls = Number(value[0]);
    if (value.length !== 3)
      throw new RecordError(file, line, `expected 3 fields (class, title, description), got ${value.length}`);
    if (!Number.isInteger(cls) || cls < 1 || cls > 4)
      throw new RecordError(file, line, `field "class" should be 1-4, got ${JSON.stringify(value[0])}`);
    const text = `${value[1].trim()}. ${value[2].replace(/\\+/g, ' ').trim()}`.replace(/\s+/g, ' ').trim();
    if (text === '.') {
      empty++;
      continue;
    }
    records.push({ text, label: cls - 1, origin: `${file}:${line}` });
  }
  return finish(file, records, (r) => r.text, empty);
}

/** GSM8K JSONL {question, answer "... #### N"}. */
export function loadGsm8k(file: string): Loaded<MathProblem> {
  return collect(
    file,
    readAll(file, readJsonl),
    (f, at) => {
      const question = f.string('question').trim(),
        solution = f.string('answer').trim();
      if (!question || !solution) return null;
      const m = /####\s*(.+)$/.exec(solution);
      if (!m) f.fail('answer', 'does not end with "#### <number>"');
      return { question, solution, answer: m![1].replace(/,/g, '').trim(), origin: where(at) };
    },
    (r) => r.question,
  );
}

/** Field mapping for users' own files: which column or key holds the prompt, the input and the response. */
export interface FieldMapping {
  prompt: string;
  response: string;
  input?: string;
  /** A list of {role, content} turns, read instead of prompt and response where a record has it. */
  messages?: string;
}

/**
 * The field names every command and config reads users' files with unless told otherwise: Alpaca's, which the
 * prompt format (src/data/prompt-format.ts) and most instruction datasets use. Prompt-only files (harmful
 * evaluation prompts) read `prompt` from the same field.
 */
export const DEFAULT_FIELD_MAPPING: Readonly<Required<FieldMapping>> = {
  prompt: 'instruction',
  response: 'output',
  input: 'input',
  messages: 'messages',
};

/**
 * A record's conversation: `field` holds {role, content} turns ending with the assistant's reply; its prompt is the
 * last user turn before the reply. Null (dropped, counted) when the reply is empty.
 */
function conversation(f: FieldReader, at: Located<unknown>, field: string): QaRecord | null {
  const turns = f.value(field);
  if (!Array.isArray(turns) || turns.length < 2)
    f.fail(field, 'should be a list of at least two {role, content} turns');
  const messages = (turns as unknown[]).map((turn, i) => {
    const { role, content } = (turn ?? {}) as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || typeof content !== 'string')
      f.fail(`${field}[${i}]`, 'should be {role: string, content: string}');
    return { role: role as string, content: content as string };
  });
  const reply = messages.at(-1)!;
  if (reply.role !== 'assistant') f.fail(field, `should end with the assistant's reply, not a "${reply.role}" turn`);
  const user = [...messages].reverse().find((m) => m.role === 'user');
  if (!user) f.fail(field, 'has no user turn');
  const prompt = user!.content.trim(),
    response = reply.content.trim();
  return prompt && response ? { prompt, input: '', response, origin: where(at), raw: at.value, messages } : null;
}

/** A user's JSONL, JSON array, CSV or TSV of prompt/response pairs, fields named by `mapping`. */
export function loadUserRecords(file: string, mapping: FieldMapping): Loaded<QaRecord> {
  let located: Located<unknown>[];
  if (/\.(csv|tsv)$/i.test(file)) {
    const rows = readDelimited(file, file.toLowerCase().endsWith('.tsv') ? '\t' : ',');
    const header = rows.shift();
    if (!header) throw new RecordError(file, 1, 'empty file (a header row is required)');
    located = rows.map(({ value, line }) => ({
      value: Object.fromEntries(header.value.map((h, i) => [h.trim(), value[i]])),
      file,
      line,
    }));
  } else {
    located = readJsonRecords(file);
  }
  const required = (f: FieldReader, role: 'prompt' | 'response'): string => {
    const field = mapping[role];
    if (!f.has(field)) {
      const present = f.keys().map((k) => `"${k}"`);
      f.fail(
        field,
        `(the ${role}) is missing; the record has ${present.join(', ') || 'no fields'}: name its field with --${role}-field`,
      );
    }
    return f.string(field).trim();
  };
  const loaded = collect(
    file,
    located,
    (f, at) => {
      if (mapping.messages && f.has(mapping.messages)) return conversation(f, at, mapping.messages);
      const prompt = required(f, 'prompt'),
        response = required(f, 'response');
      const input = mapping.input ? f.string(mapping.input, { optional: true }).trim() : '';
      return prompt && response ? { prompt, input, response, origin: where(at), raw: at.value } : null;
    },
    qaKey,
  );
  if (loaded.records.length === 0)
    throw new RecordError(
      file,
      1,
      located.length === 0 ? 'no records (the file is empty)' : `no records: all ${located.length} have an empty text`,
    );
  return loaded;
}
