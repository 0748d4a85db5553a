import { Redis } from "@upstash/redis";
import { Locker, RedisDatabase, isLockError } from "pulselock/core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startUpstashDevServer } from "../../cli/upstash-dev/server";
import { startRedis } from "../support/redis-server.mjs";
import { uniqueKey } from "../support/wait-for";

/**
 * Found by the chaos run (an edge participant, a "block" fault): a heartbeat's recheck went out, the thread was
 * then blocked for longer than reportTtlMs, and the reply, read only after the block, still said "ours". Where
 * liveness is written from the holder's own thread (edge runtimes, the core entry), such a block lets the
 * liveness record expire and others take the lock meanwhile; the heartbeat must judge by the self-fencing
 * deadline when it returns, not only when it was called.
 */
let redis: Awaited<ReturnType<typeof startRedis>>;
let rest: Awaited<ReturnType<typeof startUpstashDevServer>>;
const lockers: Locker[] = [];

beforeAll(async () => {
  redis = await startRedis();
  rest = await startUpstashDevServer({ redisUrl: redis.url });
});
afterAll(async () => {
  await Promise.all(lockers.map((l) => l.terminate()));
  await rest?.close();
  await redis?.close();
});

const lockerOverRest = (options: Partial<ConstructorParameters<typeof Locker>[0]>) => {
  const locker = new Locker({
    database: new RedisDatabase(new Redis({ url: rest.url, token: rest.token, enableTelemetry: false }), { prefix: `${uniqueKey("p")}:` }),
    ...options,
  });
  lockers.push(locker);
  return locker;
};

/** Blocks this thread for `ms`: no timer runs and no reply is read meanwhile. */
function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // blocked
  }
}

it.each([
  ["a recheck", { lockRecheckMs: 50, lockExtendMs: 30_000 }],
  ["an extension", { lockRecheckMs: 60_000, lockExtendMs: 50 }],
])("a heartbeat whose %s was answered while its thread was blocked past the deadline throws, and the signal aborts", async (_, due) => {
  const locker = lockerOverRest({ reportTtlMs: 500, reportWriteMs: 100, lockTtlMs: 60_000, ...due });
  let outcome: unknown;
  let abortedAfter: boolean | undefined;
  const run = locker.acquireAndRun(uniqueKey("blocked-check"), async (heartbeat) => {
    await new Promise((r) => setTimeout(r, 100)); // the check is due
    const check = heartbeat(); // sends it; its reply comes while the thread is blocked
    block(1500); // 3× reportTtlMs: the liveness record has expired, others may hold the lock
    outcome = await check.then(
      () => "resolved",
      (error: unknown) => error,
    );
    abortedAfter = heartbeat.signal.aborted;
  });
  expect(isLockError(await run.catch((e: unknown) => e))).toBe(true);
  expect(isLockError(outcome)).toBe(true);
  expect(abortedAfter).toBe(true);
});
