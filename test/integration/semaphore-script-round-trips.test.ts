import Redis from "ioredis";
import { beforeAll, describe, expect, it } from "vitest";
import { RedisDatabase } from "pulselock";
import { isCorruptRecordError } from "../../src/errors";
import { semaphoreKey } from "../../src/keys";
import { SEMAPHORE_ACQUIRE, decodeSemaphoreAcquireReply, semaphoreAcquireCall, type SemaphoreAcquireRequest } from "../../src/scripts/semaphore-acquire";
import { SEMAPHORE_EXTEND, decodeSemaphoreExtendReply } from "../../src/scripts/semaphore-extend";
import { SEMAPHORE_READ, decodeSemaphoreReadReply } from "../../src/scripts/semaphore-read";
import { SEMAPHORE_RELEASE, decodeSemaphoreReleaseReply, semaphoreReleaseCall, semaphoreReleaseResult } from "../../src/scripts/semaphore-release";
import { decodePermit, permitField } from "../../src/semaphore-record";
import { LockStatus } from "../../src/statuses";
import { randomHex } from "../../src/timers";
import { waitFlagKey } from "../../src/wait-flag-key";
import { uniqueName, useScriptServer } from "../support/script-server";

/**
 * The semaphore scripts end to end on a real redis-server, through their own encoders and decoders and db.run:
 * the decoded answers and what the hash holds afterwards. Permits the scripts write are read back with
 * decodePermit(), so the layout of src/semaphore-record.ts and its Lua side must agree.
 */
const TTL = 60_000;

const redis = useScriptServer("srt");
const { liveProcess } = redis;
let client: Redis;
let db: RedisDatabase;
beforeAll(() => {
  ({ client, db } = redis);
});

const name = uniqueName;

type Ask = Partial<Omit<SemaphoreAcquireRequest, "redisKey">> & { owner: SemaphoreAcquireRequest["owner"]; lockTtlMs?: number };

/** One SEMAPHORE_ACQUIRE call for several permits (all asked by the first one's process), through its encoder and decoder. */
async function acquireBatch(asks: { key: string; ask: Ask }[]) {
  const requests = asks.map(({ key, ask }) => ({ redisKey: semaphoreKey(db.prefix, key), limit: 2, waitFlagMs: "", victims: [], ...ask }));
  const { keys, args } = semaphoreAcquireCall(requests, asks[0]!.ask.lockTtlMs ?? TTL, db.processKey(requests[0]!.owner.processHash));
  return decodeSemaphoreAcquireReply(await db.run(SEMAPHORE_ACQUIRE, keys, args), requests.length);
}

async function acquire(key: string, ask: Ask) {
  const [outcome] = await acquireBatch([{ key, ask }]);
  if (outcome instanceof Error) throw outcome;
  return outcome!;
}

async function releaseBatch(permits: { key: string; processHash: string; seq: string }[], publish = "1") {
  const requests = permits.map((p) => ({ redisKey: semaphoreKey(db.prefix, p.key), field: permitField(p) }));
  const { keys, args } = semaphoreReleaseCall(requests, publish);
  return decodeSemaphoreReleaseReply(await db.run(SEMAPHORE_RELEASE, keys, args), requests.length);
}

const release = async (key: string, processHash: string, seq: string, publish = "1") => {
  const [answer] = await releaseBatch([{ key, processHash, seq }], publish);
  if (answer instanceof Error) throw answer;
  return semaphoreReleaseResult(semaphoreKey(db.prefix, key), answer);
};

const readAll = async (key: string) => {
  const redisKey = semaphoreKey(db.prefix, key);
  return decodeSemaphoreReadReply(await db.run(SEMAPHORE_READ, [redisKey], []))
    .map((v) => decodePermit(key, redisKey, v))
    .sort((x, y) => x.fencingToken - y.fencingToken);
};

