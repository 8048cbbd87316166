// ESLint: typescript-eslint's type-aware rules for what tsc does not check (promises nobody awaits or
// handles, `any` leaking into production code), and no import cycles. Formatting is Prettier's: `npm run lint`
// runs `prettier --check` too, and eslint-config-prettier (last below) turns off every rule Prettier owns.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', 'schema/', 'dashboard/dist/'] },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: globals.node,
      // Each file is typed by the tsconfig that includes it (tsconfig.json, or dashboard/tsconfig.json).
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      // import-x reads only the files these extensions name when it follows imports (its default is .js only).
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      // Sources import `./x.js` for `./x.ts` (NodeNext); the dashboard imports without extensions (Bundler).
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'],
          extensionAlias: { '.js': ['.ts', '.tsx', '.js'] },
        }),
      ],
    },
    rules: {
      // `_`-prefixed names are deliberately unused (callback positions, destructured-away fields).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // A cycle makes module load order matter (a binding read before it is initialised). Type-only imports
      // are erased (verbatimModuleSyntax), so the rule ignores them by design; runtime cycles fail the lint.
      'import-x/no-cycle': 'error',

      // On from recommendedTypeChecked, and the reason this config is type-aware: no-floating-promises,
      // no-misused-promises, await-thenable, no-unnecessary-type-assertion, restrict-template-expressions,
      // no-base-to-string, no-implied-eval, prefer-promise-reject-errors, no-unsafe-enum-comparison.

      // Off: the code base builds its services as objects of closures (no `this`), and destructuring their
      // functions (`const { start, stop } = serverProcess()`) is the idiom; the rule flagged it 39 times and
      // found no method that needed its `this`.
      '@typescript-eslint/unbound-method': 'off',
      // Off: async functions without `await` are deliberate where a synchronous implementation fills an
      // asynchronous port (the SQLite store behind the EventStore interface, test doubles); `async` keeps
      // their throws as rejections, which is what callers of the port handle.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests and benchmarks read GraphQL answers whose shape the assertions spell out; typing each is noise
    // (1,500 no-unsafe-* reports, all of that kind). Production code keeps the no-unsafe-* rules.
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // commander hands each action its parsed options as `any`; the people/* commands check the values they read.
    files: ['src/cli/commands/**'],
    rules: { '@typescript-eslint/no-unsafe-argument': 'off' },
  },
  {
    // Plain JavaScript (the CLI launcher, build and test scripts) belongs to no tsconfig: no type information.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // The dashboard runs in the browser.
    files: ['dashboard/**'],
    languageOptions: { globals: globals.browser },
  },
  // Layout is Prettier's (npm run format): ESLint's rules that would argue with it are off.
  prettier,
);
