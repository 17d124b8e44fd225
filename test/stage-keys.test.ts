/**
 * The stage folder names are the grid's cache: a run resumes, and grids share stages, only while the same cell
 * of the same config names the same folders. These names were computed once and are pinned here, so that a
 * refactoring of the grid that changes any stage key (and with it orphans every cached stage) fails loudly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveGridConfig } from '../src/pipeline/grid-config.js';
import { stageDirs, type GridCell } from '../src/pipeline/grid.js';
import { stageSeeds } from '../src/pipeline/seeds.js';

const base = { ratio: 0.4, defense: 'sft', task: 'agnews', n: 10, p: 0.1, seed: 0, seeds: stageSeeds(0) };

test('stage keys are pinned: the same config and cell name the same stage folders as before', () => {
  const config = resolveGridConfig({ attack: { flow: 'double' } });
  const cells: [GridCell, string[]][] = [
    [
      { ...base, selector: 'random' },
      ['select-7e3bae51a56d2cd2', 'align-66d807c1ee755b2f', 'attack-f5873ae8d92d6c07', 'eval-25fd2b3b913eaa1d'],
    ],
    [
      { ...base, selector: 'full-steps', ratio: 0.2 },
      ['select-b6d99a9ab9f88831', 'align-138198361aa8ebe2', 'attack-1db8f64b4f14b98a', 'eval-5a1f4c5b145df267'],
    ],
    [
      { ...base, selector: 'pharmacist', defense: 'lisa', seed: 1, seeds: stageSeeds(1, { eval: 7 }) },
      ['select-e7b39a5fe0a09e82', 'align-9ca5e00a5cda043e', 'attack-8b83e9b1787d2888', 'eval-e2718e4a42258a1b'],
    ],
  ];
  for (const [cell, names] of cells) {
    const dirs = stageDirs(config, cell, 'h', 'j');
    assert.equal(dirs.flow, 'double');
    assert.deepEqual(
      [dirs.select, dirs.align, dirs.attack, dirs.eval],
      names.map((n) => join('runs/grid/stages', n)),
      `${cell.selector} + ${cell.defense}`,
    );
  }
});

test("stage keys are pinned: under flow 'auto' the attack and eval keys follow the alignment's done.json", () => {
  const dir = mkdtempSync(join(tmpdir(), 'pharmacist-stage-keys-'));
  const config = resolveGridConfig({ run_dir: dir, grid: { task: ['sst2'] } });
  assert.equal(config.attack.flow, 'auto');
  const cell: GridCell = { ...base, selector: 'full', ratio: 1, defense: 'booster', task: 'sst2' };
  const stages = join(dir, 'stages');
  const before = stageDirs(config, cell, 'h', 'j');
  assert.deepEqual(before, {
    select: join(stages, 'select-b6d99a9ab9f88831'),
    align: join(stages, 'align-278339bee1b79749'),
    flow: null,
    attack: null,
    eval: null,
  });
  mkdirSync(before.align, { recursive: true });
  writeFileSync(join(before.align, 'done.json'), JSON.stringify({ seconds: 1, flow: 'single' }));
  assert.deepEqual(stageDirs(config, cell, 'h', 'j'), {
    select: join(stages, 'select-b6d99a9ab9f88831'),
    align: join(stages, 'align-278339bee1b79749'),
    flow: 'single',
    attack: join(stages, 'attack-b1254a766cab0422'),
    eval: join(stages, 'eval-d2c5a845f9de6da4'),
  });
});

test("the judge's folder stays out of the keys (its content hash keys the verdicts); grids can set it", async () => {
  const { judgeOptionsOf } = await import('../src/pipeline/grid-config.js');
  const cell: GridCell = { ...base, selector: 'random' };
  const plain = resolveGridConfig({ attack: { flow: 'double' } });
  const moved = resolveGridConfig({ attack: { flow: 'double' }, eval: { judge_dir: '/elsewhere/judge' } });
  assert.equal(plain.eval.judge_dir, null);
  assert.deepEqual(judgeOptionsOf(moved), {
    judgeDir: '/elsewhere/judge',
    url: null,
    modelName: null,
    judgeFormat: 'classifier',
  });
  assert.deepEqual(stageDirs(moved, cell, 'h', 'j'), stageDirs(plain, cell, 'h', 'j'));
  // Another judge (another content hash) is another attack and evaluation, the same selection and alignment.
  const other = stageDirs(moved, cell, 'h', 'k');
  assert.equal(other.align, stageDirs(plain, cell, 'h', 'j').align);
  assert.notEqual(other.eval, stageDirs(plain, cell, 'h', 'j').eval);
});

test("the monitoring curves' sizes key the stage that measures them, and only away from their defaults", () => {
  const cell: GridCell = { ...base, selector: 'random' };
  const plain = stageDirs(resolveGridConfig({ attack: { flow: 'double' } }), cell, 'h', 'j');
  const named = (evalSection: object) =>
    stageDirs(resolveGridConfig({ attack: { flow: 'double' }, eval: evalSection }), cell, 'h', 'j');
  assert.deepEqual(named({ validation_curve: null, harmful_curve: 200 }), plain, 'the defaults are the old keys');
  // The default validation curve is the whole set, whatever its size: any number is another setting.
  assert.notEqual(named({ validation_curve: 200 }).align, plain.align);
  const validation = named({ validation_curve: 50 });
  assert.equal(validation.select, plain.select);
  assert.notEqual(validation.align, plain.align, 'the alignment record holds the validation curve');
  const harmful = named({ harmful_curve: 0 });
  assert.equal(harmful.align, plain.align);
  assert.notEqual(harmful.attack, plain.attack, 'the attack record holds the harmful curve');
  assert.notEqual(harmful.eval, plain.eval, 'the evaluation follows its attack');
});