describe("SEMAPHORE_ACQUIRE", () => {
  it("takes permits up to the limit with growing tokens; the permit reads back as asked; the next one is refused with the holders", async () => {
    const [a, b, c] = [await liveProcess(), await liveProcess(), await liveProcess()];
    const key = name("take");
    const first = await acquire(key, { owner: { key, processHash: a, seq: "1", trace: "t|with#bars" } });
    const second = await acquire(key, { owner: { key, processHash: b, seq: "7", trace: undefined } });
    if (first.kind !== "taken" || second.kind !== "taken") throw new Error("not taken");
    expect(second.token).toBeGreaterThan(first.token);
    const third = await acquire(key, { owner: { key, processHash: c, seq: "1", trace: undefined } });
    if (third.kind !== "full") throw new Error("a third permit was handed out");
    const redisKey = semaphoreKey(db.prefix, key);
    const holders = third.permits.map((p) => decodePermit(key, redisKey, p)).sort((x, y) => x.fencingToken - y.fencingToken);
    expect(holders.map((h) => [h.processHash, h.trace, h.fencingToken])).toEqual([
      [a, "t|with#bars", first.token],
      [b, undefined, second.token],
    ]);
    expect(holders[0]!.ownerHash).toBe(`${key}@${a}.1#t|with#bars`);
    expect(await readAll(key)).toEqual(holders);
    expect(Number(await client.hget(redisKey, "t"))).toBe(second.token);
    const pttl = await client.pttl(redisKey);
    expect(pttl).toBeGreaterThan(TTL - 5_000);
    expect(pttl).toBeLessThanOrEqual(TTL);
  });

  it("a resent call finds its own permit and answers taken with the same token; a larger limit lets more in", async () => {
    const a = await liveProcess();
    const key = name("resend");
    const owner = { key, processHash: a, seq: "3", trace: undefined };
    const first = await acquire(key, { owner, limit: 1 });
    const again = await acquire(key, { owner, limit: 1 });
    expect(again).toEqual(first);
    expect((await acquire(key, { owner: { ...owner, seq: "4" }, limit: 1 })).kind).toBe("full");
    expect((await acquire(key, { owner: { ...owner, seq: "4" }, limit: 2 })).kind).toBe("taken");
  });

  it("drops only the named dead holders' permits (a compare on processHash and seq), and expired permits", async () => {
    const [live, taker] = [await liveProcess(), await liveProcess()];
    const dead = randomHex(16);
    const key = name("victims");
    const redisKey = semaphoreKey(db.prefix, key);
    await client.set(db.processKey(dead), "1", "PX", 60_000);
    const deadPermit = await acquire(key, { owner: { key, processHash: dead, seq: "1", trace: undefined } });
    await acquire(key, { owner: { key, processHash: live, seq: "1", trace: undefined } });
    // A victim named with the wrong seq drops nothing.
    expect((await acquire(key, { owner: { key, processHash: taker, seq: "1", trace: undefined }, victims: [`${dead}|2`] })).kind).toBe("full");
    const taken = await acquire(key, { owner: { key, processHash: taker, seq: "1", trace: undefined }, victims: [`${dead}|1`] });
    if (taken.kind !== "taken" || deadPermit.kind !== "taken") throw new Error("not taken over");
    expect(taken.token).toBeGreaterThan(deadPermit.token);
    expect((await readAll(key)).map((h) => h.processHash).sort()).toEqual([live, taker].sort());
    // An expired permit (lockTtlMs passed without an extension) is free.
    const shortKey = name("expired");
    await acquire(shortKey, { owner: { key: shortKey, processHash: dead, seq: "1", trace: undefined }, limit: 1, lockTtlMs: 20 });
    await new Promise((r) => setTimeout(r, 30)); // the permit's own lockTtlMs, as Redis TIME counts it
    expect(await readAll(shortKey)).toEqual([]);
    expect((await acquire(shortKey, { owner: { key: shortKey, processHash: live, seq: "2", trace: undefined }, limit: 1 })).kind).toBe("taken");
    expect(await client.exists(redisKey)).toBe(1);
  });

  it("answers lapsed when the caller's own liveness record is gone, and flags a full semaphore for a waiter", async () => {
    const key = name("lapsed");
    expect(await acquire(key, { owner: { key, processHash: randomHex(16), seq: "1", trace: undefined } })).toEqual({ kind: "lapsed" });
    const a = await liveProcess();
    await acquire(key, { owner: { key, processHash: a, seq: "1", trace: undefined }, limit: 1 });
    const redisKey = semaphoreKey(db.prefix, key);
    expect((await acquire(key, { owner: { key, processHash: a, seq: "2", trace: undefined }, limit: 1, waitFlagMs: "5000" })).kind).toBe("full");
    expect(await client.pttl(waitFlagKey(redisKey))).toBeGreaterThan(0);
  });
});

describe("batches", () => {
  it("one call takes permits of several semaphores with one TIME, counts two of one semaphore one after the other, and a key of another type fails alone", async () => {
    const a = await liveProcess();
    const [x, y, wrong] = [name("bx"), name("by"), name("bwrong")];
    await client.set(semaphoreKey(db.prefix, wrong), "a string");
    const owner = (key: string, seq: string) => ({ key, processHash: a, seq, trace: undefined });
    const out = await acquireBatch([
      { key: x, ask: { owner: owner(x, "1"), limit: 1 } },
      { key: y, ask: { owner: owner(y, "2"), limit: 1 } },
      { key: x, ask: { owner: owner(x, "3"), limit: 1 } },
      { key: wrong, ask: { owner: owner(wrong, "4"), limit: 1 } },
    ]);
    expect(out[0]).toMatchObject({ kind: "taken" });
    expect(out[1]).toMatchObject({ kind: "taken" });
    expect(out[2]).toMatchObject({ kind: "full", permits: [expect.stringContaining(`|${a}|1|`)] });
    expect(out[3]).toMatchObject({ name: "RedisCommandError", code: "WRONGTYPE" });
    const [first, second] = out as { token: number }[];
    expect(second!.token).toBeGreaterThanOrEqual(first!.token); // one TIME: separate semaphores may share a token
    const released = await releaseBatch([
      { key: x, processHash: a, seq: "1" },
      { key: y, processHash: a, seq: "2" },
      { key: wrong, processHash: a, seq: "4" },
    ]);
    expect(released.slice(0, 2)).toEqual([1, 1]);
    expect(released[2]).toMatchObject({ name: "RedisCommandError", code: "WRONGTYPE" });
  });
});

