// Builds the native addon with npm's node-gyp. At install time a failed build is not fatal: the engine
// falls back to the TypeScript backend and says so once. `--strict` (npm run build:native) fails loudly.
// OpenBLAS is optional (native/binding.gyp asks scripts/detect-openblas.mjs); the addon needs only node-gyp's tools.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const strict = process.argv.includes('--strict');
const nativeDir = fileURLToPath(new URL('../native/', import.meta.url));
// npm puts its bundled node-gyp on PATH for lifecycle scripts; outside npm, fall back to npx.
const viaNpm = process.env.npm_lifecycle_event !== undefined;
const [cmd, args] = viaNpm ? ['node-gyp', ['rebuild']] : ['npx', ['--yes', 'node-gyp', 'rebuild']];
const result = spawnSync(cmd, args, {
  cwd: nativeDir,
  stdio: strict ? 'inherit' : ['ignore', 'ignore', 'pipe'],
  encoding: 'utf8',
});
if (result.status !== 0) {
  const why = result.error
    ? result.error.message
    : (result.stderr ?? '')
        .split('\n')
        .filter((l) => /error/i.test(l))
        .slice(0, 5)
        .join('\n');
  if (strict) {
    console.error(`native addon build failed${why ? `: ${why}` : ''} (needs a C++ compiler, make and python3)`);
    process.exit(1);
  }
  console.warn(
    'pharmacist: native addon not built (needs a C++ compiler, make and python3); the TypeScript backend will be used.',
  );
  if (why) console.warn(why);
}
