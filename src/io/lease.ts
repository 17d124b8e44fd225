/**
 * A lease on a piece of work in a shared folder: a file <name>.lease holding the owner (host, pid, a random
 * token) and an expiry, created exclusively (O_EXCL, which local disks and NFSv3+ honour) so that one process
 * at a time holds it. The holder renews the expiry from a worker thread: the work itself is synchronous CPU for
 * minutes, and a timer on the holder's own event loop would not fire until it ends. A lease is free again when
 * it is released, when its expiry has passed (a dead or frozen owner on any host: clocks must agree to within
 * the time to live, as NTP keeps them), or at once when its owner is on this host and its process is gone.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface LeaseOwner {
  host: string;
  pid: number;
  token: string;
  /** Milliseconds since the epoch after which the lease may be taken over. */
  expires: number;
}

export interface LeaseTiming {
  /** How long a lease lasts without renewal. */
  ttlMs: number;
  /** How often the holder renews it. */
  renewMs: number;
  /** How often a waiter looks again. */
  pollMs: number;
}

export const LEASE_TIMING: LeaseTiming = { ttlMs: 30_000, renewMs: 5_000, pollMs: 250 };

/** Whether a process of this host is running (a zombie, killed but not yet reaped, is not). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (name) S ..."; the state follows the last parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): kill(0) said it runs
  }
}

export function readLease(path: string): LeaseOwner | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LeaseOwner;
  } catch {
    return null; // gone, or being replaced this instant
  }
}

/** Why a lease held by `owner` may be taken over now (null: it may not). */
export function leaseLapsed(owner: LeaseOwner, now = Date.now()): string | null {
  if (now > owner.expires) return `its lease expired ${((now - owner.expires) / 1000).toFixed(0)} s ago`;
  if (owner.host === hostname() && !processAlive(owner.pid)) return `process ${owner.pid} is gone`;
  return null;
}

/**
 * Remove a lease left by a holder that died after finishing its work and before releasing it (the caller knows
 * the work is done); a live holder's lease stays.
 */
export function removeLapsedLease(path: string): void {
  const owner = existsSync(path) ? readLease(path) : null;
  if (owner && leaseLapsed(owner)) rmSync(path, { force: true });
}

function leaseText(owner: LeaseOwner): string {
  return `${JSON.stringify(owner)}\n`;
}

/**
 * The renewing thread: every renewMs it rewrites the lease with a later expiry (a temp file renamed over it,
 * so a reader never sees half of one), as long as the file still carries the holder's token.
 */
const RENEWER = `
const { workerData } = require('node:worker_threads');
const { readFileSync, writeFileSync, renameSync } = require('node:fs');
const { path, owner, ttlMs, renewMs } = workerData;
const tmp = path + '.' + owner.pid + '.renew.tmp';
setInterval(() => {
  try {
    if (JSON.parse(readFileSync(path, 'utf8')).token !== owner.token) return;
    writeFileSync(tmp, JSON.stringify({ ...owner, expires: Date.now() + ttlMs }) + '\\n');
    renameSync(tmp, path);
  } catch {}
}, renewMs);
`;

export interface HeldLease {
  owner: LeaseOwner;
  release(): Promise<void>;
}

/** Create the lease file exclusively; null if another holds it. */
function tryCreate(path: string, ttlMs: number): LeaseOwner | null {
  const owner: LeaseOwner = {
    host: hostname(),
    pid: process.pid,
    token: randomBytes(8).toString('hex'),
    expires: Date.now() + ttlMs,
  };
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw new Error(`cannot create the lease file ${path}: ${(error as Error).message}`);
  }
  try {
    writeSync(fd, leaseText(owner));
  } finally {
    closeSync(fd);
  }
  return owner;
}

/**
 * Take the lease at `path` once it is free, waiting while another live owner holds it. `stopWaiting` is asked
 * before each wait: when it says yes (the work was finished by the holder), resolves null without the lease.
 */
export async function acquireLease(
  path: string,
  stopWaiting: () => boolean,
  onWait: (holder: LeaseOwner) => void = () => {},
  timing: LeaseTiming = LEASE_TIMING,
): Promise<HeldLease | null> {
  let announced = false;
  for (;;) {
    const owner = tryCreate(path, timing.ttlMs);
    if (owner) return hold(path, owner, timing);
    const holder = readLease(path);
    if (holder && leaseLapsed(holder)) {
      // Move the lapsed lease aside under a name of our own, then check that it was the one judged lapsed: a
      // second taker that moved it first leaves us a newer lease (or none), which goes back.
      const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.lapsed`;
      try {
        renameSync(path, aside);
        const moved = readLease(aside);
        if (moved && moved.token !== holder.token && !existsSync(path)) renameSync(aside, path);
        else rmSync(aside, { force: true });
      } catch {
        // another taker was first; look again
      }
      continue;
    }
    if (stopWaiting()) return null;
    if (holder && !announced) {
      onWait(holder);
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, timing.pollMs));
  }
}

function hold(path: string, owner: LeaseOwner, timing: LeaseTiming): HeldLease {
  const renewer = new Worker(RENEWER, {
    eval: true,
    workerData: { path, owner, ttlMs: timing.ttlMs, renewMs: timing.renewMs },
  });
  renewer.unref();
  return {
    owner,
    release: async () => {
      await renewer.terminate();
      rmSync(`${path}.${owner.pid}.renew.tmp`, { force: true });
      // Only our own lease: one that lapsed and was taken over belongs to its new holder.
      if (readLease(path)?.token === owner.token) rmSync(path, { force: true });
    },
  };
}
