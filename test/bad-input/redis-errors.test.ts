import Redis from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { Locker, LockStatus, RedisDatabase, isRedisCommandError, isLivenessError, type LockerErrorEvent, type LockerOptions } from "pulselock";
import { startRedis } from "../support/redis-server.mjs";
import { uniqueKey, waitFor } from "../support/wait-for";
import { startLoadingProxy } from "./loading-proxy";

/*
 * A real Redis that refuses commands: out of memory (maxmemory with
 * noeviction), a read-only replica, a server still loading its dataset. Each
 * is a transient RedisCommandError with Redis's code (or, when not even the
 * liveness record can be written, a LivenessError with the code on
 * locker.errors), leaves no lock, and nothing hangs.
 */
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function server(extraArgs: string[] = []) {
  const s = await startRedis({ extraArgs: extraArgs as never[] });
  cleanup.push(() => s.close());
  return s;
}

function client(port: number): Redis {
  const c = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 2 });
  c.on("error", () => {});
  cleanup.push(() => c.disconnect());
  return c;
}

/** A Node Locker on `port` under a fresh prefix, with the errors it reports in the background. */
function lockerOn(port: number, options: Partial<LockerOptions> = {}) {
  const prefix = `bi-redis:${crypto.randomUUID()}:`;
  const locker = new Locker({
    database: new RedisDatabase(client(port), { prefix }),
    reportWriteMs: 200,
    reportTtlMs: 2000,
    ...options,
  });
  const background: LockerErrorEvent[] = [];
  locker.errors.subscribe((e) => background.push(e));
  cleanup.push(() => locker.terminate());
  return { prefix, locker, background };
}

async function keysUnder(admin: Redis, prefix: string, withLiveness = false): Promise<string[]> {
  const keys = await admin.keys(`${prefix}*`);
  return keys.filter((k) => withLiveness || !k.startsWith(`${prefix}pl:proc:`)).sort();
}

function expectRedisError(error: unknown, code: string, operation?: string): void {
  expect(isRedisCommandError(error), JSON.stringify(error) ?? String(error)).toBe(true);
  expect(error).toMatchObject({ code, transient: true, ...(operation ? { operation } : {}) });
}

/** A fresh Locker whose first liveness write Redis refuses: LivenessError within the spawn timeout, the code on locker.errors. */
async function expectFirstWriteRefused(port: number, code: string) {
  const { prefix, locker, background } = lockerOn(port, { reporterWorkerSpawnTimeoutMs: 2000 });
  const t0 = performance.now();
  const error = await locker.acquire(uniqueKey("fresh")).catch((e) => e);
  expect(isLivenessError(error), String(error)).toBe(true);
  expect(performance.now() - t0).toBeLessThan(10_000);
  expect(background.some((e) => isRedisCommandError(e.error) && e.error.code === code && e.error.transient)).toBe(true);
  return prefix;
}

describe("OOM: maxmemory reached with maxmemory-policy noeviction", () => {
  it("acquire, acquireAndRun and mutex fail with a transient OOM, release still works, and it recovers", async () => {
    const redis = await server(["--maxmemory-policy", "noeviction"]);
    const admin = client(redis.port);
    const { prefix, locker } = lockerOn(redis.port);
    const heldKey = uniqueKey("held");
    const held = await locker.acquire(heldKey);
    expect(held.status).toBe(LockStatus.SUCCESS);
    // Fill it with data, then cap it below what it already uses: every write is refused from now on.
    const fill = admin.pipeline();
    for (let i = 0; i < 2000; i++) fill.set(`filler:${i}`, "x".repeat(1000));
    await fill.exec();
    await admin.config("SET", "maxmemory", "1mb");
    await expect(admin.set("probe", "1")).rejects.toThrow(/^OOM/);

    const key = uniqueKey("oom");
    let ran = false;
    expectRedisError(await locker.acquire(key).catch((e) => e), "OOM", "acquire");
    expectRedisError(await locker.acquireAndRun(key, () => void (ran = true)).catch((e) => e), "OOM", "acquire");
    expectRedisError(await locker.mutex(key, 20_000, () => void (ran = true)).catch((e) => e), "OOM", "acquire");
    expect(ran).toBe(false);
    expect(await keysUnder(admin, prefix)).toEqual([`${prefix}pl:{${heldKey}}`]);
    // Deleting needs no memory: a held lock can always be given back.
    expect((await locker.release(heldKey, held.lockData)).status).toBe(LockStatus.SUCCESS);

    const freshPrefix = await expectFirstWriteRefused(redis.port, "OOM");
    expect(await keysUnder(admin, freshPrefix, true)).toEqual([]);

    await admin.config("SET", "maxmemory", "0");
    expect(await locker.acquireAndRun(key, async () => "after")).toEqual({ status: LockStatus.SUCCESS, result: "after" });
    expect(await keysUnder(admin, prefix)).toEqual([]);
  });
});

