/**
 * The one typed reader of the JSON records the stages write (run records, done markers, results stores): the
 * place where untyped JSON becomes a record type. It checks what its reader relies on, the record's kind and
 * the fields it uses, and names the file and the field that is missing, rather than letting an undefined
 * surface later, far from the file it came from.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface RecordExpectation<T> {
  /** The kind the record must be if it names one (records of earlier versions and by hand may have none). */
  kind?: string;
  /** Fields the reader uses: each must be present (null counts as present: it is a value). */
  fields: readonly (keyof T & string)[];
}

export function readRecord<T extends object>(file: string, expect: RecordExpectation<T>): T {
  if (!existsSync(file)) throw new Error(`${file}: not found`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${file}: expected a JSON object`);
  const record = value as Record<string, unknown>;
  if (expect.kind !== undefined && record.kind !== undefined && record.kind !== expect.kind)
    throw new Error(`${file}: a ${JSON.stringify(record.kind)} record, expected a "${expect.kind}" record`);
  for (const field of expect.fields)
    if (record[field] === undefined) throw new Error(`${file}: field "${field}" is missing`);
  return record as T;
}
