/**
 * The grid on a queue, end to end on the tiny model: each test starts its own redis-server on a free loopback
 * port and `pharmacist worker` processes (one kernel thread each, as the local reference run), and checks the
 * queued run's results against the local run's. Faults: a worker and its stage killed mid-stage, Redis
 * restarted mid-run, a stage that throws. And the local mode's lease: two runs on one run_dir compute each
 * stage once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { stringify } from 'yaml';
import { loadGridConfig } from '../src/pipeline/grid-config.js';
import { planGrid } from '../src/pipeline/grid-plan.js';
import { QUEUE_NAME, QUEUE_PREFIX, redisClient } from '../src/queue/connection.js';
import { runIdOf } from '../src/queue/coordinator.js';
import { FAIL_STAGE_ENV, stageFolder, type StageJobData } from '../src/queue/stage-job.js';
import { codeVersion, incompatibility } from '../src/queue/version.js';
import { processAlive, readLease, type LeaseOwner } from '../src/io/lease.js';
import {
  comparableResults,
  leftovers,
  pharmacist,
  startRedis,
  startWorker,
  storeCensus,
  waitFor,
  type Proc,
  type RedisServer,
} from './queue-harness.js';
import { writeTinyModel } from './tiny-model.js';

let dir: string;
let model: string;
/** The local run's comparable rows, by cell (selector and n). */
let reference: unknown[];
/** The reference's rows of the small grid (n = 6). */
const smallReference = () => reference.filter((row) => (row as { n: number }).n === 6);
const procs: Proc[] = [];
const servers: RedisServer[] = [];

/**
 * A grid of four cells (two selections, two alignments, four attacks and evaluations) under `name`; `small`:
 * its two cells of n = 6 (two of each stage), for the fault tests.
 */
function gridFile(
  name: string,
  small: boolean,
  overrides: Record<string, unknown> = {},
): { file: string; runDir: string } {
  const runDir = join(dir, name);
  const config = {
    model,
    run_dir: runDir,
    workers: 1,
    world: { pool_size: 8, validation_size: 4, harmful_size: 4, eval_harmful: 2, eval_task: 2 },
    grid: {
      selector: ['full', 'random'],
      ratio: [0.5],
      defense: ['sft'],
      task: ['agnews'],
      n: small ? [6] : [6, 4],
      p: [0.5],
      seed: [0],
    },
    select: { max_length: 40 },
    align: { epochs: 1, batch_size: 4, max_length: 40 },
    attack: { epochs: 1, batch_size: 3, max_length: 40 },
    eval: { judge: 'keyword', max_new_tokens: 2, probe_prompts: 1 },
    ...overrides,
  };
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(config));
  return { file, runDir };
}

function workers(url: string, n: number, env: Record<string, string> = {}): Proc[] {
  const started = Array.from({ length: n }, () => startWorker(url, env));
  procs.push(...started);
  return started;
}

async function redis(name: string, extra?: string[]): Promise<RedisServer> {
  const server = await startRedis(join(dir, name), extra);
  servers.push(server);
  return server;
}

async function runQueued(file: string, url: string, extra: string[] = []): Promise<{ code: number; lines: string[] }> {
  const coordinator = pharmacist(['run', file, '--queue', url, ...extra]);
  procs.push(coordinator);
  return { code: await coordinator.exited, lines: coordinator.lines };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pharmacist-queue-'));
  model = writeTinyModel(join(dir, 'model'));
  // The local run, one process, one kernel thread (as each worker): the results every queued run must give.
  const { file, runDir } = gridFile('local', false);
  const local = pharmacist(['run', file]);
  assert.equal(await local.exited, 0, local.lines.join('\n'));
  reference = comparableResults(runDir);
  assert.equal(reference.length, 4);
});

