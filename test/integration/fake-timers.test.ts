import { afterAll, afterEach, beforeAll, expect, it, vi } from "vitest";
import { Locker, LockStatus } from "pulselock";
import { createRequire } from "node:module";
import { useRedisClient } from "../support/redis-client";
import { uniqueKey } from "../support/wait-for";

/*
 * An app's vitest suite that fakes timers while pulselock runs a job (vi.useFakeTimers() fakes setTimeout,
 * performance and process.hrtime). Found by an attack pass: the job's clock froze, so its heartbeats never
 * extended the lock nor saw its deadline pass; the lock expired and another owner took it while the job went on.
 * pulselock takes the runtime's clock and timers when it loads. The jest variants (modern, legacy, and a Locker
 * made by a module loaded under fakes) are in test/migration/fixtures/jest-project/fake-timers.spec.ts.
 */
const { jobUnderFakeTimers } = createRequire(import.meta.url)("../matrix/smoke/fake-timers-job.cjs") as typeof import("../matrix/smoke/fake-timers-job.cjs");
const redis = useRedisClient();
let owner: Locker;
let other: Locker;
const realSetTimeout = globalThis.setTimeout; // taken before any test fakes timers
const realSleep = (ms: number) => new Promise((resolve) => realSetTimeout(resolve, ms));
beforeAll(() => {
  // Short TTLs only make it quick: with the defaults the same happens once lockTtlMs (5 min) has passed.
  const timing = { lockTtlMs: 1000, lockExtendMs: 300, lockRecheckMs: 200 };
  owner = new Locker({ database: redis.client, ...timing });
  other = new Locker({ database: redis.client, ...timing });
});
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  await Promise.all([owner?.terminate(), other?.terminate()]);
});

it("a job keeps its lock under vi.useFakeTimers(): every heartbeat extends it, nobody else takes it, its signal stays calm", async () => {
  const fake = () => {
    vi.useFakeTimers();
    expect(globalThis.setTimeout).not.toBe(realSetTimeout); // faked for the rest of the job
  };
  const run = await jobUnderFakeTimers({ owner, other, key: uniqueKey("fake-timers"), fake, sleep: realSleep, rounds: 25, SUCCESS: LockStatus.SUCCESS });
  expect(run).toEqual({ outcome: { status: LockStatus.SUCCESS, result: false }, beats: 25, takenByOther: 0 });
});

it("a job under vi.useFakeTimers() still loses its lock at its deadline when Redis stops answering", async () => {
  const key = uniqueKey("fake-timers-lost");
  const res = owner.acquireAndRun(key, async (heartbeat) => {
    vi.useFakeTimers();
    await redis.client.call("CLIENT", "PAUSE", "3000", "ALL");
    // Real time passes; the deadline (lockTtlMs, 1 s) is judged on the real clock, so the signal aborts.
    while (!heartbeat.signal.aborted) await realSleep(50);
    return "stopped";
  });
  await expect(res).rejects.toMatchObject({ name: "LockError" });
}, 20_000);
