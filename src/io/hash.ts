/** Content hashes for run records: sha256 of one file, or of several read as one stream (split halves). */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export function sha256Files(...paths: string[]): string {
  const h = createHash('sha256');
  for (const p of paths) h.update(readFileSync(p));
  return h.digest('hex');
}

/** A short content id: the first 16 hex digits of the sha256 of a name and a JSON-serialisable value. */
export function contentId(name: string, value: unknown): string {
  return `${name}-${createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16)}`;
}
