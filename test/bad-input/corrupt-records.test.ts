import { Redis as Upstash } from "@upstash/redis";
import Redis from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { Locker, LockStatus, RedisDatabase, isCorruptRecordError, isRedisCommandError, type LockData } from "pulselock";
import { useUpstashStack } from "../support/upstash-stack";
import { uniqueKey } from "../support/wait-for";
import { FAST } from "./support";

/*
 * Lock and liveness keys that hold something pulselock did not write, on
 * ioredis and on Upstash: every method gives the documented typed error at
 * once (CorruptRecordError for a foreign string, RedisCommandError WRONGTYPE
 * for another type), leaves the foreign value exactly as it was, and writes
 * no other key.
 */
const stack = useUpstashStack();
const lockers: Locker[] = [];
const clients: Redis[] = [];
afterAll(async () => {
  await Promise.all(lockers.map((l) => l.terminate()));
  for (const c of clients) c.disconnect();
});

const TRANSPORTS = {
  ioredis: () => {
    const c = new Redis(stack.redis.url, { maxRetriesPerRequest: 2 });
    c.on("error", () => {});
    clients.push(c);
    return c;
  },
  upstash: () => new Upstash({ url: stack.rest.url, token: stack.rest.token, enableTelemetry: false, retry: false }),
} as const;
type TransportName = keyof typeof TRANSPORTS;

function setup(transport: TransportName, options: { reportWriteMs?: number; reportTtlMs?: number } = FAST) {
  const prefix = `bi-corrupt:${crypto.randomUUID()}:`;
  const db = new RedisDatabase(TRANSPORTS[transport](), { prefix });
  const locker = new Locker({ database: db, ...options });
  lockers.push(locker);
  return { prefix, db, locker };
}

/** Every key under `prefix` except liveness records of open Lockers. */
async function keysUnder(prefix: string): Promise<string[]> {
  const keys = await stack.admin.keys(`${prefix}*`);
  return keys.filter((k) => !k.startsWith(`${prefix}pl:proc:`)).sort();
}

const HEX = "a".repeat(32);
/** Values another writer may leave under a lock key, and the error each must give. */
const FOREIGN: Array<[string, (key: string) => Promise<unknown>, "corrupt" | "WRONGTYPE"]> = [
  ["a garbage string", (k) => stack.admin.set(k, "not a pulselock record"), "corrupt"],
  ["an empty string", (k) => stack.admin.set(k, ""), "corrupt"],
  ["an integer", (k) => stack.admin.set(k, "12345"), "corrupt"],
  ["JSON", (k) => stack.admin.set(k, '{"owner":"someone"}'), "corrupt"],
  ["a record with a token beyond 2^53", (k) => stack.admin.set(k, `pl1|9007199254740993|1700000000000|1700000000000|${HEX}|1|`), "corrupt"],
  ["a record with a bad process hash", (k) => stack.admin.set(k, `pl1|1|1700000000000|1700000000000|NOTHEX|1|`), "corrupt"],
  ["a hash", (k) => stack.admin.hset(k, "owner", "someone"), "WRONGTYPE"],
  ["a list", (k) => stack.admin.rpush(k, "a", "b"), "WRONGTYPE"],
  ["a set", (k) => stack.admin.sadd(k, "a"), "WRONGTYPE"],
  ["a sorted set", (k) => stack.admin.zadd(k, 1, "a"), "WRONGTYPE"],
];

function expectDocumented(error: unknown, kind: "corrupt" | "WRONGTYPE", redisKey: string): void {
  if (kind === "corrupt") {
    expect(isCorruptRecordError(error), String(error)).toBe(true);
    expect((error as { redisKey: string }).redisKey).toBe(redisKey);
  } else {
    expect(isRedisCommandError(error), String(error)).toBe(true);
    expect(error).toMatchObject({ code: "WRONGTYPE", transient: false });
  }
}

/** Every public method that reads the lock key, each as a call that must reject. */
function calls(locker: Locker, key: string, own: LockData, ran: { fn: boolean }) {
  const fn = async () => void (ran.fn = true);
  return {
    acquire: () => locker.acquire(key),
    acquireAndRun: () => locker.acquireAndRun(key, fn),
    readLockData: () => locker.readLockData(key),
    readOwnerHashStatus: () => locker.readOwnerHashStatus(own.ownerHash),
    release: () => locker.release(key, own),
    // A corrupt key is not "held": mutex must fail at once, not wait out its timeout.
    mutex: () => locker.mutex(key, 20_000, fn),
  };
}

