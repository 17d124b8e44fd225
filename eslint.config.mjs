// npm run lint: Prettier's check, then these rules. The layering rule reads layers.json, the same table as
// test/architecture.test.ts, so the editor and CI report a wrong-way import where it is written.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';

const root = dirname(fileURLToPath(import.meta.url));
const src = resolve(root, 'src');
const allowed = JSON.parse(readFileSync(resolve(root, 'layers.json'), 'utf8'));

const layering = {
  meta: { type: 'problem', messages: { wrongWay: '{{from}} may not import {{to}} (layers.json): {{path}}' } },
  create(context) {
    const file = context.filename;
    const layer = relative(src, file).split('/')[0];
    const check = (node) => {
      const path = node.source?.value;
      if (typeof path !== 'string' || !path.startsWith('.')) return;
      const target = relative(src, resolve(dirname(file), path)).split('/')[0];
      if (target !== layer && !(allowed[layer] ?? []).includes(target))
        context.report({ node: node.source, messageId: 'wrongWay', data: { from: layer, to: target, path } });
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
