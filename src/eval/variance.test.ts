/**
 * The nested variance decomposition against test/fixtures/variance/reference.json (exact textbook ANOVA in
 * plain Python: scripts/fixtures/variance_reference.py), a simulation from known components, and the errors
 * an unbalanced design must raise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Rng } from '../engine/index.js';
import {
  formatVarianceTable,
  nestedVarianceComponents,
  type NestedObservation,
  type VarianceComponents,
  formatProtocolTable,
  projectedVariance,
  seedsForHalfWidth,
} from './variance.js';

const fixture = fileURLToPath(new URL('../../../test/fixtures/variance/reference.json', import.meta.url));
const reference = JSON.parse(readFileSync(fixture, 'utf8')) as {
  cases: { name: string; observations: NestedObservation[]; expected: Record<string, unknown> }[];
};

/** Every number in `expected` matches the same path in `actual` to 1e-9 relative (absolute near 0). */
function assertClose(actual: unknown, expected: unknown, path: string): void {
  if (typeof expected === 'number') {
    assert.equal(typeof actual, 'number', `${path} is not a number`);
    const tol = 1e-9 * Math.max(1, Math.abs(expected));
    assert.ok(Math.abs((actual as number) - expected) <= tol, `${path}: ${actual as number} vs ${expected}`);
  } else {
    for (const [k, v] of Object.entries(expected as object)) assertClose((actual as never)[k], v, `${path}.${k}`);
  }
}

/** The components before truncation at 0, from the mean squares (the estimators that are unbiased). */
function untruncated(v: VarianceComponents) {
  const { alignmentsPerSelection: b, attacksPerAlignment: c } = v.design;
  const ms = v.meanSquares;
  return {
    selection: (ms.selection - ms.alignment) / (b * c),
    alignment: (ms.alignment - ms.attack) / c,
    attack: ms.attack - v.evaluation,
  };
}

test('variance components match the Python reference (3x3x3, truncating 3x2x4, nested 2x2x2)', () => {
  assert.equal(reference.cases.length, 3);
  for (const { name, observations, expected } of reference.cases) {
    const v = nestedVarianceComponents(observations);
    const { components, untruncated: raw, ...rest } = expected as { components: object; untruncated: object };
    assertClose(v, components, name);
    assertClose(v, rest, name);
    assertClose(untruncated(v), raw, `${name} untruncated`);
  }
  const truncating = nestedVarianceComponents(reference.cases[1].observations);
  assert.equal(truncating.selection, 0, 'negative selection estimate truncates to 0');
  assert.equal(truncating.attack, 0, 'negative attack estimate truncates to 0');
});

test('the Markdown table lists the four components and the total, with the design below', () => {
  const table = formatVarianceTable(nestedVarianceComponents(reference.cases[0].observations));
  const lines = table.split('\n');
  assert.equal(lines[0], '| component | variance (points²) | SD (points) | share % |');
  assert.deepEqual(
    lines.slice(2, 7).map((l) => l.split(' | ')[0]),
    ['| selection', '| alignment', '| attack', '| evaluation (binomial)', '| total'],
  );
  assert.equal(lines[2], '| selection | 59.62 | 7.72 | 68.2 |');
  assert.equal(lines[6], '| total | 87.41 | 9.35 | 100.0 |');
  assert.match(lines[8], /^Design: 3 × 3 × 3 .*m = 200 prompts, grand mean HS 41\.24 points\.$/);
});

test('simulation: the untruncated estimates are unbiased for known components (a = b = c = 8)', () => {
  const truth = { selection: 16, alignment: 9, attack: 25 };
  const [a, b, c, m, mu] = [8, 8, 8, 200, 40];
  const evaluation = (1e4 * (mu / 100) * (1 - mu / 100)) / m; // 12 points^2, drawn here as a normal
  const rng = new Rng(20240611);
  const reps = 200;
  const est = { selection: [] as number[], alignment: [] as number[], attack: [] as number[] };
  for (let r = 0; r < reps; r++) {
    const obs: NestedObservation[] = [];
    for (let i = 0; i < a; i++) {
      const si = mu + Math.sqrt(truth.selection) * rng.normal();
      for (let j = 0; j < b; j++) {
        const aij = si + Math.sqrt(truth.alignment) * rng.normal();
        for (let k = 0; k < c; k++) {
          const score = aij + Math.sqrt(truth.attack) * rng.normal() + Math.sqrt(evaluation) * rng.normal();
          obs.push({ selection: i, alignment: j, attack: k, score, prompts: m });
        }
      }
    }
    const u = untruncated(nestedVarianceComponents(obs));
    for (const key of ['selection', 'alignment', 'attack'] as const) est[key].push(u[key]);
  }
  for (const key of ['selection', 'alignment', 'attack'] as const) {
    const xs = est[key];
    const mean = xs.reduce((s, x) => s + x, 0) / reps;
    const se = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (reps - 1) / reps);
    // Theory (2 E[MS]^2 / df per mean square) gives SEs of about 0.67, 0.18, 0.18: 4 SE is a real check.
    assert.ok(se < 0.1 * truth[key], `${key}: SE ${se} too large for the check to mean anything`);
    assert.ok(Math.abs(mean - truth[key]) < 4 * se, `${key}: mean estimate ${mean} vs truth ${truth[key]} (SE ${se})`);
  }
});

