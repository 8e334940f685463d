// ESLint flat config. typescript-eslint's recommended rules (syntax-only, so a run stays well under a
// minute on a loaded 2-core machine; `tsc` already does the type checking) plus import-x's no-cycle,
// which keeps the modules of src/ free of import cycles (the folder direction is checked by
// test/contract/layering.test.ts; see docs/architecture.md).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // A closure that reads a variable assigned once later (after the plugin that provides it is
      // registered) cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Unused names are already errors in tsc (noUnusedLocals/noUnusedParameters); a leading
      // underscore marks a name kept for a signature.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // Tests read untyped JSON response bodies and assert their shape with expect(); typing every body
    // would add casts, not safety.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // CommonJS config files and Node scripts.
    files: ['**/*.js', '**/*.cjs'],
    ignores: ['tools/demo-ehr/**'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The demo EHR page's script runs in the browser.
    files: ['tools/demo-ehr/**/*.js'],
    languageOptions: { sourceType: 'script', globals: globals.browser },
  },
);
