import { Redis as Upstash } from "@upstash/redis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Locker, LockStatus, RedisDatabase, isRedisCommandError } from "pulselock/core";
import { useUpstashStack } from "../support/upstash-stack";
import { uniqueKey } from "../support/wait-for";

/**
 * pulselock through the real @upstash/redis client, as a Worker uses it: scripts go by EVALSHA first and by EVAL
 * only after NOSCRIPT, and replies keep their types although the client deserializes values automatically.
 * The counts come from the REST server itself.
 */
const stack = useUpstashStack();
let locker: Locker;

beforeAll(async () => {
  const client = new Upstash({ url: stack.rest.url, token: stack.rest.token, enableTelemetry: false }); // automaticDeserialization on
  // Liveness writes far apart, so that none falls inside a counted call.
  locker = new Locker({ database: new RedisDatabase(client, { prefix: "sdk-path:" }), reportWriteMs: 20_000, reportTtlMs: 60_000 });
});
afterAll(async () => {
  await locker?.terminate();
});

/** The EVALSHA and EVAL commands that reached Redis while `fn` ran. */
async function scriptCommands(fn: () => Promise<unknown>): Promise<{ evalsha: number; eval: number }> {
  const before = stack.rest.stats().commands;
  await fn();
  const after = stack.rest.stats().commands;
  return { evalsha: (after.evalsha ?? 0) - (before.evalsha ?? 0), eval: (after.eval ?? 0) - (before.eval ?? 0) };
}

it("a script goes by EVALSHA; after SCRIPT FLUSH one EVAL loads it again, and the next call is EVALSHA alone", async () => {
  const key = uniqueKey("sdk-path");
  await locker.readLockData(key); // the first call on a new server loads the script
  expect(await scriptCommands(() => locker.readLockData(key))).toEqual({ evalsha: 1, eval: 0 });
  await stack.admin.script("FLUSH");
  expect(await scriptCommands(() => locker.readLockData(key))).toEqual({ evalsha: 1, eval: 1 });
  expect(await scriptCommands(() => locker.readLockData(key))).toEqual({ evalsha: 1, eval: 0 });
});

it.each(["12345", '{"a":1}', "[1,2]", "true", "null", "1e3", " 7 "])(
  "a trace that looks like JSON or a number (%j) comes back as the same string; tokens are numbers",
  async (trace) => {
    const key = uniqueKey("sdk-types");
    const res = await locker.acquire(key, trace);
    expect(res.status).toBe(LockStatus.SUCCESS);
    try {
      const read = await locker.readLockData(key);
      expect(read).not.toBe("maybe_unlocked");
      if (read === "maybe_unlocked") return;
      expect(read.trace).toBe(trace);
      expect(typeof read.fencingToken).toBe("number");
      expect(read.fencingToken).toBe(res.lockData.fencingToken);
      expect(read.processHash).toBe(res.lockData.processHash);
    } finally {
      await res[Symbol.asyncDispose]();
    }
  },
);

it("an endpoint that does not answer in time: with the SDK's signal the call fails as a transient error, and a lock it wrote anyway is freed", async () => {
  // @upstash/redis aborts each request through `signal`; a function gives every request its own timeout.
  const client = new Upstash({ url: stack.rest.url, token: stack.rest.token, enableTelemetry: false, retry: false, signal: () => AbortSignal.timeout(300) });
  const timed = new Locker({ database: new RedisDatabase(client, { prefix: "sdk-path:" }), reportWriteMs: 20_000, reportTtlMs: 60_000 });
  try {
    expect((await timed.acquire(uniqueKey("warm"))).status).toBe(LockStatus.SUCCESS); // liveness written: no write in the window
    const key = uniqueKey("sdk-timeout");
    // The next request runs in Redis, and its answer is held back for longer than the client waits.
    stack.rest.inject({ delayMs: 3_000, times: 1 });
    const t0 = performance.now();
    const err = await timed.acquire(key).catch((e) => e);
    expect(performance.now() - t0).toBeLessThan(2_500);
    expect(isRedisCommandError(err)).toBe(true);
    expect(err.transient).toBe(true);
    // The acquire did run, so its lock was written; the failed call freed it rather than leave it for lockTtlMs.
    expect(await stack.admin.exists(`sdk-path:pl:{${key}}`)).toBe(0);
    expect((await timed.acquire(key)).status).toBe(LockStatus.SUCCESS);
  } finally {
    stack.rest.inject({ clear: true });
    await timed.terminate();
  }
});
