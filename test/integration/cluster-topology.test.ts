import Redis from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LockStatus, Locker, isRunEndedError, type LockData, type RedisDatabase } from "pulselock";
import { clusterSlot } from "../../src/cluster-slot";
import { escapeLockName } from "../../src/keys";
import { clusterContext, type ClusterContext } from "../support/cluster-context";
import { waitFor } from "../support/wait-for";

/** Redis Cluster specifics (issue 3): slots and hash tags, liveness on any node, resharding under load. */
let ctx: ClusterContext;
const lockers: Locker[] = [];
const FAST = { reportWriteMs: 200, reportTtlMs: 1000, lockRecheckMs: 50 };

beforeAll(async () => {
  ctx = await clusterContext();
});
afterEach(async () => {
  await Promise.all(lockers.splice(0).map((l) => l.terminate()));
});
afterAll(async () => {
  await ctx?.close();
});

function locker(options: object = {}, db: RedisDatabase = ctx.database()): Locker {
  const l = new Locker({ database: db, ...FAST, ...options });
  lockers.push(l);
  return l;
}

const fullKey = (db: RedisDatabase, name: string) => db.transport.clientKeyPrefix + db.lockKey(name);
const masterOfKey = (db: RedisDatabase, name: string) => ctx.cluster.masterOf(clusterSlot(fullKey(db, name)));

const ADVERSARIAL = ["{", "}", "{}", "}{", "{user1000}", "a{b}c", "{{x}}", "}}{{", "x}", "{y", "%7B", "with space", "new\nline", "ключ🔒"];

