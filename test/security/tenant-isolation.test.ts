import Redis from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Locker, LockStatus, RedisDatabase, isRedisCommandError } from "pulselock";
import { startRedis } from "../support/redis-server.mjs";
import { uniqueKey } from "../support/wait-for";

/**
 * SECURITY.md, "Key prefixes for shared Redis" and "What a client with write
 * access can do": a prefix keeps tenants' lock names apart, and a Redis ACL
 * user limited to its prefix (keys and pub/sub channels) runs pulselock fully
 * while it cannot read, take or delete another tenant's locks.
 */
let server: Awaited<ReturnType<typeof startRedis>>;
let admin: Redis;

beforeAll(async () => {
  server = await startRedis();
  admin = new Redis(server.url);
  for (const tenant of ["tenantA", "tenantB"]) {
    await admin.call("ACL", "SETUSER", tenant, "on", `>${tenant}-pw`, "resetkeys", `~${tenant}:*`, "resetchannels", `&${tenant}:*`, "+@all", "-@dangerous");
  }
});
afterAll(async () => {
  admin?.disconnect();
  await server?.close();
});

const asTenant = (tenant: string) => new Redis(server.url, { username: tenant, password: `${tenant}-pw` });

it("two prefixes on one Redis are two lock spaces: the same name is held by both, and every key stays under its prefix", async () => {
  const name = uniqueKey("shared-name");
  const a = new Locker({ database: new RedisDatabase(new Redis(server.url), { prefix: "appA:" }) });
  const b = new Locker({ database: new RedisDatabase(new Redis(server.url), { prefix: "appB:" }) });
  try {
    const [ra, rb] = await Promise.all([a.acquire(name), b.acquire(name)]);
    expect(ra.status).toBe(LockStatus.SUCCESS);
    expect(rb.status).toBe(LockStatus.SUCCESS);
    const keys = await admin.keys(`*${name}*`);
    expect(keys.sort()).toEqual([`appA:pl:{${name}}`, `appB:pl:{${name}}`]);
    const procKeys = await admin.keys("*pl:proc:*");
    for (const key of procKeys) expect(key.startsWith("appA:") || key.startsWith("appB:"), key).toBe(true);
  } finally {
    await Promise.all([a.terminate(), b.terminate()]);
  }
});

it("an ACL user limited to its prefix runs every operation, and cannot read, take or delete another tenant's lock", async () => {
  const name = uniqueKey("acl");
  const clientA = asTenant("tenantA");
  const clientB = asTenant("tenantB");
  const lockerA = new Locker({ database: new RedisDatabase(clientA, { prefix: "tenantA:" }), reportWriteMs: 200, reportTtlMs: 2000 });
  const lockerB = new Locker({ database: new RedisDatabase(clientB, { prefix: "tenantB:" }), reportWriteMs: 200, reportTtlMs: 2000 });
  // Tenant A pointed at tenant B's prefix: what a misconfigured or hostile tenant would try.
  const intruder = new Locker({ database: new RedisDatabase(asTenant("tenantA"), { prefix: "tenantB:" }), reportWriteMs: 200, reportTtlMs: 2000 });
  try {
    const held = await lockerB.acquire(name);
    expect(held.status).toBe(LockStatus.SUCCESS);
    // Tenant A's own work is unaffected: acquire, heartbeats, mutex with pub/sub wake-ups, release.
    const run = await lockerA.acquireAndRun(name, async (heartbeat) => (await heartbeat.delay(50), "ok"));
    expect(run).toMatchObject({ status: LockStatus.SUCCESS, result: "ok" });
    expect(await lockerA.mutex(name, { timeoutMs: 5000 }, async () => "mutex ok")).toBe("mutex ok");

    const refused = await intruder.acquire(name).catch((error: unknown) => error);
    expect(isRedisCommandError(refused)).toBe(true);
    expect(refused).toMatchObject({ code: "NOPERM", transient: false });
    const lockKey = `tenantB:pl:{${name}}`;
    await expect(clientA.get(lockKey)).rejects.toThrow(/NOPERM/);
    await expect(clientA.del(lockKey)).rejects.toThrow(/NOPERM/);
    // Tenant B's lock is untouched.
    expect(await admin.get(lockKey)).toContain(held.lockData.processHash);
    if (held.status === LockStatus.SUCCESS) expect((await held.extend()).status).toBe(LockStatus.SUCCESS);
  } finally {
    await Promise.all([lockerA.terminate(), lockerB.terminate(), intruder.terminate()]);
    clientA.disconnect();
    clientB.disconnect();
  }
});
