// Prints the one line CI reads, after vitest's own summary: "N passed, N failed".
// Unhandled errors count as failures, since vitest fails the run for them too.
import type { Reporter, TestModule } from "vitest/node";
import { modelCheckSkipReason } from "../model/model-tools.mjs";

export default class CountReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      // A file that failed to load has no tests to count but is a failure.
      if (mod.state() === "failed" && [...mod.children.allTests()].length === 0) failed++;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
    }
    failed += unhandledErrors.length;
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
    // A check left out for a missing tool is said out loud, not skipped silently (test/model/model-tools.mjs).
    const notRun = modelCheckSkipReason();
    if (notRun) process.stdout.write(`not run: ${notRun}\n`);
  }
}
