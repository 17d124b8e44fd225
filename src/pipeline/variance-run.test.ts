import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nestedVarianceComponents } from '../eval/variance.js';
import type { CellResult } from './grid.js';
import { stageSeeds } from './seeds.js';
import { varianceByArm } from './variance-run.js';

/** A cell of a crossed-seed grid with a harmful score from 100 prompts (other fields as the grid writes them). */
function cell(selector: string, seeds: { select: number; align: number; attack: number; world?: number }, hs: number) {
  const verdicts = Array.from({ length: 100 }, (_, i) => (i < hs ? 1 : 0));
  return {
    selector,
    ratio: 0.4,
    defense: 'sft',
    task: 'agnews',
    n: 500,
    p: 0.1,
    seed: 0,
    seeds: stageSeeds(0, seeds),
    harmful_score: hs,
    harmful_verdicts: verdicts,
  } as unknown as CellResult;
}

const design = (selector: string, score: (s: number, a: number, t: number) => number, world?: number) =>
  [1, 2].flatMap((select) =>
    [1, 2, 3].flatMap((align) =>
      [1, 2].map((attack) => cell(selector, { select, align, attack, world }, score(select, align, attack))),
    ),
  );

test('variance by arm: each arm of a crossed-seed grid is decomposed on its own nest of seeds', () => {
  const a = design('pharmacist', (s, al, t) => 30 + 10 * s + 3 * al + t);
  const b = design('random', (s, al, t) => 40 + 2 * al * t);
  const arms = varianceByArm([...a, ...b]);
  assert.deepEqual(
    arms.map((x) => [x.arm, x.cells]),
    [
      ['pharmacist 0.4 + sft', 12],
      ['random 0.4 + sft', 12],
    ],
  );
  const direct = nestedVarianceComponents(
    a.map((r) => ({
      selection: r.seeds.select,
      alignment: r.seeds.align,
      attack: r.seeds.attack,
      score: r.harmful_score,
      prompts: 100,
    })),
  );
  assert.deepEqual(arms[0].components, direct);
  assert.ok(arms[0].components.selection > arms[1].components.selection, 'the selection seed drives arm a only');
});

test('variance by arm: several worlds, or an unbalanced nest, are errors that name the arm', () => {
  const mixed = [...design('random', () => 40), ...design('random', () => 40, 9)];
  assert.throws(() => varianceByArm(mixed), /random 0\.4 \+ sft: 2 world seeds/);
  assert.throws(() => varianceByArm(design('random', () => 40).slice(1)), /random 0\.4 \+ sft: variance: .*attacks/);
});
