// ESLint with typescript-eslint's recommended rules, without type information:
// tsc already checks types (npm run typecheck); this catches what it does not
// (unused code, constant conditions, suspicious constructs) in seconds. Formatting is Prettier's.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', 'schema/', 'dashboard/dist/'] },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: globals.node },
    rules: {
      // `_`-prefixed names are deliberately unused (callback positions, destructured-away fields).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // The dashboard runs in the browser.
    files: ['dashboard/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Tests and benchmarks read GraphQL answers whose shape the assertions spell out; typing each is noise.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  // Layout is Prettier's (npm run format): ESLint's rules that would argue with it are off.
  prettier,
);
