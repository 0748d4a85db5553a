// Issue 16: a TypeScript program run with tsx, whose database module is db.ts named without its extension.
// The liveness thread loads db.ts through the loader that tsx put on Node's command line; a loader registered
// only in code cannot reach the thread, and the first acquire then fails at once, saying what to do.
import { expect, it } from "vitest";
import { bin, runIn, useRedisFor } from "./user-project";

const env = useRedisFor("tsx-project");

it.each([
  ["npx tsx worker.ts", bin("tsx"), ["worker.ts"]],
  ["node --import tsx worker.ts", process.execPath, ["--import", "tsx", "worker.ts"]],
  ["npx tsx worker-esm.mts (an ES module)", bin("tsx"), ["worker-esm.mts"]],
])("%s: the liveness thread loads db.ts", async (_label, command, args) => {
  const run = await runIn("tsx-project", command, args, env());
  expect({ code: run.code, out: run.stdout.trim() }, run.stderr).toEqual({
    code: 0,
    out: JSON.stringify({ success: true, held: 1, liveness: 1 }),
  });
});

it("tsx registered in code only: the first acquire fails at once and says how to fix it", async () => {
  const t0 = performance.now();
  const run = await runIn("tsx-project", process.execPath, ["-e", 'require("tsx/cjs/api").register(); require("./worker.ts")'], env());
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/DatabaseLoadError: pulselock: cannot import the database module ".*tsx-project\/db"/);
  expect(run.stderr).toMatch(/liveness thread.*start Node with the loader on its command line/s);
  // Well under reporterWorkerSpawnTimeoutMs (15 s): the thread reports the failure instead of never writing.
  expect(performance.now() - t0).toBeLessThan(10_000);
});