for (const transport of Object.keys(TRANSPORTS) as TransportName[]) {
  describe(`${transport}: a lock key holding a foreign value`, () => {
    it.each(FOREIGN)("%s: every method gives the documented error, and the value stays", async (_label, plant, kind) => {
      const { prefix, db, locker } = setup(transport);
      const key = uniqueKey("k");
      const redisKey = db.lockKey(key);
      const own = await locker.acquire(key); // an owner whose record someone then overwrote
      expect(own.status).toBe(LockStatus.SUCCESS);
      await stack.admin.del(redisKey);
      await plant(redisKey);
      const before = await stack.admin.dumpBuffer(redisKey);
      const ran = { fn: false };
      for (const [method, call] of Object.entries(calls(locker, key, own.lockData, ran))) {
        const t0 = performance.now();
        const error = await Promise.resolve()
          .then(call as () => Promise<unknown>)
          .then(
            (value) => ({ resolvedWith: value }),
            (e) => e,
          );
        expect(performance.now() - t0, method).toBeLessThan(10_000);
        expectDocumented(error, kind, redisKey);
      }
      expect(ran.fn).toBe(false);
      expect(await stack.admin.dumpBuffer(redisKey)).toEqual(before);
      expect(await keysUnder(prefix)).toEqual([redisKey]);
    });
  });

  describe(`${transport}: the holder's liveness key holding a foreign value`, () => {
    // The holder writes its liveness rarely, so the planted value stays for the whole test.
    const SLOW = { reportWriteMs: 20_000, reportTtlMs: 60_000 };

    /** A holder with a lock, and a contender on the same database. */
    async function holderAndContender() {
      const { prefix, db, locker: holder } = setup(transport, SLOW);
      const contender = new Locker({ database: db, ...FAST });
      lockers.push(contender);
      const key = uniqueKey("k");
      const held = await holder.acquire(key);
      if (held.status !== LockStatus.SUCCESS) throw new Error(`the holder did not get ${key}`);
      return { prefix, db, holder, contender, key, held };
    }

    it("another type: WRONGTYPE from every reader, and the lock is neither taken nor changed", async () => {
      const { prefix, db, holder, contender, key, held } = await holderAndContender();
      const procKey = db.processKey(held.lockData.processHash);
      await stack.admin.del(procKey);
      await stack.admin.hset(procKey, "pid", "1234");
      const record = await stack.admin.get(db.lockKey(key));
      const ran = { fn: false };
      const { release: _mine, ...others } = calls(contender, key, held.lockData, ran);
      for (const [method, call] of Object.entries(others)) {
        const error = await Promise.resolve()
          .then(call as () => Promise<unknown>)
          .then(
            (value) => ({ resolvedWith: value }),
            (e) => e,
          );
        expect(isRedisCommandError(error), `${method}: ${String(error)}`).toBe(true);
        expect(error).toMatchObject({ code: "WRONGTYPE", transient: false });
      }
      expect(ran.fn).toBe(false);
      expect(await stack.admin.get(db.lockKey(key))).toBe(record);
      expect(await stack.admin.type(procKey)).toBe("hash");
      expect(await keysUnder(prefix)).toEqual([db.lockKey(key)]);
      expect((await holder.release(key, held.lockData)).status).toBe(LockStatus.SUCCESS);
      expect(await keysUnder(prefix)).toEqual([]);
    });

    it("a junk string: the holder counts as alive (liveness is the key's presence), nothing is taken over", async () => {
      const { prefix, db, holder, contender, key, held } = await holderAndContender();
      await stack.admin.set(db.processKey(held.lockData.processHash), "\u0000junk", "PX", 60_000);
      const res = await contender.acquire(key);
      expect(res.status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
      expect(res.lockData).toEqual(held.lockData);
      expect(await contender.readLockData(key)).toEqual(held.lockData);
      expect((await contender.readOwnerHashStatus(held.lockData.ownerHash)).status).toBe("RUNNING");
      expect((await holder.release(key, held.lockData)).status).toBe(LockStatus.SUCCESS);
      expect(await keysUnder(prefix)).toEqual([]);
    });
  });
}
