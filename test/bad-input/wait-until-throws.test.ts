import Redis from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Locker } from "pulselock";
import { startRedis } from "../support/redis-server.mjs";
import { uniqueKey } from "../support/wait-for";

/*
 * A waitUntil that throws (a wrong function passed as one) fails the wait's call, and no wait goes on unwatched:
 * the job never runs and the key is never taken. Found by review: the wait used to start before waitUntil took it.
 */
let server: Awaited<ReturnType<typeof startRedis>>;
let client: Redis;
let locker: Locker;
beforeAll(async () => {
  server = await startRedis();
  client = new Redis(server.url);
  locker = new Locker({ database: client });
});
afterAll(async () => {
  await locker?.terminate();
  client?.disconnect();
  await server?.close();
});

const throwing = () => {
  throw new Error("not a waitUntil");
};

it.each([
  ["mutex()", (key: string, job: () => void) => locker.mutex(key, { timeoutMs: 1000, waitUntil: throwing }, job)],
  ["mutexAll()", (key: string, job: () => void) => locker.mutexAll([key, `${key}:b`], { timeoutMs: 1000, waitUntil: throwing }, job)],
  ["waitAndRun()", (key: string, job: () => void) => locker.semaphore(key, { limit: 2 }).waitAndRun({ timeoutMs: 1000, waitUntil: throwing }, job)],
])("%s rejects with the waitUntil's error, runs nothing and takes nothing", async (_, wait) => {
  const key = uniqueKey("wait-until-throws");
  let ran = false;
  await expect(wait(key, () => void (ran = true))).rejects.toThrow("not a waitUntil");
  // Long enough for a wait that went on regardless to have taken its free key and run.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(ran).toBe(false);
  expect(await client.keys(`*${key}*`)).toEqual([]);
});
