/**
 * Record files with locations: JSON Lines, JSON arrays of objects, CSV/TSV (RFC 4180 quoting). Every record
 * comes with the file and the line it starts on, so that a bad record is reported as `file:line: field ...`.
 * Files split in halves (`x.part1of2.jsonl`, `x.part2of2.jsonl`) are read as one, in order.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface Located<T> {
  value: T;
  file: string;
  line: number;
}

export class RecordError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'RecordError';
  }
}

function readText(file: string): string {
  if (!existsSync(file)) throw new Error(`${file}: not found`);
  return readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
}

export function readJsonl(file: string): Located<unknown>[] {
  const out: Located<unknown>[] = [];
  readText(file)
    .split('\n')
    .forEach((text, i) => {
      if (text.trim() === '') return;
      try {
        out.push({ value: JSON.parse(text), file, line: i + 1 });
      } catch (error) {
        throw new RecordError(file, i + 1, `not valid JSON (${(error as Error).message})`);
      }
    });
  return out;
}

/**
 * A JSON Lines file, or a .json file as `datasets` and pandas write it: a JSON array, or JSON Lines again (one
 * object per line).
 */
export function readJsonRecords(file: string): Located<unknown>[] {
  if (!file.toLowerCase().endsWith('.json')) return readJsonl(file);
  return readText(file).trimStart().startsWith('[') ? readJsonArray(file) : readJsonl(file);
}

/** A JSON array of records; each element is located at the line where it starts. */
export function readJsonArray(file: string): Located<unknown>[] {
  const text = readText(file);
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (error) {
    throw new RecordError(file, 1, `not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(values)) throw new RecordError(file, 1, 'expected a JSON array of records');
  const lines = elementLines(text);
  return values.map((value, i) => ({ value, file, line: lines[i] ?? 1 }));
}

/** Line of each top-level array element's first character (a small scanner aware of strings). */
function elementLines(text: string): number[] {
  const lines: number[] = [];
  let depth = 0,
    line = 1,
    inString = false,
    expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (/\s/.test(c)) continue;
    if (depth === 1 && expectElement && c !== ']') {
      lines.push(line);
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectElement = true;
  }
  return lines;
}

/** Rows of a delimited file as string arrays (quotes, doubled quotes and newlines in quotes handled). */
export function readDelimited(
  file: string,
  delimiter: ',' | '\t',
  { quoted = delimiter === ',' } = {},
): Located<string[]>[] {
  const text = readText(file);
  const rows: Located<string[]>[] = [];
  let field = '',
    row: string[] = [],
    line = 1,
    rowLine = 1,
    inQuotes = false;
  const endRow = () => {
    row.push(field);
    if (!(row.length === 1 && row[0] === '')) rows.push({ value: row, file, line: rowLine });
    row = [];
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') inQuotes = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && quoted && field === '') inQuotes = true;
    else if (c === delimiter) {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      if (field.endsWith('\r')) field = field.slice(0, -1);
      endRow();
      line++;
      rowLine = line;
    } else field += c;
  }
  if (inQuotes) throw new RecordError(file, rowLine, 'a quoted field is never closed');
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

/** `x.jsonl` or its halves `x.part1of2.jsonl` + `x.part2of2.jsonl`. */
export function splitFileParts(file: string): string[] {
  if (existsSync(file)) return [file];
  const m = /^(.*)(\.[a-z]+)$/.exec(file);
  const parts = m ? [1, 2].map((k) => `${m[1]}.part${k}of2${m[2]}`) : [];
  if (parts.length > 0 && parts.every((p) => existsSync(p))) return parts;
  throw new Error(`${file}: not found (nor as .part1of2/.part2of2 halves)`);
}

/** Typed field access for one located record; every failure names file, line and field. */
export class FieldReader {
  private readonly record: Record<string, unknown>;

  constructor(private readonly at: Located<unknown>) {
    if (typeof at.value !== 'object' || at.value === null || Array.isArray(at.value))
      throw new RecordError(at.file, at.line, 'expected an object');
    this.record = at.value as Record<string, unknown>;
  }

  fail(field: string, message: string): never {
    throw new RecordError(this.at.file, this.at.line, `field "${field}" ${message}`);
  }

  string(field: string, { optional = false } = {}): string {
    const v = this.path(field);
    if (v === undefined || v === null) {
      if (optional) return '';
      this.fail(field, 'is missing');
    }
    if (typeof v !== 'string') this.fail(field, `should be a string, got ${JSON.stringify(v).slice(0, 40)}`);
    return v as string;
  }

  boolean(field: string): boolean {
    const v = this.path(field);
    if (typeof v !== 'boolean')
      this.fail(
        field,
        v === undefined ? 'is missing' : `should be true or false, got ${JSON.stringify(v).slice(0, 40)}`,
      );
    return v as boolean;
  }

  /** The value at `field` (undefined when absent). */
  value(field: string): unknown {
    return this.path(field);
  }

  /** Whether the record has a value (not null) at `field`. */
  has(field: string): boolean {
    const v = this.path(field);
    return v !== undefined && v !== null;
  }

  /** The record's top-level field names. */
  keys(): string[] {
    return Object.keys(this.record);
  }

  /** Dotted paths reach into nested objects ("prompt.text"). */
  private path(field: string): unknown {
    let v: unknown = this.record;
    for (const key of field.split('.')) {
      if (typeof v !== 'object' || v === null) return undefined;
      v = (v as Record<string, unknown>)[key];
    }
    return v;
  }
}
