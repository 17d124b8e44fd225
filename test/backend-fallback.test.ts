/** Without the native addon the engine falls back to the ts backend, warning exactly once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const engine = fileURLToPath(new URL('../src/engine/index.js', import.meta.url));

function runWithoutAddon(code: string, extraEnv: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8',
    env: { ...process.env, PHARMACIST_BACKEND: '', PHARMACIST_NATIVE_ADDON: '/nonexistent/addon.node', ...extraEnv },
  });
}

test('missing addon: ts backend, one warning line, training still works', () => {
  const r = runWithoutAddon(`
    const e = await import(${JSON.stringify(engine)});
    const w = e.parameter(Float32Array.from([1, 2]), [2]);
    for (let i = 0; i < 3; i++) e.backward(e.sum(e.mul(w, w)));
    console.log(e.getBackend().name, Array.from(w.grad).join(','));`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ts 6,12');
  const warnings = r.stderr.trim().split('\n').filter(Boolean);
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /native addon not built, using the slow TypeScript backend/);
});

test('asking for native without the addon is a clear error', () => {
  const r = runWithoutAddon(`const e = await import(${JSON.stringify(engine)}); e.getBackend();`, {
    PHARMACIST_BACKEND: 'native',
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /PHARMACIST_BACKEND=native but the native addon is not built/);
  const bad = runWithoutAddon(`const e = await import(${JSON.stringify(engine)}); e.getBackend();`, {
    PHARMACIST_BACKEND: 'gpu',
  });
  assert.match(bad.stderr, /"gpu" is not a backend; choose one of: native, ts/);
});