describe("Redis Cluster", () => {
  it("spreads lock names over all three masters, adversarial names included, with no CROSSSLOT", async () => {
    const db = ctx.database();
    const l = locker({}, db);
    const masters = new Set<number>();
    const names = [...ADVERSARIAL, ...Array.from({ length: 24 }, (_, i) => `job-${i}-${crypto.randomUUID()}`)].map((n) => `${n}${crypto.randomUUID()}`);
    for (const name of names) {
      // The lock key's slot is the slot of its escaped name: the tag is never empty nor cut short.
      expect(clusterSlot(fullKey(db, name))).toBe(clusterSlot(escapeLockName(name)));
      expect(Number(await ctx.adminClient.cluster("KEYSLOT", fullKey(db, name)))).toBe(clusterSlot(fullKey(db, name)));
      masters.add((await masterOfKey(db, name))!);
      const res = await l.acquire(name);
      if (res.status !== LockStatus.SUCCESS) throw new Error(`not acquired: ${JSON.stringify(name)}`);
      expect((await res.extend()).status).toBe(LockStatus.SUCCESS);
      expect((await l.release(name, res.lockData)).status).toBe(LockStatus.SUCCESS);
    }
    expect(masters.size).toBe(3);
  });

  it("liveness records work on whichever node holds them: takeovers of dead holders everywhere", async () => {
    const dbs = Array.from({ length: 6 }, () => ctx.database());
    const owners = dbs.map((db) => locker({}, db));
    const names = owners.map(() => `live-${crypto.randomUUID()}`);
    const held = await Promise.all(owners.map((o, i) => o.acquire(names[i]!)));
    expect(held.every((r) => r.status === LockStatus.SUCCESS)).toBe(true);
    const procMasters = new Set<number>();
    for (const r of held) {
      procMasters.add((await ctx.cluster.masterOf(clusterSlot(`${ctx.prefix}pl:proc:${r.lockData.processHash}`)))!);
    }
    expect(procMasters.size).toBeGreaterThanOrEqual(2);
    const taker = locker();
    for (const [i, o] of owners.entries()) {
      expect((await taker.acquire(names[i]!)).status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      await o.terminate();
      expect((await taker.acquire(names[i]!)).status).toBe(LockStatus.SUCCESS);
    }
  });

  it("release wake-ups use sharded pub/sub (SSUBSCRIBE/SPUBLISH), not cluster-wide PUBLISH", async () => {
    const stats = async () => {
      const info = String(await ctx.admin("INFO", "commandstats"));
      const sum = (cmd: string) => [...info.matchAll(new RegExp(`^cmdstat_${cmd}:calls=(\\d+)`, "gm"))].reduce((a, m) => a + Number(m[1]), 0);
      return { spublish: sum("spublish"), publish: sum("publish"), ssubscribe: sum("ssubscribe") };
    };
    const db = ctx.database();
    const holder = locker();
    const waiter = locker({}, db);
    const name = `wake-${crypto.randomUUID()}`;
    const held = await holder.acquire(name);
    if (held.status !== LockStatus.SUCCESS) throw new Error("not acquired");
    const before = await stats();
    const waited = waiter.mutex(name, { timeoutMs: 20_000, recheckDelayMs: 20_000 }, async () => performance.now());
    const channel = db.transport.clientKeyPrefix + db.lockKey(name);
    await waitFor("the waiter subscribed to the lock's own channel", async () => {
      const reply = (await ctx.adminClient.call("PUBSUB", "SHARDNUMSUB", channel)) as [string, number];
      return reply[1] >= 1;
    });
    // Its first try has failed once it flagged the held lock for the release to announce; then it sleeps ≥ 10 s unless woken.
    await waitFor("the waiter's first try flagged the held lock", async () => (await ctx.adminClient.exists(`${channel}:w`)) === 1);
    const releasedAt = performance.now();
    await holder.release(name, held.lockData);
    expect((await waited) - releasedAt).toBeLessThan(5_000); // a poll would come ≥ 10 s later (half of recheckDelayMs at least)
    const after = await stats();
    expect(after.spublish).toBeGreaterThan(before.spublish);
    expect(after.publish).toBe(before.publish);
  });

  it("resharding the slots of held, heartbeating locks loses and doubles nothing (MOVED and ASK)", async () => {
    const db = ctx.database();
    const owner = locker({ lockExtendMs: 150, lockTtlMs: 5_000 }, db);
    const contender = locker();
    const names = Array.from({ length: 6 }, () => `reshard-${crypto.randomUUID()}`);
    let stop = false;
    const aborted: string[] = [];
    const extendedAt = new Map<string, string>();
    let startedCount = 0;
    const runs = names.map((name) =>
      owner.acquireAndRun(name, async (heartbeat) => {
        startedCount++;
        // The signal also aborts when the job returns (RunEndedError): only a lost lock counts here.
        heartbeat.signal.addEventListener("abort", () => isRunEndedError(heartbeat.signal.reason) || aborted.push(name));
        while (!stop) {
          await heartbeat.delay(20);
          extendedAt.set(name, heartbeat.lockData.extendedAt);
        }
        return heartbeat.lockData;
      }),
    );
    await waitFor("all jobs running", () => startedCount === names.length);

    // Contenders keep trying during the whole migration; none may succeed.
    let stolen = 0;
    let contending = true;
    const contend = (async () => {
      while (contending) {
        for (const name of names) {
          const res = await contender.acquire(name).catch(() => undefined);
          if (res?.status === LockStatus.SUCCESS) stolen++;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    // Move every slot that holds one of the locks to another master, key by key, the way redis-cli reshard does.
    const nodeClients = new Map<number, Redis>();
    const node = (port: number) => {
      let c = nodeClients.get(port);
      if (!c) nodeClients.set(port, (c = new Redis({ host: "127.0.0.1", port })));
      return c;
    };
    const ids = new Map<number, string>();
    for (const n of ctx.cluster.nodes) ids.set(n.port, String(await node(n.port).cluster("MYID")));
    const moves: { slot: number; from: number; to: number }[] = [];
    for (const name of names) {
      const slot = clusterSlot(fullKey(db, name));
      if (moves.some((m) => m.slot === slot)) continue;
      const from = (await ctx.cluster.masterOf(slot))!;
      const to = [...ids.keys()].find((p) => p !== from)!;
      moves.push({ slot, from, to });
    }
    for (const { slot, from, to } of moves) {
      await node(to).cluster("SETSLOT", slot, "IMPORTING", ids.get(from)!);
      await node(from).cluster("SETSLOT", slot, "MIGRATING", ids.get(to)!);
      await new Promise((r) => setTimeout(r, 100)); // heartbeats meet the slot half-migrated (ASK)
      for (;;) {
        const keys = (await node(from).cluster("GETKEYSINSLOT", slot, 100)) as string[];
        if (keys.length === 0) break;
        await node(from).migrate("127.0.0.1", to, "", 0, 5000, "KEYS", ...keys);
      }
      for (const port of ids.keys()) await node(port).cluster("SETSLOT", slot, "NODE", ids.get(to)!);
    }
    for (const { slot, to } of moves) {
      await waitFor(`slot ${slot} served by ${to}`, async () => (await ctx.cluster.masterOf(slot)) === to);
    }
    // Keep heartbeating past the migration: extensions must land on the new masters (MOVED).
    const movedAt = Date.now(); // extendedAt is stamped by Redis's clock, which is this machine's
    await waitFor("every lock extended on its new master", () => names.every((n) => Date.parse(extendedAt.get(n) ?? "0") > movedAt));
    // Contenders stop before the owners release: a try that lands after a release is not a steal.
    contending = false;
    await contend;
    stop = true;
    const results = await Promise.all(runs);
    for (const c of nodeClients.values()) c.disconnect();

    expect(aborted).toEqual([]);
    expect(stolen).toBe(0);
    expect(results.every((r) => r.status === LockStatus.SUCCESS)).toBe(true);
    for (const [i, r] of results.entries()) {
      const lockData = r.result as LockData;
      expect(lockData.ownerHash.startsWith(`${names[i]}@`)).toBe(true);
      expect(await ctx.adminClient.exists(fullKey(db, names[i]!))).toBe(0); // released on its new master
    }
  });
});