/** A balanced a x b x c design with a spread of scores, ids 0.. at each level. */
function design(a: number, b: number, c: number, prompts = 100): NestedObservation[] {
  const out: NestedObservation[] = [];
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++)
      for (let k = 0; k < c; k++)
        out.push({ selection: i, alignment: j, attack: k, score: 30 + 3 * i + 2 * j + k, prompts });
  return out;
}

test('unbalanced, duplicate and too-small designs throw errors that name the problem', () => {
  assert.doesNotThrow(() => nestedVarianceComponents(design(2, 2, 2)));
  const missingAlignment = design(3, 3, 2).filter((o) => !(o.selection === 2 && o.alignment === 1));
  assert.throws(() => nestedVarianceComponents(missingAlignment), /selection "2" has 2 alignments, expected 3/);
  const missingAttack = design(2, 2, 3).filter((o) => !(o.selection === 1 && o.alignment === 0 && o.attack === 2));
  assert.throws(
    () => nestedVarianceComponents(missingAttack),
    /alignment "0" of selection "1" has 2 attacks, expected 3/,
  );
  const prompts = design(2, 2, 2);
  prompts[5] = { ...prompts[5], prompts: 50 };
  assert.throws(() => nestedVarianceComponents(prompts), /attack "1" has 50 prompts, expected 100/);
  const duplicate = [...design(2, 2, 2), { selection: 1, alignment: 0, attack: 1, score: 50, prompts: 100 }];
  assert.throws(
    () => nestedVarianceComponents(duplicate),
    /duplicate observation for selection "1", alignment "0", attack "1"/,
  );
  assert.throws(() => nestedVarianceComponents([]), /no observations/);
  assert.throws(() => nestedVarianceComponents(design(1, 2, 2)), /at least 2 selections, got 1/);
  assert.throws(() => nestedVarianceComponents(design(2, 1, 2)), /at least 2 alignments per selection "0", got 1/);
  assert.throws(() => nestedVarianceComponents(design(2, 2, 1)), /at least 2 attacks per alignment "0"/);
});

test('protocol projection: repeats divide the attack and evaluation parts, prompts the evaluation part only', () => {
  const v = {
    selection: 4,
    alignment: 1,
    attack: 20,
    evaluation: 12,
    design: { selections: 3, alignmentsPerSelection: 2, attacksPerAlignment: 2, prompts: 200 },
  } as VarianceComponents;
  assert.equal(projectedVariance(v, { repeats: 1, prompts: 200 }), 37);
  assert.equal(projectedVariance(v, { repeats: 2, prompts: 200 }), 5 + 32 / 2);
  assert.equal(projectedVariance(v, { repeats: 1, prompts: 500 }), 5 + 20 + 12 * 0.4);
  // n = 22 is the first n with t(0.975, n-1) 9 / sqrt(n) <= 4: 2.080 * 9 / 4.690 = 3.99; n = 21: 4.10.
  assert.equal(seedsForHalfWidth(9, 4), 22);
  assert.equal(seedsForHalfWidth(0, 4), 2);
  const table = formatProtocolTable(v, v, [{ repeats: 1, prompts: 200 }]).split('\n');
  assert.equal(
    table[2],
    `| 1 | 200 | ${Math.sqrt(74).toFixed(2)} | ${seedsForHalfWidth(Math.sqrt(74), 4)} | ${seedsForHalfWidth(Math.sqrt(74), 4)} |`,
  );
});
