import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableBackends, getBackend, tryBackend } from './select.js';

test('the ts reference backend is always available', () => {
  assert.ok(availableBackends().includes('ts'));
  assert.equal(tryBackend('ts')?.name, 'ts');
});

test('in CI the native addon is built and chosen by default', { skip: process.env.CI !== 'true' && 'not in CI' }, () => {
  assert.ok(availableBackends().includes('native'), 'native addon failed to load in CI');
  if (!process.env.PHARMACIST_BACKEND) assert.equal(getBackend().name, 'native');
});

test('thread count follows the machine and can be set', { skip: !availableBackends().includes('native') && 'native addon not built' }, () => {
  const native = tryBackend('native')!;
  const before = native.threads();
  assert.ok(before >= 1);
  native.setThreads(1);
  assert.equal(native.threads(), 1);
  native.setThreads(before);
  assert.equal(native.threads(), before);
});