describe("READONLY: a replica", () => {
  /** A primary and a replica of it, with the link up. */
  async function pair() {
    const primary = await server();
    const replica = await server(["--replicaof", "127.0.0.1", String(primary.port)]);
    const [p, r] = [client(primary.port), client(replica.port)];
    await waitFor("the replica's link to the primary", async () => /master_link_status:up/.test(await r.info("replication")));
    return { primary, replica, p, r };
  }

  it("a Locker pointed at a replica cannot write its liveness: LivenessError, READONLY on locker.errors, nothing written", async () => {
    const { replica, p, r } = await pair();
    const prefix = await expectFirstWriteRefused(replica.port, "READONLY");
    expect(await keysUnder(r, prefix, true)).toEqual([]);
    expect(await keysUnder(p, prefix, true)).toEqual([]);
  });

  it("after a role swap, the old primary answers READONLY: acquire fails at once, release retries until the lock has expired", async () => {
    const { primary, replica, p, r } = await pair();
    // Slow liveness writes, so the record (replicated to the new primary) outlives the swap.
    const { prefix, locker, background } = lockerOn(primary.port, {
      reportWriteMs: 1000,
      reportTtlMs: 20_000,
      lockTtlMs: 3000,
      lockExtendMs: 1000,
    });
    const heldKey = uniqueKey("held");
    const held = await locker.acquire(heldKey);
    expect(held.status).toBe(LockStatus.SUCCESS);
    await waitFor("the lock on the replica", () => r.exists(`${prefix}pl:{${heldKey}}`));
    await r.replicaof("NO", "ONE");
    await p.replicaof("127.0.0.1", String(replica.port));
    await waitFor("the old primary's link to the new one", async () => /master_link_status:up/.test(await p.info("replication")));

    const key = uniqueKey("readonly");
    expectRedisError(await locker.acquire(key).catch((e) => e), "READONLY", "acquire");
    const t0 = performance.now();
    // Retried while READONLY (each retry reported), for at most lockTtlMs: by then the lock expired by itself.
    expect(await locker.release(heldKey, held.lockData)).toEqual({ status: LockStatus.NO_KEY, lockData: null });
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(background.some((e) => e.type === "locker" && isRedisCommandError(e.error) && e.error.code === "READONLY")).toBe(true);
    expect(await keysUnder(r, prefix)).toEqual([]);
  });
});

describe("LOADING: a server loading its dataset", () => {
  it("acquire, acquireAndRun, readLockData and mutex fail with a transient LOADING; afterwards it works", async () => {
    const redis = await server();
    const admin = client(redis.port);
    const proxy = await startLoadingProxy(redis.port);
    cleanup.push(() => proxy.close());
    const { prefix, locker } = lockerOn(proxy.port, { reportWriteMs: 1000, reportTtlMs: 20_000 });
    expect((await locker.acquireAndRun(uniqueKey("warm"), async () => "ok")).status).toBe(LockStatus.SUCCESS);
    proxy.loading(true);
    const key = uniqueKey("loading");
    let ran = false;
    expectRedisError(await locker.acquire(key).catch((e) => e), "LOADING");
    expectRedisError(await locker.acquireAndRun(key, () => void (ran = true)).catch((e) => e), "LOADING");
    expectRedisError(await locker.readLockData(key).catch((e) => e), "LOADING");
    expectRedisError(await locker.mutex(key, 20_000, () => void (ran = true)).catch((e) => e), "LOADING");
    expect(ran).toBe(false);
    expect(await keysUnder(admin, prefix)).toEqual([]);
    proxy.loading(false);
    expect(await locker.acquireAndRun(key, async () => "after")).toEqual({ status: LockStatus.SUCCESS, result: "after" });
    expect(await keysUnder(admin, prefix)).toEqual([]);
  });
});
