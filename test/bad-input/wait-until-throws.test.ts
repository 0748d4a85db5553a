import { afterAll, beforeAll, expect, it } from "vitest";
import { Locker } from "pulselock";
import { useRedisClient } from "../support/redis-client";
import { uniqueKey } from "../support/wait-for";

/*
 * A waitUntil that throws (a wrong function passed as one) fails the call, and no wait or run goes on unwatched:
 * the job never runs and the key is never taken. Found by review: a wait, and a run, used to start before waitUntil
 * took it (src/wait-until.ts).
 */
const redis = useRedisClient();
let locker: Locker;
beforeAll(() => {
  locker = new Locker({ database: redis.client });
});
afterAll(async () => {
  await locker?.terminate();
});

const throwing = () => {
  throw new Error("not a waitUntil");
};

it.each([
  ["mutex()", (key: string, job: () => void) => locker.mutex(key, { timeoutMs: 1000, waitUntil: throwing }, job)],
  ["mutexAll()", (key: string, job: () => void) => locker.mutexAll([key, `${key}:b`], { timeoutMs: 1000, waitUntil: throwing }, job)],
  ["waitAndRun()", (key: string, job: () => void) => locker.semaphore(key, { limit: 2 }).waitAndRun({ timeoutMs: 1000, waitUntil: throwing }, job)],
  ["acquireAndRun()", (key: string, job: () => void) => locker.acquireAndRun(key, job, { waitUntil: throwing })],
  ["acquireAllAndRun()", (key: string, job: () => void) => locker.acquireAllAndRun([key, `${key}:b`], job, { waitUntil: throwing })],
  ["a semaphore's acquireAndRun()", (key: string, job: () => void) => locker.semaphore(key, { limit: 2 }).acquireAndRun(job, { waitUntil: throwing })],
])("%s rejects with the waitUntil's error, runs nothing and takes nothing", async (_, wait) => {
  const key = uniqueKey("wait-until-throws");
  let ran = false;
  await expect(wait(key, () => void (ran = true))).rejects.toThrow("not a waitUntil");
  // Long enough for a wait that went on regardless to have taken its free key and run.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(ran).toBe(false);
  expect(await redis.client.keys(`*${key}*`)).toEqual([]);
});
