// ESLint: typescript-eslint (strict-ish) for the service, tests and scripts; the LWC rules of
// @salesforce/eslint-config-lwc for the Lightning web components, with jest globals in tests.
import { createRequire } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const require = createRequire(import.meta.url);
const lwc = require('@salesforce/eslint-config-lwc');

const lwcFiles = ['force-app/**/lwc/**/*.js'];
const scope = (configs, files) => configs.map((c) => ({ ...c, files }));

export default [
  {
    ignores: ['node_modules/**', 'dist/**', 'coverage/**', '.sfdx/**', '.sf/**', 'force-app/**/staticresources/**'],
  },
  ...scope([js.configs.recommended, ...tseslint.configs.recommended], ['**/*.ts']),
  {
    files: ['**/*.ts'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
    },
  },
  {
    // Tests poke at raw, untyped inputs on purpose; exported signatures stay typed.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['service/src/**/*.ts'],
    ignores: ['service/src/commands/**', 'service/src/**/*.test.ts', 'service/src/main.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ignores: lwcFiles,
    ...js.configs.recommended,
    languageOptions: { globals: { ...globals.node }, sourceType: 'module' },
  },
  ...scope(lwc.configs.recommended, lwcFiles),
  {
    files: ['force-app/**/lwc/**/__tests__/**/*.js', 'force-app/test/jest-mocks/**/*.js'],
    languageOptions: { globals: { ...globals.node, ...globals.jest } },
  },
];
