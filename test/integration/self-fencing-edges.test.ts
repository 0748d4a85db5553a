import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Locker, LockStatus, RedisDatabase } from "pulselock";
import { startRedis } from "../support/redis-server.mjs";
import { uniqueKey, waitFor } from "../support/wait-for";

/*
 * Two edges of self-fencing against a real redis-server: a release whose reply
 * is lost to a paused Redis, and the shortest TTLs a Locker accepts.
 */

let server: Awaited<ReturnType<typeof startRedis>>;
const clients: Redis[] = [];
const lockers: Locker[] = [];

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await Promise.all(lockers.map((l) => l.terminate()));
  for (const c of clients) c.disconnect();
  await server.close();
});

function locker(options: Partial<ConstructorParameters<typeof Locker>[0]> = {}): Locker {
  const client = new Redis({ host: "127.0.0.1", port: server.port, keyPrefix: "sfe:" });
  client.on("error", () => {});
  clients.push(client);
  const l = new Locker({ database: new RedisDatabase(client), reportWriteMs: 200, reportTtlMs: 3000, lockRecheckMs: 100, ...options });
  lockers.push(l);
  return l;
}

it("a job that ran alone is a success even when Redis pauses past lockRecheckMs while its release is in flight", async () => {
  const l = locker();
  const lost: unknown[] = [];
  l.errors.subscribe((e) => e.type === "lost_lock" && lost.push(e.error));
  const key = uniqueKey("paused-release");
  let resumed: Promise<void> | undefined;
  try {
    const res = await l.acquireAndRun(key, () => {
      // The release leaves while Redis is stopped: the first try times out after lockRecheckMs, retries queue
      // behind it, and once Redis runs again the first try deletes the lock and the retries find no key.
      server.signal("SIGSTOP");
      resumed = new Promise((resolve) => setTimeout(() => resolve(void server.signal("SIGCONT")), 700));
      return "done";
    });
    expect(res).toEqual({ status: LockStatus.SUCCESS, result: "done" });
  } finally {
    await resumed;
    server.signal("SIGCONT");
  }
  expect(lost).toEqual([]);
  expect(await l.readLockData(key)).toBe("maybe_unlocked");
});

it("TTLs too short to fence safely are refused with the minimum, in milliseconds", () => {
  for (const lockTtlMs of [5, 20, 199]) {
    expect(() => locker({ lockTtlMs, lockExtendMs: 1 })).toThrow(/lockTtlMs must be at least 200 ms \(milliseconds\), got/);
  }
  for (const reportTtlMs of [5, 199]) {
    expect(() => locker({ reportTtlMs, reportWriteMs: 1 })).toThrow(/reportTtlMs must be at least 200 ms/);
  }
});

it("at the shortest lock TTL, the holder's signal aborts before the next holder starts", async () => {
  const key = uniqueKey("shortest-ttl");
  const holder = locker({ lockTtlMs: 200, lockExtendMs: 100 });
  const next = locker();
  for (let round = 0; round < 5; round++) {
    let abortedAt: number | undefined;
    let started = false;
    const run = holder.acquireAndRun(key, async (hb) => {
      started = true;
      // No heartbeat: the lock expires after 200 ms, and the signal must say so first.
      await new Promise<void>((resolve) => hb.signal.addEventListener("abort", () => resolve(), { once: true }));
      abortedAt = performance.now();
      // Keep the job alive until the next owner is in, so an abort that came late would show as an overlap.
      await waitFor("the next holder", async () => (await next.readLockData(key)) !== "maybe_unlocked" || undefined, { intervalMs: 5 }).catch(() => {});
    });
    const ended = run.then(
      () => "returned",
      (e: unknown) => e,
    );
    await waitFor("the holder to start", () => started);
    const taken = await waitFor(
      "the next holder to take the expired lock",
      async () => {
        const res = await next.acquire(key);
        return res.status === LockStatus.SUCCESS ? { res, at: performance.now() } : undefined;
      },
      { intervalMs: 1 },
    );
    expect(abortedAt, `round ${round}: the holder was still running when the next one started`).toBeDefined();
    expect(abortedAt!).toBeLessThan(taken.at);
    expect(await ended).toBeInstanceOf(Error);
    if (taken.res.status === LockStatus.SUCCESS) await next.release(key, taken.res.lockData);
  }
});
