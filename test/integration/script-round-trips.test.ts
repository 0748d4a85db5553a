import Redis from "ioredis";
import { beforeAll, describe, expect, it } from "vitest";
import { RedisDatabase } from "pulselock";
import { isCorruptRecordError, isRedisCommandError } from "../../src/errors";
import { LockBatches, waitFlagKey } from "../../src/lock-batches";
import { decodeLockRecord, ownLockData } from "../../src/lock-record";
import { EXTEND, decodeExtendReply, extendArgs } from "../../src/scripts/extend";
import { READ, decodeReadReply } from "../../src/scripts/read";
import { REMOVE } from "../../src/scripts/remove";
import { releaseResult, type ReleaseRequest } from "../../src/scripts/release";
import { REPORT, reportArgs, reportLapsed } from "../../src/scripts/report";
import { LockStatus } from "../../src/statuses";
import { randomHex } from "../../src/timers";
import { FUTURE, uniqueName, useScriptServer } from "../support/script-server";
import { waitFor } from "../support/wait-for";

/**
 * Each script end to end on a real redis-server, through its own encoder and
 * decoder (src/scripts/*.ts) and the EVALSHA/EVAL helper (db.run): the decoded
 * answer and what the keys hold afterwards, for the main cases of each. The
 * records the scripts write are read back with decodeLockRecord(), so the
 * layout of src/lock-record.ts and the Lua side of it must agree.
 */
let batches: LockBatches;

const redis = useScriptServer("rt");
const { liveProcess } = redis;
let client: Redis;
let db: RedisDatabase;
beforeAll(() => {
  ({ client, db } = redis);
  batches = new LockBatches(db, { lockTtlMs: 60_000, lockRecheckMs: 5_000, requestScoped: false });
});

const name = uniqueName;
const record = (token: number | string, processHash: string, seq: string, traceField = "") =>
  `pl1|${token}|1700000000000|1700000000000|${processHash}|${seq}|${traceField}`;

