import { Redis } from "ioredis";
import { Locker, LockStatus, RedisDatabase, isLockError } from "pulselock";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startRedis } from "../support/redis-server.mjs";
import { uniqueKey } from "../support/wait-for";

/*
 * A job must not start on a lock that others may already hold. A thread that stalls between sending the acquire
 * and reading its reply for longer than lockTtlMs (less the fencing margins) finds a lock whose record may have
 * expired: the fleet may have taken it before the job would begin. Such a job is never called: the call rejects
 * with a LockError and the lock is released. (A stall past reportTtlMs alone is caught earlier, by the acquire:
 * it lapses the identity and acquires again under a fresh one.) Checked for a lock, a semaphore permit and a
 * multi-key set, each through the public API over a real Redis.
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
  const client = new Redis({ host: "127.0.0.1", port: server.port, lazyConnect: false });
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

function locker(client: Redis): Locker {
  // lockTtlMs 800: a stall of 1,500 ms outlives the lock record; liveness (its own thread) stays fresh throughout.
  const l = new Locker({ database: new RedisDatabase(client), lockTtlMs: 800, lockExtendMs: 200, lockRecheckMs: 100 });
  lockers.push(l);
  return l;
}

function plainLocker(): Locker {
  const client = new Redis({ host: "127.0.0.1", port: server.port });
  client.on("error", () => {});
  clients.push(client);
  return locker(client);
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
    const stalled = locker(stallingClient(key, 1500));
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
    const other = plainLocker();
    const res = await take(other, key, () => "next");
    expect(res).toEqual({ status: LockStatus.SUCCESS, result: "next" });
  },
);

it("a thread that stalled for less than its deadline starts the job as usual", async () => {
  const key = uniqueKey("short-stall");
  const l = locker(stallingClient(key, 100));
  await l.acquireAndRun(uniqueKey("warm"), () => {});
  let started = false;
  const res = await l.acquireAndRun(key, () => {
    started = true;
    return "ran";
  });
  expect(started).toBe(true);
  expect(res).toEqual({ status: LockStatus.SUCCESS, result: "ran" });
});
