/**
 * The Redis behind a queue: its URL checked, reached once with a clear error when it cannot be, and its
 * persistence looked at (a Redis that keeps neither an append-only file nor snapshots loses every job when it
 * restarts). One Redis database holds one queue of stages for one stage store: the queue's key prefix below.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { UsageError } from '../config/usage-error.js';

/** BullMQ's key prefix and queue name: the stage jobs live under pharmacist:stages:*. */
export const QUEUE_PREFIX = 'pharmacist';
export const QUEUE_NAME = 'stages';

/** The parts of a redis://HOST:PORT/DB URL, checked; the error names the URL and what is wrong with it. */
export function parseQueueUrl(url: string): { host: string; port: number; db: number; tls: boolean } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(
      `--queue "${url}" is not a URL; expected redis://HOST:PORT/DB (e.g. redis://127.0.0.1:6379/0)`,
    );
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new UsageError(`--queue "${url}": the scheme must be redis:// or rediss://, not ${parsed.protocol}//`);
  if (!parsed.hostname) throw new UsageError(`--queue "${url}" names no host; expected redis://HOST:PORT/DB`);
  const port = parsed.port ? Number(parsed.port) : 6379;
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0)
    throw new UsageError(`--queue "${url}": the database "${dbText}" must be a number (redis://HOST:PORT/DB)`);
  return { host: parsed.hostname, port, db, tls: parsed.protocol === 'rediss:' };
}

/**
 * A client for BullMQ: commands wait through a Redis restart instead of failing (maxRetriesPerRequest null,
 * as BullMQ requires of workers), reconnecting every second at most.
 */
export function redisClient(url: string, options: RedisOptions = {}): Redis {
  parseQueueUrl(url);
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(200 * times, 1000),
    ...options,
  });
}

/**
 * Reach the Redis at `url` once, failing fast (no retries) with an error that names the URL; then its
 * persistence: a warning line when it has neither AOF nor RDB snapshots.
 */
export async function checkRedis(url: string, warn: (line: string) => void): Promise<void> {
  const probe = redisClient(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 5000,
    enableOfflineQueue: false,
  });
  // The socket's own error (ECONNREFUSED, ENOTFOUND) says more than connect's rejection ("Connection is closed").
  let socketError: Error | undefined;
  probe.on('error', (error: Error) => (socketError ??= error));
  try {
    await probe.connect();
    const pong = await probe.ping();
    if (pong !== 'PONG') throw new Error(`answered PING with ${pong}`);
    const [, appendonly] = (await probe.config('GET', 'appendonly')) as string[];
    const [, save] = (await probe.config('GET', 'save')) as string[];
    if (appendonly !== 'yes' && !save?.trim())
      warn(
        `warning: the Redis at ${url} keeps neither an append-only file (appendonly no) nor snapshots (save ""): ` +
          'a restart loses the queue (the stage store keeps every finished stage; rerun the command to re-enqueue ' +
          'the rest). Start it with --appendonly yes.',
      );
  } catch (error) {
    let message = socketError?.message ?? (error as Error).message;
    if (/Protocol error/.test(message)) message += ' (is that port a Redis server?)';
    throw new Error(`cannot use the Redis at ${url}: ${message || String(error)}`, { cause: error });
  } finally {
    probe.disconnect();
  }
}
