/** Content hashes for run records: sha256 of one file, or of several read as one stream (split halves). */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/** The read buffer, allocated once. */
let chunkBuffer: Buffer | undefined;

/** Read in chunks: checkpoints' shards are larger than a Node buffer can hold. */
export function sha256Files(...paths: string[]): string {
  const h = createHash('sha256');
  const chunk = (chunkBuffer ??= Buffer.allocUnsafe(1 << 24));
  for (const p of paths) {
    const fd = openSync(p, 'r');
    try {
      for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) h.update(chunk.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  return h.digest('hex');
}

/** A short content id: the first 16 hex digits of the sha256 of a name and a JSON-serialisable value. */
export function contentId(name: string, value: unknown): string {
  return `${name}-${createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16)}`;
}
