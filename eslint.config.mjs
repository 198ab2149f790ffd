// ESLint with typescript-eslint, type-aware on the TypeScript: the rules that catch real defects in a
// suite that drives processes and sockets (a promise nobody awaits is a fault nobody reverts).
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const NODE_GLOBALS = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'require',
    'module',
    '__dirname',
  ].map((g) => [g, 'readonly']),
);

// a file over 250 lines says why at its top ("Over 250 lines: <why>", in its first comment)
const MAX_LINES = 250;
const local = {
  rules: {
    'long-file-says-why': {
      meta: { type: 'suggestion', schema: [] },
      create(context) {
        return {
          Program(node) {
            const lines = context.sourceCode.lines.length;
            if (lines <= MAX_LINES) return;
            const head = context.sourceCode.getAllComments()[0];
            if (head && /Over 250 lines: \S/.test(head.value)) return;
            context.report({
              node,
              message: `${lines} lines, over ${MAX_LINES}: say why in the file's first comment ("Over 250 lines: <why>")`,
            });
          },
        };
      },
    },
  },
};

export default tseslint.config(
  { ignores: ['node_modules/', 'reports/', 'reference-store/', '.scratch/', 'e2e/self/support/recorded/', 'e2e/external/doubles/.build/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // off: drivers, targets and reporters implement async interfaces, and a method with nothing to
      // await (a local signal, a file read) is still async to its callers
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // no import cycles: a module's dependencies are below it, so that each can be read (and tested) alone
    files: ['**/*.ts', '**/*.mts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.mjs'],
    plugins: { local },
    rules: { 'local/long-file-says-why': 'error' },
  },
  {
    // Playwright's fixture signature: a fixture that needs no other fixture destructures {}
    files: ['e2e/fixtures/**/*.ts', 'e2e/self/support/test.ts'],
    rules: { 'no-empty-pattern': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: NODE_GLOBALS },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }] },
  },
);