describe("SEMAPHORE_EXTEND, SEMAPHORE_READ and SEMAPHORE_RELEASE", () => {
  it("extend stamps extendedAt and keeps the token; release frees, publishes only when flagged, and the hash keeps only a token still ahead of TIME", async () => {
    const a = await liveProcess();
    const key = name("cycle");
    const redisKey = semaphoreKey(db.prefix, key);
    const taken = await acquire(key, { owner: { key, processHash: a, seq: "1", trace: "x" } });
    if (taken.kind !== "taken") throw new Error("not taken");
    await new Promise((r) => setTimeout(r, 5));
    const extended = decodeSemaphoreExtendReply(key, redisKey, await db.run(SEMAPHORE_EXTEND, [redisKey], [`${a}|1`, String(TTL)]));
    if (extended.status !== LockStatus.SUCCESS) throw new Error("not extended");
    expect(extended.lockData.fencingToken).toBe(taken.token);
    expect(Date.parse(extended.lockData.extendedAt)).toBeGreaterThan(Date.parse(extended.lockData.acquiredAt));
    expect(decodeSemaphoreReadReply(await db.run(SEMAPHORE_READ, [redisKey], [`${a}|1`]))).toHaveLength(1);
    expect(decodeSemaphoreReadReply(await db.run(SEMAPHORE_READ, [redisKey], [`${a}|2`]))).toEqual([]);

    const subscriber = client.duplicate();
    const woken: string[] = [];
    subscriber.on("message", (channel: string) => woken.push(channel));
    await subscriber.subscribe(redisKey);
    try {
      await client.set(waitFlagKey(redisKey), "", "PX", 5000);
      expect(await release(key, a, "1")).toEqual({ status: LockStatus.SUCCESS, lockData: null });
      expect(await client.exists(waitFlagKey(redisKey))).toBe(0);
      expect(await release(key, a, "1")).toEqual({ status: LockStatus.NO_KEY, lockData: null });
      const b = await acquire(key, { owner: { key, processHash: a, seq: "2", trace: undefined } });
      expect(b.kind).toBe("taken");
      await release(key, a, "2"); // no flag: no PUBLISH
      const marker = await client.publish(redisKey, "marker");
      expect(marker).toBe(1);
      await new Promise<void>((resolve) => subscriber.once("message", () => resolve()));
      expect(woken).toEqual([redisKey, redisKey]); // the flagged release and our marker only
    } finally {
      subscriber.disconnect();
    }
    // The last permit gone: the hash is gone, or holds only a token TIME has not passed, for a few ms.
    const left = await client.hgetall(redisKey);
    expect(Object.keys(left).filter((f) => f !== "t")).toEqual([]);
    if (Object.keys(left).length > 0) expect(await client.pttl(redisKey)).toBeLessThanOrEqual(3);
  });

  it("the last token survives the last release while TIME has not passed it, so the next token still grows", async () => {
    const a = await liveProcess();
    const key = name("future");
    const redisKey = semaphoreKey(db.prefix, key);
    const future = 9_000_000_000_000_000;
    await client.hset(redisKey, "t", String(future));
    const taken = await acquire(key, { owner: { key, processHash: a, seq: "1", trace: undefined } });
    if (taken.kind !== "taken") throw new Error("not taken");
    expect(taken.token).toBe(future + 1);
    await release(key, a, "1");
    expect(await client.hget(redisKey, "t")).toBe(String(future + 1));
    expect(await client.pttl(redisKey)).toBeGreaterThan(0);
    const next = await acquire(key, { owner: { key, processHash: a, seq: "2", trace: undefined } });
    expect(next).toMatchObject({ kind: "taken", token: future + 2 });
  });

  it("a field overwritten with a foreign value: extend and release throw CorruptRecordError and leave it; a gone permit extends to NO_KEY", async () => {
    const a = await liveProcess();
    const key = name("corrupt");
    const redisKey = semaphoreKey(db.prefix, key);
    await acquire(key, { owner: { key, processHash: a, seq: "1", trace: undefined } });
    await client.hset(redisKey, `${a}|1`, "garbage");
    await expect(db.run(SEMAPHORE_EXTEND, [redisKey], [`${a}|1`, String(TTL)]).then((r) => decodeSemaphoreExtendReply(key, redisKey, r))).rejects.toSatisfy(
      isCorruptRecordError,
    );
    await expect(release(key, a, "1")).rejects.toSatisfy(isCorruptRecordError);
    expect(await client.hget(redisKey, `${a}|1`)).toBe("garbage");
    expect(decodeSemaphoreExtendReply(key, redisKey, await db.run(SEMAPHORE_EXTEND, [redisKey], [`${a}|9`, String(TTL)]))).toEqual({
      status: LockStatus.NO_KEY,
      lockData: null,
    });
  });
});
