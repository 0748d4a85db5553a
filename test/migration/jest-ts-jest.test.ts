// Issue 16: a migrating user's jest 29 + ts-jest suite (CommonJS, no --experimental-vm-modules) with a
// { moduleName, exportName } database named by an extensionless absolute path, run by real jest.
import { expect, it } from "vitest";
import { bin, runIn, useRedisFor } from "./user-project";

const env = useRedisFor("jest-project");

it("jest runs a suite whose locker loads its database module by an extensionless path (and ES module or TypeScript modules fail at once with advice)", async () => {
  const run = await runIn("jest-project", bin("jest"), ["--ci", "--json", "--config", "jest.config.js"], env());
  const report = JSON.parse(run.stdout || "{}") as { numPassedTests?: number; numFailedTests?: number };
  expect({ code: run.code, passed: report.numPassedTests, failed: report.numFailedTests }, run.stderr).toEqual({
    code: 0,
    passed: 7,
    failed: 0,
  });
});
