/** Content hashes for run records: sha256 of one file, or of several read as one stream (split halves). */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export function sha256Files(...paths: string[]): string {
  const h = createHash('sha256');
  for (const p of paths) h.update(readFileSync(p));
  return h.digest('hex');
}
