import { Redis } from "@upstash/redis";
import { Locker, LockStatus, RedisDatabase } from "pulselock/core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startUpstashDevServer } from "../../cli/upstash-dev/server";
import { startRedis } from "../support/redis-server.mjs";
import { uniqueKey } from "../support/wait-for";

/**
 * Found by the chaos run (seed 1, an edge run's release during a Redis restart):
 * while Redis is down, upstash-dev answers HTTP 502 "Redis unavailable: …",
 * and pulselock took that for a permanent error, so release() gave up at once
 * and acquireAndRun() rejected. The README says release() "retries transient
 * errors until lockTtlMs has passed", and 5xx answers are transient
 * (docs/decisions.md, "HTTP failures of Upstash"). Redis here keeps its data
 * across the restart (AOF, fsync always), so the release must then succeed.
 */
// redis-server.mjs is untyped JavaScript: its `extraArgs = []` default reads as never[] to TypeScript.
const startDurableRedis = startRedis as (options: { extraArgs: string[] }) => ReturnType<typeof startRedis>;
let redis: Awaited<ReturnType<typeof startRedis>>;
let rest: Awaited<ReturnType<typeof startUpstashDevServer>>;

beforeAll(async () => {
  redis = await startDurableRedis({ extraArgs: ["--appendonly", "yes", "--appendfsync", "always"] });
  rest = await startUpstashDevServer({ redisUrl: redis.url });
});
afterAll(async () => {
  await rest?.close();
  await redis?.close();
});

const lockerOverRest = () =>
  new Locker({
    database: new RedisDatabase(new Redis({ url: rest.url, token: rest.token, enableTelemetry: false }), { prefix: `${uniqueKey("p")}:` }),
    reportWriteMs: 200,
    reportTtlMs: 5000,
    lockTtlMs: 20_000,
    lockExtendMs: 5000,
  });

it("release() through Upstash retries while Redis restarts, then frees the lock", async () => {
  const locker = lockerOverRest();
  try {
    const key = uniqueKey("release-restart");
    const lock = await locker.acquire(key);
    expect(lock.status).toBe(LockStatus.SUCCESS);
    await redis.stop();
    const released = locker.release(key, lock.lockData).catch((error: unknown) => error); // settled even while we wait
    await new Promise((r) => setTimeout(r, 700)); // the release meets the outage for this long
    await redis.restart();
    expect(await released).toMatchObject({ status: LockStatus.SUCCESS });
  } finally {
    await locker.terminate();
  }
});

it("a set's releases (one try each, together) retry while Redis restarts, then free every key, and the run succeeds", async () => {
  const locker = lockerOverRest();
  try {
    const keys = [uniqueKey("set-restart-a"), uniqueKey("set-restart-b"), uniqueKey("set-restart-c")];
    let restarted!: Promise<void>;
    const run = locker.acquireAllAndRun(keys, async () => {
      await redis.stop();
      // The job ends while Redis is down: the set's first release tries fail, their retries meet it back.
      restarted = new Promise((r) => setTimeout(r, 700)).then(() => redis.restart());
      return "done";
    });
    expect(await run).toMatchObject({ status: LockStatus.SUCCESS, result: "done" });
    await restarted;
    for (const key of keys) expect(await locker.readLockData(key)).toBe("maybe_unlocked");
  } finally {
    await locker.terminate();
  }
});
