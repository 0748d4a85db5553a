import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Locker, LockStatus, RedisDatabase, isLockError } from "pulselock";
import { startRedis } from "../support/redis-server.mjs";
import { uniqueKey, waitFor } from "../support/wait-for";

/*
 * Edges of self-fencing against a real redis-server: a release whose reply is
 * lost to a paused Redis, the shortest TTLs a Locker accepts, and a thread that
 * stalls between the acquire and the job.
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

/*
 * A job must not start on a lock that others may already hold. A thread that stalls between sending the acquire
 * and reading its reply for longer than lockTtlMs (less the fencing margins) finds a lock whose record may have
 * expired: the fleet may have taken it before the job would begin. Such a job is never called: the call rejects
 * with a LockError and the lock is released. (A stall past reportTtlMs alone is caught earlier, by the acquire:
 * it lapses the identity and acquires again under a fresh one.) Checked for a lock, a semaphore permit and a
 * multi-key set, each through the public API over a real Redis.
 */

/** Blocks this thread for `ms`: no timer runs and no reply is read meanwhile. */
function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // blocked
  }
}

/**
 * An ioredis client whose first script call naming `stallOn` among its keys blocks the thread for `ms` once its
 * reply is in, before pulselock reads it: the stall falls between the acquire's send and the job's start.
 */
function stallingClient(stallOn: string, ms: number): Redis {
  const client = new Redis({ host: "127.0.0.1", port: server.port, keyPrefix: "sfe:" });
  client.on("error", () => {});
  clients.push(client);
  let armed = true;
  const evalsha = client.evalsha.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as unknown as { evalsha: (...args: unknown[]) => Promise<unknown> }).evalsha = async (...args: unknown[]) => {
    const reply = await evalsha(...args);
    if (armed && args.some((a) => typeof a === "string" && a.includes(stallOn))) {
      armed = false;
      block(ms);
    }
    return reply;
  };
  return client;
}

/** lockTtlMs 800: a stall of 1,500 ms outlives the lock record; liveness (its own thread) stays fresh throughout. */
function stalledLocker(client: Redis): Locker {
  const l = new Locker({ database: new RedisDatabase(client), lockTtlMs: 800, lockExtendMs: 200, lockRecheckMs: 100 });
  lockers.push(l);
  return l;
}

const takes = {
  "a lock": (l: Locker, key: string, fn: () => unknown) => l.acquireAndRun(key, fn),
  "a semaphore permit": (l: Locker, key: string, fn: () => unknown) => l.semaphore(key, { limit: 2 }).acquireAndRun(fn),
  "a multi-key set": (l: Locker, key: string, fn: () => unknown) => l.acquireAllAndRun([key, `${key}:b`], fn),
};

it.each(Object.keys(takes) as (keyof typeof takes)[])(
  "%s whose thread stalled past its deadline before the job began: the job never starts, and the call rejects with a LockError",
  async (what) => {
    const take = takes[what];
    const key = uniqueKey("stalled-start");
    const stalled = stalledLocker(stallingClient(key, 1500));
    // Warm up: liveness runs and the scripts are loaded, so the stalled call is the acquire itself.
    expect((await take(stalled, uniqueKey("warm"), () => "warm")).status).toBe(LockStatus.SUCCESS);

    let started = false;
    const outcome = await take(stalled, key, () => {
      started = true;
    }).catch((error: unknown) => error);
    expect(started).toBe(false);
    expect(isLockError(outcome)).toBe(true);
    expect((outcome as Error).message).toMatch(/self-fencing deadline passed/);

    // The lock was released on the way out (nobody took it meanwhile): another Locker takes it at once.
    const other = locker();
    const res = await take(other, key, () => "next");
    expect(res).toEqual({ status: LockStatus.SUCCESS, result: "next" });
  },
);

it("a thread that stalled for less than its deadline starts the job as usual", async () => {
  const key = uniqueKey("short-stall");
  const l = stalledLocker(stallingClient(key, 100));
  await l.acquireAndRun(uniqueKey("warm"), () => {});
  let started = false;
  const res = await l.acquireAndRun(key, () => {
    started = true;
    return "ran";
  });
  expect(started).toBe(true);
  expect(res).toEqual({ status: LockStatus.SUCCESS, result: "ran" });
});