describe("ACQUIRE through LockBatches", () => {
  it("free keys: taken in one batch with the batch's TIME as token; the record reads back as the lock asked for", async () => {
    const processHash = await liveProcess();
    const [a, b] = [name("free"), name("free")];
    const [first, second] = await Promise.all([
      batches.acquire({ redisKey: db.lockKey(a), processHash, seq: "1", trace: "a|trace#with|bars", waitFlagMs: "" }),
      batches.acquire({ redisKey: db.lockKey(b), processHash, seq: "2", trace: undefined, waitFlagMs: "" }),
    ]);
    if (first.kind !== "taken" || second.kind !== "taken") throw new Error(`not taken: ${JSON.stringify([first, second])}`);
    expect(second.token).toBe(first.token); // one script call, one TIME
    expect(first.ms).toBe(Math.floor(first.token / 1000));
    expect(Math.abs(first.ms - Date.now())).toBeLessThan(60_000);
    const readBack = decodeLockRecord(a, db.lockKey(a), await client.get(db.lockKey(a)));
    expect(readBack).toEqual(ownLockData({ key: a, processHash, seq: "1", trace: "a|trace#with|bars" }, first.token, first.ms));
    expect(decodeLockRecord(b, db.lockKey(b), await client.get(db.lockKey(b)))).toEqual(
      ownLockData({ key: b, processHash, seq: "2" }, second.token, second.ms),
    );
    expect(await client.pttl(db.lockKey(a))).toBeGreaterThan(50_000);
    expect(await client.exists(waitFlagKey(db.lockKey(a)))).toBe(0); // the short form names no flag
  });

  it("held: answers with the current value, and a waiter's full form flags it", async () => {
    const processHash = await liveProcess();
    const key = name("held");
    const holder = record(5, "d".repeat(32), "7", "#job");
    await client.set(db.lockKey(key), holder);
    expect(await batches.acquire({ redisKey: db.lockKey(key), processHash, seq: "1", trace: undefined, waitFlagMs: "" })).toEqual({
      kind: "held",
      record: holder,
    });
    expect(await client.exists(waitFlagKey(db.lockKey(key)))).toBe(0);
    expect(await batches.acquire({ redisKey: db.lockKey(key), processHash, seq: "2", trace: undefined, waitFlagMs: "5000" })).toEqual({
      kind: "held",
      record: holder,
    });
    expect(await client.pttl(waitFlagKey(db.lockKey(key)))).toBeGreaterThan(0);
    expect(await client.get(db.lockKey(key))).toBe(holder);
  });

  it("a dead victim: taken over only when named by processHash and seq, with a token past its own", async () => {
    const processHash = await liveProcess();
    const dead = "d".repeat(32);
    const key = name("victim");
    const redisKey = db.lockKey(key);
    await client.set(redisKey, record(FUTURE, dead, "7"));
    const wrongSeq = await batches.acquire({ redisKey, processHash, seq: "1", trace: undefined, victim: { processHash: dead, seq: "8" }, waitFlagMs: "" });
    expect(wrongSeq).toEqual({ kind: "held", record: record(FUTURE, dead, "7") });
    const taken = await batches.acquire({ redisKey, processHash, seq: "1", trace: "t", victim: { processHash: dead, seq: "7" }, waitFlagMs: "" });
    if (taken.kind !== "taken") throw new Error(`not taken: ${JSON.stringify(taken)}`);
    expect(taken.token).toBe(FUTURE + 1);
    expect(decodeLockRecord(key, redisKey, await client.get(redisKey))).toEqual(ownLockData({ key, processHash, seq: "1", trace: "t" }, FUTURE + 1, taken.ms));
  });

  it("a release's tombstone: free, and the new token passes the one it remembers", async () => {
    const processHash = await liveProcess();
    const key = name("tomb");
    await client.set(db.lockKey(key), `pl1t|${FUTURE}`);
    const taken = await batches.acquire({ redisKey: db.lockKey(key), processHash, seq: "3", trace: undefined, waitFlagMs: "" });
    expect(taken).toMatchObject({ kind: "taken", token: FUTURE + 1 });
    expect(decodeLockRecord(key, db.lockKey(key), await client.get(db.lockKey(key))).fencingToken).toBe(FUTURE + 1);
  });

  it("lapsed: without the caller's liveness record nothing is taken", async () => {
    const key = name("lapsed");
    expect(await batches.acquire({ redisKey: db.lockKey(key), processHash: randomHex(16), seq: "1", trace: undefined, waitFlagMs: "" })).toEqual({
      kind: "lapsed",
    });
    expect(await client.exists(db.lockKey(key))).toBe(0);
  });

  it("a key of another type fails alone, as that lock's RedisCommandError", async () => {
    const processHash = await liveProcess();
    const [bad, good] = [name("hash"), name("ok")];
    await client.hset(db.lockKey(bad), "f", "v");
    const [failed, taken] = await Promise.allSettled([
      batches.acquire({ redisKey: db.lockKey(bad), processHash, seq: "1", trace: undefined, waitFlagMs: "" }),
      batches.acquire({ redisKey: db.lockKey(good), processHash, seq: "2", trace: undefined, waitFlagMs: "" }),
    ]);
    expect(failed.status === "rejected" && isRedisCommandError(failed.reason) && failed.reason.code).toBe("WRONGTYPE");
    expect(taken).toMatchObject({ status: "fulfilled", value: { kind: "taken" } });
  });
});

