/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, after
 * vitest's own summary: CI reads that line (it does not parse vitest's).
 *
 * A suite or file whose own code failed (a `beforeAll` that threw, a file that
 * did not load) counts as one failure: vitest reports its tests as skipped,
 * and a run where everything else passed must not read "0 failed".
 */
import type { Reporter, TestModule, TestSuite } from 'vitest/node';

export default class SummaryLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    const failedOutsideTests = (suite: TestModule | TestSuite) => (suite.errors().length > 0 ? 1 : 0);
    for (const module of testModules) {
      failed += failedOutsideTests(module);
      for (const suite of module.children.allSuites()) failed += failedOutsideTests(suite);
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
