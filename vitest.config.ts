import { defineConfig } from 'vitest/config';

// Three levels, one Vitest project each (`npm run test:unit`, `test:api`, `test:e2e`; `npm test` runs all):
// - unit: pure modules (deciders, pruners, samplers, the dashboard's logic): no server, no process, no socket;
// - api: a real server or store in this process, over HTTP/WebSocket or the store's port;
// - e2e: other processes (server, CLI, worker, npm start, the built package) or a browser.
// Helpers and shared contract suites live in test/helpers/, fixtures in test/fixtures/.
export default defineConfig({
  // graphql 16 is dual-package: without this alias vitest loads two copies and
  // graphql-js refuses types "from another module or realm".
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      // Pure code answers in milliseconds: a test still running after 10 s is stuck, not slow.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 10_000 } },
      { extends: true, test: { name: 'api', include: ['test/api/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
    ],
  },
});
