// npm run lint: Prettier's check, then these rules. The layering rule reads layers.json, the same table as
// test/architecture.test.ts, so the editor and CI report a wrong-way import where it is written.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';

const root = dirname(fileURLToPath(import.meta.url));
const src = resolve(root, 'src');
// Top-level folders under src/ -> the folders each may import; a key "folder/" holds the same table for that
// folder's subfolders (its own top-level files always allowed; tests exempt from these inner tables).
const layers = JSON.parse(readFileSync(resolve(root, 'layers.json'), 'utf8'));

// 'engine/ops/matmul.ts' -> ['engine', 'ops']; a folder's own files ('engine/tensor.ts') have no subfolder.
const placeOf = (path) => {
  const parts = relative(src, path).split('/');
  return [parts[0], parts.length > 2 ? parts[1] : null];
};

const layering = {
  meta: {
    type: 'problem',
    messages: {
      wrongWay: '{{from}} may not import {{to}} (layers.json): {{path}}',
      typesOnly:
        '{{from}} may import only types from {{to}} (layers.json, "types only"): use `import type` for {{path}}',
    },
  },
  create(context) {
    const file = context.filename;
    const [layer, sub] = placeOf(file);
    const inner = file.endsWith('.test.ts') || !sub ? null : layers[`${layer}/`];
    const typesOnly = file.endsWith('.test.ts') ? [] : (layers['types only'][layer] ?? []);
    // `import type {...}`, `export type {...}`, or every specifier marked `type`: nothing of it runs.
    const onlyTypes = (node) =>
      (node.importKind ?? node.exportKind) === 'type' ||
      (node.specifiers?.length > 0 && node.specifiers.every((s) => (s.importKind ?? s.exportKind) === 'type'));
    const check = (node) => {
      const path = node.source?.value;
      if (typeof path !== 'string' || !path.startsWith('.')) return;
      const [target, targetSub] = placeOf(resolve(dirname(file), path));
      const report = (from, to) =>
        context.report({ node: node.source, messageId: 'wrongWay', data: { from, to, path } });
      if (target !== layer && !(layers[layer] ?? []).includes(target)) report(layer, target);
      else if (typesOnly.includes(target) && !onlyTypes(node))
        context.report({ node: node.source, messageId: 'typesOnly', data: { from: layer, to: target, path } });
      else if (target === layer && inner && targetSub && targetSub !== sub && !(inner[sub] ?? []).includes(targetSub))
        report(`${layer}/${sub}`, `${layer}/${targetSub}`);
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/build/**', 'runs/**', 'data/**', 'assets/**', 'docs/**'] },
  {
    files: ['**/*.ts', '**/*.mjs'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      // Prettier wraps code at 120; what it cannot wrap (long strings, templates, comments) stops at 140.
      'max-len': ['error', { code: 140, tabWidth: 2, ignoreUrls: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { pharmacist: { rules: { layering } } },
    rules: { 'pharmacist/layering': 'error' },
  },
);