const catchError = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe("RELEASE through LockBatches", () => {
  /** A release's answer as the Locker reads it: LockBatches sends it, releaseResult() decodes it. */
  const release = async (request: ReleaseRequest) => releaseResult(request.key, request.redisKey, await batches.release(request));
  it("own: deleted; a flagged one also wakes its waiters", async () => {
    const processHash = await liveProcess();
    const key = name("own");
    const redisKey = db.lockKey(key);
    const taken = await batches.acquire({ redisKey, processHash, seq: "1", trace: undefined, waitFlagMs: "" });
    expect(taken.kind).toBe("taken");
    await batches.acquire({ redisKey, processHash: await liveProcess(), seq: "9", trace: undefined, waitFlagMs: "5000" }); // a waiter flags it
    const subscriber = client.duplicate();
    const woken: string[] = [];
    try {
      subscriber.on("message", (channel: string) => woken.push(channel));
      await subscriber.subscribe(db.wakeChannel(key));
      // Past the token, the release deletes (before it, it would leave a tombstone: the next test).
      await waitFor("TIME to pass the token", async () => {
        const [seconds, micros] = await client.time();
        return Number(seconds) * 1e6 + Number(micros) > (taken as { token: number }).token;
      });
      expect(await release({ key, redisKey, owner: { processHash, seq: "1" } })).toEqual({ status: LockStatus.SUCCESS, lockData: null });
      expect(await client.exists(redisKey, waitFlagKey(redisKey))).toBe(0);
      await waitFor("the release to publish", () => woken.length > 0, { timeoutMs: 5_000 });
      expect(woken).toEqual([db.wakeChannel(key)]);
    } finally {
      subscriber.disconnect();
    }
  });

  it("own, before TIME has passed its token: a tombstone of the token stays, which every reader takes for no key", async () => {
    const processHash = randomHex(16);
    const key = name("ahead");
    const redisKey = db.lockKey(key);
    await client.set(redisKey, record(FUTURE, processHash, "4"));
    expect(await release({ key, redisKey, owner: { processHash, seq: "4" } })).toEqual({ status: LockStatus.SUCCESS, lockData: null });
    expect(await client.get(redisKey)).toBe(`pl1t|${FUTURE}`);
    expect(await client.pttl(redisKey)).toBeGreaterThan(0);
    expect(decodeReadReply(await db.run(READ, [redisKey], []))).toBeNull();
    // Released again: the tombstone holds no lock.
    expect(await release({ key, redisKey, owner: { processHash, seq: "4" } })).toEqual({ status: LockStatus.NO_KEY, lockData: null });
    expect(await client.get(redisKey)).toBe(`pl1t|${FUTURE}`);
  });

  it("foreign: untouched, answered with the holder's lockData (an owner inside a trace does not match)", async () => {
    const processHash = randomHex(16);
    const holder = "d".repeat(32);
    const key = name("foreign");
    const redisKey = db.lockKey(key);
    const value = record(5, holder, "1", `#${processHash}|1|`);
    await client.set(redisKey, value);
    const result = await release({ key, redisKey, owner: { processHash, seq: "1" } });
    expect(result).toEqual({ status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData: decodeLockRecord(key, redisKey, value) });
    expect(result.lockData?.processHash).toBe(holder);
    expect(await client.get(redisKey)).toBe(value);
  });

  it("free: NO_KEY", async () => {
    const key = name("free");
    expect(await release({ key, redisKey: db.lockKey(key), owner: { processHash: randomHex(16), seq: "1" } })).toEqual({
      status: LockStatus.NO_KEY,
      lockData: null,
    });
  });

  it("a value that is not a record: the call succeeds, reading its answer is a CorruptRecordError (not retried), and the key untouched", async () => {
    const key = name("corrupt");
    const redisKey = db.lockKey(key);
    await client.set(redisKey, "not a record");
    // Redis answered, so the batch call resolves; the answer fails when read, outside the Locker's retries.
    const answer = await batches.release({ key, redisKey, owner: { processHash: randomHex(16), seq: "1" } });
    expect(answer).toBe("not a record");
    expect(isCorruptRecordError(catchError(() => releaseResult(key, redisKey, answer)))).toBe(true);
    expect(await client.get(redisKey)).toBe("not a record");
  });
});

