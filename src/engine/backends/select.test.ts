import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableBackends, getBackend, tryBackend } from './select.js';

test('the ts reference backend is always available', () => {
  assert.ok(availableBackends().includes('ts'));
  assert.equal(tryBackend('ts')?.name, 'ts');
});

test(
  'in CI the native addon is built and chosen by default',
  { skip: process.env.CI !== 'true' && 'not in CI' },
  () => {
    assert.ok(availableBackends().includes('native'), 'native addon failed to load in CI');
    if (!process.env.PHARMACIST_BACKEND) assert.equal(getBackend().name, 'native');
  },
);

test(
  'thread count follows the machine and can be set',
  { skip: !availableBackends().includes('native') && 'native addon not built' },
  () => {
    const native = tryBackend('native')!;
    const before = native.threads();
    assert.ok(before >= 1);
    native.setThreads(1);
    assert.equal(native.threads(), 1);
    native.setThreads(before);
    assert.equal(native.threads(), before);
  },
);

test('dropoutMultiply: the keep rate is 1 - p, the mask is a function of (seed, index), and the backends agree bit for bit', () => {
  const n = 200_003;
  const x = Float32Array.from({ length: n }, (_, i) => 1 + (i % 7));
  const masks = availableBackends().map((name) => {
    const be = tryBackend(name)!;
    const out = new Float32Array(n);
    be.dropoutMultiply(x, out, 0.25, 4 / 3, 12345);
    const again = x.slice();
    be.dropoutMultiply(again, again, 0.25, 4 / 3, 12345); // in place
    assert.deepEqual(again, out, `${name}: in place gives the same result`);
    return { name, out };
  });
  const kept = masks[0].out.filter((v) => v !== 0).length / n;
  assert.ok(Math.abs(kept - 0.75) < 0.005, `keep rate ${kept}`);
  masks[0].out.forEach((v, i) => {
    if (v !== 0) assert.equal(v, Math.fround(x[i] * (4 / 3)));
  });
  for (const m of masks.slice(1)) assert.deepEqual(m.out, masks[0].out, `${m.name} vs ${masks[0].name}`);
  const other = new Float32Array(n);
  tryBackend('ts')!.dropoutMultiply(x, other, 0.25, 4 / 3, 12346);
  const same = other.filter((v, i) => (v === 0) === (masks[0].out[i] === 0)).length / n;
  assert.ok(same < 0.7, `another seed draws another mask (agreement ${same}, independent ~0.625)`);
});
