import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql 16 is dual-package: without this alias vitest loads two copies and
  // graphql-js refuses types "from another module or realm".
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