describe("EXTEND", () => {
  const extend = async (key: string, processHash: string, seq: string) =>
    decodeExtendReply(key, db.lockKey(key), await db.run(EXTEND, [db.lockKey(key)], extendArgs({ processHash, seq }, 60_000)));

  it("own: extendedAt moves to Redis TIME, the rest of the record (trace with bars) stays, the TTL is fresh", async () => {
    const processHash = randomHex(16);
    const key = name("ext");
    const redisKey = db.lockKey(key);
    await client.set(redisKey, record(5, processHash, "3", "#a|b#c"), "PX", 1_000);
    const result = await extend(key, processHash, "3");
    expect(result.status).toBe(LockStatus.SUCCESS);
    const now = await client.get(redisKey);
    expect(result.lockData).toEqual(decodeLockRecord(key, redisKey, now));
    expect(result.lockData).toMatchObject({ fencingToken: 5, processHash, trace: "a|b#c", acquiredAt: new Date(1700000000000).toISOString() });
    expect(Math.abs(Date.parse(result.lockData!.extendedAt) - Date.now())).toBeLessThan(60_000);
    expect(await client.pttl(redisKey)).toBeGreaterThan(50_000);
  });

  it("foreign: SOMEONE_ELSE_HOLDS_LOCK with the holder's record, untouched", async () => {
    const key = name("ext-foreign");
    const value = record(5, "d".repeat(32), "3");
    await client.set(db.lockKey(key), value);
    expect(await extend(key, randomHex(16), "3")).toEqual({
      status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK,
      lockData: decodeLockRecord(key, db.lockKey(key), value),
    });
    expect(await client.get(db.lockKey(key))).toBe(value);
  });

  it("gone or a tombstone: NO_KEY, and nothing is written", async () => {
    const [gone, tomb] = [name("ext-gone"), name("ext-tomb")];
    await client.set(db.lockKey(tomb), "pl1t|5");
    expect(await extend(gone, randomHex(16), "1")).toEqual({ status: LockStatus.NO_KEY, lockData: null });
    expect(await extend(tomb, randomHex(16), "1")).toEqual({ status: LockStatus.NO_KEY, lockData: null });
    expect(await client.exists(db.lockKey(gone))).toBe(0);
    expect(await client.get(db.lockKey(tomb))).toBe("pl1t|5");
  });
});

describe("READ, REMOVE, REPORT", () => {
  it("READ: the value, null for none and for a tombstone", async () => {
    const [some, none, tomb] = [name("r"), name("r"), name("r")].map((k) => db.lockKey(k));
    await client.set(some!, "value");
    await client.set(tomb!, "pl1t|12");
    expect(decodeReadReply(await db.run(READ, [some!], []))).toBe("value");
    expect(decodeReadReply(await db.run(READ, [none!], []))).toBeNull();
    expect(decodeReadReply(await db.run(READ, [tomb!], []))).toBeNull();
  });

  it("REMOVE: deletes the key, and says how many went", async () => {
    const key = db.processKey(randomHex(16));
    await client.set(key, "1");
    expect(await db.run(REMOVE, [key], [])).toBe(1);
    expect(await client.exists(key)).toBe(0);
    expect(await db.run(REMOVE, [key], [])).toBe(0);
  });

  it("REPORT: the first write creates the record with its TTL; a rewrite keeps it, or finds it lapsed and creates nothing", async () => {
    const key = db.processKey(randomHex(16));
    expect(reportLapsed(await db.run(REPORT, [key], reportArgs("data-1", 5_000, false)), false)).toBe(false);
    expect(await client.get(key)).toBe("data-1");
    expect(await client.pttl(key)).toBeGreaterThan(4_000);
    expect(reportLapsed(await db.run(REPORT, [key], reportArgs("data-2", 60_000, true)), true)).toBe(false);
    expect(await client.get(key)).toBe("data-2");
    expect(await client.pttl(key)).toBeGreaterThan(50_000);
    await client.del(key);
    expect(reportLapsed(await db.run(REPORT, [key], reportArgs("data-3", 60_000, true)), true)).toBe(true);
    expect(await client.exists(key)).toBe(0);
  });
});
