// npm run soak:queue: a grid on a queue of three workers, one of them killed (SIGKILL, now and then with its
// stage process, as a machine lost) at random moments, 20 times in all (more rounds of the grid, each in a
// fresh run_dir, until 20 kills have been made), a new worker started after each kill. Checks, each round:
// 0 lost cells (every cell in results.json), 0 corrupt stages (every stage folder has its done.json, every
// evaluation its responses.json, no lease or temp file left), results identical to the single-process run.
// Flags: --kills N (20), --workers N (3), --lock-seconds S (2). Not part of npm test (minutes). Last line JSON.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import {
  comparableResults,
  leftovers,
  pharmacist,
  startRedis,
  startWorker,
  storeCensus,
} from '../dist/test/queue-harness.js';
import { writeTinyModel } from '../dist/test/tiny-model.js';

const { values: args } = parseArgs({
  options: {
    kills: { type: 'string', default: '20' },
    workers: { type: 'string', default: '3' },
    'lock-seconds': { type: 'string', default: '2' },
  },
});
const kills = Number(args.kills),
  workerCount = Number(args.workers),
  lockSeconds = Number(args['lock-seconds']);
const dir = mkdtempSync(join(tmpdir(), 'pharmacist-soak-'));
const model = writeTinyModel(join(dir, 'model'));
const log = (line) => console.error(`[soak] ${line}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// 12 cells: 4 selections, 6 alignments, 12 attacks and evaluations; long enough stages to be killed in.
function gridFile(name) {
  const runDir = join(dir, name);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      model,
      run_dir: runDir,
      workers: 1,
      world: { pool_size: 16, validation_size: 4, harmful_size: 4, eval_harmful: 4, eval_task: 4 },
      grid: { selector: ['full', 'random'], ratio: [0.5, 0.25], task: ['agnews'], n: [8, 6], p: [0.5], seed: [0, 1] },
      select: { max_length: 48 },
      align: { epochs: 2, batch_size: 4, max_length: 48 },
      attack: { epochs: 2, batch_size: 3, max_length: 48 },
      eval: { judge: 'keyword', max_new_tokens: 4, probe_prompts: 2 },
    }),
  );
  return { file, runDir };
}

const children = [];
const redis = await startRedis(join(dir, 'redis'));
try {
  log(`reference: the grid in one process (${dir})`);
  const local = gridFile('local');
  const ref = pharmacist(['run', local.file]);
  children.push(ref);
  assert.equal(await ref.exited, 0, ref.lines.join('\n'));
  const reference = comparableResults(local.runDir);
  const referenceStages = storeCensus(join(local.runDir, 'stages')).counts;

  let killed = 0,
    round = 0,
    withStage = 0;
  const rounds = [];
  while (killed < kills) {
    round++;
    const { file, runDir } = gridFile(`round-${round}`);
    const pool = Array.from({ length: workerCount }, () => startWorker(redis.url, {}, lockSeconds));
    children.push(...pool);
    const coordinator = pharmacist(['run', file, '--queue', redis.url]);
    children.push(coordinator);
    let finished = false;
    void coordinator.exited.then(() => (finished = true));
    const t0 = Date.now();
    let killedThisRound = 0;
    while (!finished) {
      await sleep(300 + Math.random() * 1500);
      if (finished || killed >= kills) continue;
      const alive = pool.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
      const victim = alive[Math.floor(Math.random() * alive.length)];
      if (!victim) continue;
      // Half the time the stage process goes too (a machine lost), found through the lease it holds.
      const stages = join(runDir, 'stages');
      const leases = existsSync(stages) ? readdirSync(stages).filter((f) => f.endsWith('.lease')) : [];
      if (Math.random() < 0.5 && leases.length > 0) {
        try {
          const owner = JSON.parse(readFileSync(join(stages, leases[0]), 'utf8'));
          process.kill(owner.pid, 'SIGKILL');
          withStage++;
        } catch {
          // released in the meantime
        }
      }
      victim.child.kill('SIGKILL');
      killed++;
      killedThisRound++;
      const replacement = startWorker(redis.url, {}, lockSeconds);
      pool.push(replacement);
      children.push(replacement);
      log(`round ${round}: kill ${killed}/${kills} (pid ${victim.child.pid})`);
    }
    const code = await coordinator.exited;
    assert.equal(code, 0, `round ${round}: the coordinator failed:\n${coordinator.lines.slice(-30).join('\n')}`);
    const results = comparableResults(runDir);
    const census = storeCensus(join(runDir, 'stages'));
    const corrupt = [...census.unfinished];
    for (const name of readdirSync(join(runDir, 'stages')).filter((n) => n.startsWith('eval-')))
      try {
        JSON.parse(readFileSync(join(runDir, 'stages', name, 'responses.json'), 'utf8'));
      } catch {
        corrupt.push(`${name}/responses.json`);
      }
    const lost = reference.length - results.length;
    const left = leftovers(join(runDir, 'stages'));
    assert.equal(lost, 0, `round ${round}: ${lost} cells lost`);
    assert.deepEqual(corrupt, [], `round ${round}: corrupt stages`);
    assert.deepEqual(left, [], `round ${round}: leases or temp files left`);
    assert.deepEqual(census.counts, referenceStages, `round ${round}: not one folder per stage`);
    assert.deepEqual(results, reference, `round ${round}: results differ from the single-process run`);
    rounds.push({ round, kills: killedThisRound, seconds: (Date.now() - t0) / 1000, stages: census.counts });
    log(`round ${round}: ${results.length} cells, identical results, ${killedThisRound} kills`);
    for (const p of pool) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.all(pool.map((p) => p.exited));
  }
  console.log(
    JSON.stringify({
      soak: 'queue',
      kills: killed,
      kills_with_stage_process: withStage,
      rounds,
      lost_cells: 0,
      corrupt_stages: 0,
      identical: true,
    }),
  );
} finally {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
