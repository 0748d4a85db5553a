import { createRequire } from "node:module";
import { afterAll, expect, it } from "vitest";
import { Heartbeater as EsmHeartbeater, Locker as EsmLocker, isDrainingSignal } from "pulselock";
import { useRedisClient } from "../support/redis-client";
import { uniqueKey, waitFor } from "../support/wait-for";

/*
 * Draining is the process's: an ESM app whose CommonJS dependency requires pulselock holds two copies of it (the
 * dual package hazard; jest.isolateModules() makes them too), and Heartbeater.setDraining() from either copy must
 * reach the jobs of both. Found by an attack pass: it reached only its own copy's jobs.
 */
const cjs = createRequire(import.meta.url)("pulselock") as typeof import("pulselock");
const redis = useRedisClient();
afterAll(() => {
  EsmHeartbeater.setDraining(null);
});

it.each([
  ["the ESM copy drains a job of the CommonJS copy", cjs.Locker, EsmHeartbeater],
  ["the CommonJS copy drains a job of the ESM copy", EsmLocker, cjs.Heartbeater],
])("%s", async (_, Locker, Heartbeater) => {
  expect(cjs.Heartbeater).not.toBe(EsmHeartbeater); // two copies indeed
  const locker = new Locker({ database: redis.client });
  let started = false;
  try {
    const run = locker.acquireAndRun(uniqueKey("drain-copies"), async (heartbeat) => {
      started = true;
      while (!heartbeat.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(isDrainingSignal(heartbeat.signal.reason)).toBe(true);
      await heartbeat(); // throws the DrainingSignal
    });
    await waitFor("the job to start", () => started);
    Heartbeater.setDraining("deploy");
    await expect(run).rejects.toMatchObject({ name: "DrainingSignal", reason: "deploy" });
    expect(EsmHeartbeater.drainingReason).toBe("deploy");
    expect(cjs.Heartbeater.drainingReason).toBe("deploy");
  } finally {
    Heartbeater.setDraining(null);
    await locker.terminate();
  }
});