after(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('queue: three workers give the local run results; a rerun re-attaches and computes nothing', async () => {
  const server = await redis('redis-three');
  const { file, runDir } = gridFile('three', false);
  const pool = workers(server.url, 3);
  const first = await runQueued(file, server.url);
  assert.equal(first.code, 0, first.lines.join('\n'));
  assert.deepEqual(comparableResults(runDir), reference);
  assert.ok(existsSync(join(runDir, 'report.md')), 'the report, as the local run writes it');
  assert.ok(first.lines.some((l) => /cells 4\/4 done, 0 failed/.test(l)));
  assert.ok(
    first.lines.some((l) => /ETA/.test(l)),
    'progress lines with an ETA',
  );
  const census = storeCensus(join(runDir, 'stages'));
  assert.deepEqual(census.counts, { select: 2, align: 2, attack: 4, eval: 4 });
  assert.deepEqual(census.unfinished, []);
  const ran = (p: Proc) => p.lines.filter((l) => /\] started \(attempt/.test(l)).length;
  assert.equal(
    pool.map(ran).reduce((a, b) => a + b),
    12,
    'one job per stage, shared stages once',
  );
  assert.ok(pool.filter((p) => ran(p) > 0).length >= 2, 'the stages spread over the workers');

  const status = pharmacist(['status', '--queue', server.url, '--run', runDir, '--json']);
  assert.equal(await status.exited, 0);
  const parsed = JSON.parse(status.lines.find((l) => l.startsWith('{'))!);
  assert.deepEqual(parsed.counts, { waiting: 0, active: 0, done: 12, failed: 0 });
  assert.equal(parsed.runs[0].status, 'done');

  const again = await runQueued(file, server.url);
  assert.equal(again.code, 0);
  assert.equal(
    pool.map(ran).reduce((a, b) => a + b),
    12,
    'the rerun re-attached: no stage enqueued again',
  );
  assert.deepEqual(comparableResults(runDir), reference);
});

test('queue: a worker killed mid-stage loses nothing; its stage process ends with it', async () => {
  const server = await redis('redis-kill');
  const { file, runDir } = gridFile('kill', true);
  const stages = join(runDir, 'stages');
  const [victim] = workers(server.url, 1);
  const coordinator = pharmacist(['run', file, '--queue', server.url]);
  procs.push(coordinator);
  // An alignment under its lease: its stage process is computing it. Kill the worker: its stage process, left
  // without a parent, must end itself (else it would compute on unseen, holding the lease).
  let lease = '';
  await waitFor('an alignment computing', () => {
    lease = existsSync(stages) ? (readdirSync(stages).find((f) => /^align-.*\.lease$/.test(f)) ?? '') : '';
    return lease !== '';
  });
  // The lease file exists a moment before its owner is written into it.
  let owner: LeaseOwner | null = null;
  await waitFor('the lease written', () => (owner = readLease(join(stages, lease))) !== null);
  victim.child.kill('SIGKILL');
  await waitFor('the orphaned stage process to end', () => !processAlive(owner!.pid), 3000);
  // The orphan notices its parent is gone within half a second: a stage that finishes sooner is done (its
  // folder complete and correct); one that does not must go to the other worker.
  const killedStage = lease.replace(/\.lease$/, '');
  const finishedByOrphan = existsSync(join(stages, killedStage, 'done.json'));
  // Until another worker finds it stalled, its job stays active on the killed worker: status says which.
  const status = pharmacist(['status', '--queue', server.url, '--run', runDir, '--json']);
  assert.equal(await status.exited, 0);
  const { active } = JSON.parse(status.lines.find((l) => l.startsWith('{'))!) as { active: { job: string }[] };
  assert.deepEqual(
    active.map((a) => ({ ...a, seconds: 0 })),
    [{ job: killedStage, run: runIdOf(loadGridConfig(file)), worker: `${hostname()}:${victim.child.pid}`, seconds: 0 }],
  );
  const [rescuer] = workers(server.url, 1);
  assert.equal(await coordinator.exited, 0, coordinator.lines.join('\n'));
  assert.ok(
    finishedByOrphan || rescuer.lines.some((l) => l.startsWith(`[${killedStage}] started`)),
    'the stalled job went to the other worker',
  );
  assert.deepEqual(comparableResults(runDir), smallReference());
  const census = storeCensus(stages);
  assert.deepEqual(census.counts, { select: 2, align: 2, attack: 2, eval: 2 }, 'one folder per stage');
  assert.deepEqual(census.unfinished, []);
  assert.deepEqual(leftovers(stages), [], 'no lease or temp file left');
});

test('queue: Redis restarted mid-run; the run completes with the same results', async () => {
  const server = await redis('redis-restart');
  const { file, runDir } = gridFile('restart', true);
  workers(server.url, 2);
  const coordinator = pharmacist(['run', file, '--queue', server.url]);
  procs.push(coordinator);
  const stages = join(runDir, 'stages');
  await waitFor('a first stage done', () => existsSync(stages) && storeCensus(stages).counts.select === 2);
  await server.stop();
  await new Promise((r) => setTimeout(r, 500));
  await server.start();
  assert.equal(await coordinator.exited, 0, coordinator.lines.join('\n'));
  assert.deepEqual(comparableResults(runDir), smallReference());
  assert.deepEqual(storeCensus(stages).unfinished, []);
});

test('queue: a failing stage is retried, then reported while the other cells finish; a rerun retries it', async () => {
  const server = await redis('redis-fail');
  // flow: double names the attack folders before any alignment runs, so the test can pick one to fail.
  const { file, runDir } = gridFile('fail', true, {
    attack: { epochs: 1, batch_size: 3, max_length: 40, flow: 'double' },
  });
  const grid = planGrid(loadGridConfig(file));
  const failing = stageFolder(grid, grid.cells[1], 'attack')!.split('/').pop()!;
  const [faulty] = workers(server.url, 1, { [FAIL_STAGE_ENV]: failing });
  const first = await runQueued(file, server.url, ['--attempts', '2', '--backoff', '0.2']);
  assert.equal(first.code, 1, 'failed cells make the run fail');
  assert.ok(
    first.lines.some(
      (l) => l.includes(`cell 2: attack stage ${failing} failed after 2 tries`) && l.includes(FAIL_STAGE_ENV),
    ),
    first.lines.join('\n'),
  );
  assert.equal(faulty.lines.filter((l) => l.startsWith(`[${failing}] started`)).length, 2, 'tried twice');
  const partial = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
  assert.equal(partial.results.length, 1, 'the other cell went on');
  assert.equal(partial.status, 'running');
  const status = pharmacist(['status', '--queue', server.url, '--run', runDir]);
  assert.equal(await status.exited, 0);
  assert.ok(status.lines.some((l) => l.includes(`failed ${failing}`) && l.includes('2 tries')));

  faulty.child.kill('SIGTERM');
  await faulty.exited;
  workers(server.url, 1);
  const rerun = await runQueued(file, server.url);
  assert.equal(rerun.code, 0, rerun.lines.join('\n'));
  assert.ok(rerun.lines.some((l) => l.includes(`${failing}: failed in an earlier attempt`)));
  assert.equal(JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')).results.length, 2);
});

test('queue: bad input is named: the URL, Redis without persistence, another build or model, an unwritable store', async () => {
  const refused = pharmacist(['status', '--queue', 'redis://127.0.0.1:1/0']);
  assert.notEqual(await refused.exited, 0);
  assert.ok(refused.lines.some((l) => /cannot use the Redis at redis:\/\/127\.0\.0\.1:1\/0: .*ECONNREFUSED/.test(l)));
  const scheme = pharmacist(['worker', '--queue', 'http://127.0.0.1:80']);
  assert.notEqual(await scheme.exited, 0);
  assert.ok(scheme.lines.some((l) => l.includes('"http://127.0.0.1:80": the scheme must be redis://')));

  const volatile = await redis('redis-volatile', ['--appendonly', 'no']);
  const status = pharmacist(['status', '--queue', volatile.url]);
  assert.equal(await status.exited, 0);
  assert.ok(status.lines.some((l) => l.startsWith('warning:') && l.includes('neither an append-only file')));

  // Jobs as a coordinator of another build, or with a store this worker cannot write (a path through a file),
  // would enqueue them: the worker puts each back untried and stops, naming both sides.
  const { file } = gridFile('bad', true);
  const config = loadGridConfig(file);
  const plan = planGrid(config);
  const select = stageFolder(plan, plan.cells[0], 'select')!.split('/').pop()!;
  writeFileSync(join(dir, 'a-file'), '');
  const connection = redisClient(volatile.url);
  const queue = new Queue<StageJobData>(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
  const data: StageJobData = {
    run: 'run-x',
    stage: 'select',
    cell: 0,
    config,
    codeVersion: '0.0.1+000000000000',
    modelHash: plan.modelHash,
  };
  try {
    await queue.add('select', data, { jobId: select });
    const other = startWorker(volatile.url);
    procs.push(other);
    assert.equal(await other.exited, 2);
    assert.ok(
      other.lines.some((l) => l.includes('refused') && l.includes('0.0.1+000000000000') && l.includes(codeVersion())),
      other.lines.join('\n'),
    );
    const job = await queue.getJob(select);
    assert.equal(job!.attemptsMade, 0, 'a refusal does not use up a try');
    assert.ok(['delayed', 'waiting'].includes(await job!.getState()));
    await job!.remove();

    // Jobs planned for other model weights than this worker's copy of the model folder: refused the same way.
    const otherWeights = 'f'.repeat(64);
    await queue.add('select', { ...data, codeVersion: codeVersion(), modelHash: otherWeights }, { jobId: select });
    const otherModel = startWorker(volatile.url);
    procs.push(otherModel);
    assert.equal(await otherModel.exited, 2);
    assert.ok(
      otherModel.lines.some(
        (l) =>
          l.includes('refused') && l.includes(`sha256 ${otherWeights} for the run, ${plan.modelHash} on this worker`),
      ),
      otherModel.lines.join('\n'),
    );
    const modelJob = await queue.getJob(select);
    assert.equal(modelJob!.attemptsMade, 0, 'a refusal does not use up a try');
    await modelJob!.remove();

    const unwritable = { ...config, stages_dir: join(dir, 'a-file', 'stages') };
    await queue.add('select', { ...data, config: unwritable, codeVersion: codeVersion() }, { jobId: select });
    const blocked = startWorker(volatile.url);
    procs.push(blocked);
    assert.equal(await blocked.exited, 2);
    assert.ok(
      blocked.lines.some((l) => l.includes(`the stage store ${join(dir, 'a-file', 'stages')} is not writable`)),
    );
  } finally {
    await queue.close();
    connection.disconnect();
  }
  assert.match(
    incompatibility(
      { codeVersion: 'a', modelHash: 'm1', model: '/m' },
      { codeVersion: 'a', modelHash: 'm2', model: '/m' },
      'h',
    )!,
    /model \/m has weights sha256 m1 for the run, m2 on this worker \(h\)/,
  );
});

test('local lease: two concurrent runs on one run_dir compute each stage once', async () => {
  const { file, runDir } = gridFile('two-local', true);
  const [a, b] = [pharmacist(['run', file]), pharmacist(['run', file])];
  assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0], [...a.lines, ...b.lines].join('\n'));
  const all = [...a.lines, ...b.lines];
  assert.equal(all.filter((l) => /selecting with/.test(l)).length, 2, 'each selection computed once');
  // Each training (two alignments, two attacks) prints its first step once.
  assert.equal(all.filter((l) => /^\s*step 1\//.test(l)).length, 4, 'each alignment and attack computed once');
  assert.ok(
    all.some((l) => /waiting for its done\.json/.test(l)),
    'one run waited for the other',
  );
  assert.deepEqual(comparableResults(runDir), smallReference());
  assert.deepEqual(leftovers(join(runDir, 'stages')), []);
});
