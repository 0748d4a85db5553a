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
import { FUTURE, uniqueName, useScriptServer } from "../support/script-server";
import { waitFor } from "../support/wait-for";

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

/** Waits until Redis TIME has passed every permit of `key` but `live` (SEMAPHORE_READ drops the expired ones). */
const allExpiredBut = (key: string, live: number) => waitFor(`the permits of ${key} to expire`, async () => (await readAll(key)).length === live);

describe("counting: O(1) while not full, every permit read once full", () => {
  it("a full semaphore whose holder's permit expired is taken by the next acquire, which drops the expired permit", async () => {
    const [dead, live] = [await liveProcess(), await liveProcess()];
    const key = name("full-expired");
    const redisKey = semaphoreKey(db.prefix, key);
    const old = await acquire(key, { owner: { key, processHash: dead, seq: "1", trace: undefined }, limit: 2, lockTtlMs: 30 });
    const kept = await acquire(key, { owner: { key, processHash: live, seq: "1", trace: undefined }, limit: 2 });
    await allExpiredBut(key, 1);
    // Two fields for a limit of 2: full by count, so every permit is read; the expired one is free.
    const next = await acquire(key, { owner: { key, processHash: live, seq: "2", trace: undefined }, limit: 2 });
    if (old.kind !== "taken" || kept.kind !== "taken" || next.kind !== "taken") throw new Error("not taken");
    expect(next.token).toBeGreaterThan(kept.token);
    expect((await client.hkeys(redisKey)).sort()).toEqual([`${live}|1`, `${live}|2`, "t"].sort());
    // Full again, with live holders only: refused, and both are named.
    const refused = await acquire(key, { owner: { key, processHash: dead, seq: "3", trace: undefined }, limit: 2 });
    expect(refused.kind).toBe("full");
    expect(refused.kind === "full" && refused.permits).toHaveLength(2);
  });

  it("an expired permit under the limit is left for later: the count is at least the live permits, never fewer", async () => {
    const [a, b] = [await liveProcess(), await liveProcess()];
    const key = name("lazy");
    const redisKey = semaphoreKey(db.prefix, key);
    // b's permit keeps the hash (and a's expired permit in it) alive.
    await acquire(key, { owner: { key, processHash: b, seq: "1", trace: undefined }, limit: 3 });
    await acquire(key, { owner: { key, processHash: a, seq: "1", trace: undefined }, limit: 3, lockTtlMs: 30 });
    await allExpiredBut(key, 1);
    expect((await acquire(key, { owner: { key, processHash: b, seq: "2", trace: undefined }, limit: 3 })).kind).toBe("taken");
    expect(await client.hexists(redisKey, `${a}|1`)).toBe(1); // not read, not dropped
    expect((await readAll(key)).map((h) => h.processHash)).toEqual([b, b]);
    // With it the fields reach the limit: every permit is read, and the expired one does not count.
    expect((await acquire(key, { owner: { key, processHash: b, seq: "3", trace: undefined }, limit: 3 })).kind).toBe("taken");
    expect(await client.hexists(redisKey, `${a}|1`)).toBe(0);
    expect(await client.hlen(redisKey)).toBe(4);
  });

  it("a resent acquire answers its first token and acquiredAt, whether the semaphore is full or not, alone or after a permit of its batch", async () => {
    const [a, b] = [await liveProcess(), await liveProcess()];
    const key = name("resent");
    const owner = (processHash: string, seq: string) => ({ key, processHash, seq, trace: undefined });
    const first = await acquire(key, { owner: owner(a, "1"), limit: 3 });
    if (first.kind !== "taken") throw new Error("not taken");
    expect(await acquire(key, { owner: owner(a, "1"), limit: 3 })).toEqual(first); // not full
    await acquire(key, { owner: owner(b, "1"), limit: 3 });
    await acquire(key, { owner: owner(b, "2"), limit: 3 });
    expect(await acquire(key, { owner: owner(a, "1"), limit: 3 })).toEqual(first); // full
    expect(await acquire(key, { owner: owner(a, "1"), limit: 1 })).toEqual(first); // over a lowered limit
    // In a batch after another permit of the same semaphore (what the batch knows of it then).
    const other = name("resent-batch");
    const [x] = await acquireBatch([{ key: other, ask: { owner: { key: other, processHash: a, seq: "1", trace: undefined }, limit: 5 } }]);
    const [y, again] = await acquireBatch([
      { key: other, ask: { owner: { key: other, processHash: a, seq: "2", trace: undefined }, limit: 5 } },
      { key: other, ask: { owner: { key: other, processHash: a, seq: "1", trace: undefined }, limit: 5 } },
    ]);
    expect(y).toMatchObject({ kind: "taken" });
    expect(again).toEqual(x);
    expect(await client.hlen(semaphoreKey(db.prefix, other))).toBe(3); // two permits and "t": the resend took nothing
  });

  it("lowering the limit refuses new permits and evicts nobody", async () => {
    const [a, b] = [await liveProcess(), await liveProcess()];
    const key = name("lower");
    for (const seq of ["1", "2", "3"]) expect((await acquire(key, { owner: { key, processHash: a, seq, trace: undefined }, limit: 3 })).kind).toBe("taken");
    const refused = await acquire(key, { owner: { key, processHash: b, seq: "1", trace: undefined }, limit: 2 });
    expect(refused.kind).toBe("full");
    expect(refused.kind === "full" && refused.permits).toHaveLength(3);
    expect((await readAll(key)).map((h) => h.ownerHash).sort()).toEqual(["1", "2", "3"].map((seq) => `${key}@${a}.${seq}`).sort());
    // In one batch too: the second request of the batch counts the first one's permit.
    const other = name("lower-batch");
    const out = await acquireBatch([
      { key: other, ask: { owner: { key: other, processHash: a, seq: "1", trace: undefined }, limit: 2 } },
      { key: other, ask: { owner: { key: other, processHash: a, seq: "2", trace: undefined }, limit: 2 } },
      { key: other, ask: { owner: { key: other, processHash: a, seq: "3", trace: undefined }, limit: 1 } },
      { key: other, ask: { owner: { key: other, processHash: a, seq: "4", trace: undefined }, limit: 3 } },
    ]);
    expect(out.map((o) => (o as { kind: string }).kind)).toEqual(["taken", "taken", "full", "taken"]);
  });

  it("tokens strictly increase across the O(1) path, the full read and a batch's permits of one semaphore", async () => {
    const [a, b] = [await liveProcess(), await liveProcess()];
    const key = name("tokens");
    const redisKey = semaphoreKey(db.prefix, key);
    const tokens: number[] = [];
    const take = async (processHash: string, seq: string, limit: number, lockTtlMs?: number) => {
      const got = await acquire(key, { owner: { key, processHash, seq, trace: undefined }, limit, lockTtlMs });
      if (got.kind !== "taken") throw new Error(`not taken: ${JSON.stringify(got)}`);
      tokens.push(got.token);
    };
    await take(a, "1", 2, 30); // O(1): a fresh hash
    await take(b, "1", 2); // O(1): one field under the limit
    await allExpiredBut(key, 1);
    await take(b, "2", 2); // full by count: every permit read, the expired one dropped
    const batch = await acquireBatch(["3", "4", "5"].map((seq) => ({ key, ask: { owner: { key, processHash: b, seq, trace: undefined }, limit: 10 } })));
    for (const got of batch) tokens.push((got as { token: number }).token);
    // A last token ahead of TIME (many takes in one µs) is passed by the O(1) path and within the batch alike.
    await client.hset(redisKey, "t", String(FUTURE));
    const ahead = await acquireBatch(["6", "7"].map((seq) => ({ key, ask: { owner: { key, processHash: b, seq, trace: undefined }, limit: 10 } })));
    expect(ahead).toEqual([expect.objectContaining({ token: FUTURE + 1 }), expect.objectContaining({ token: FUTURE + 2 })]);
    expect(tokens.every((t, i) => i === 0 || t > tokens[i - 1]!)).toBe(true);
    expect(Number(await client.hget(redisKey, "t"))).toBe(FUTURE + 2);
  });

  it("the hash keeps the TTL of its longest permit: a holder with a shorter lockTtlMs never shortens it", async () => {
    const [a, b] = [await liveProcess(), await liveProcess()];
    const key = name("ttl");
    const redisKey = semaphoreKey(db.prefix, key);
    await acquire(key, { owner: { key, processHash: a, seq: "1", trace: undefined }, limit: 5, lockTtlMs: 60_000 });
    await acquire(key, { owner: { key, processHash: b, seq: "1", trace: undefined }, limit: 5, lockTtlMs: 1_000 });
    expect(await client.pttl(redisKey)).toBeGreaterThan(50_000);
    // A short hash TTL (a last token kept after the last release) is raised to the new permit's.
    await client.pexpire(redisKey, 100);
    await acquire(key, { owner: { key, processHash: b, seq: "2", trace: undefined }, limit: 5, lockTtlMs: 1_000 });
    expect(await client.pttl(redisKey)).toBeGreaterThan(500);
  });

  it("a value that is not a permit under the caller's own field is reported and left alone, not overwritten", async () => {
    const a = await liveProcess();
    const key = name("own-foreign");
    const redisKey = semaphoreKey(db.prefix, key);
    await client.hset(redisKey, `${a}|1`, "garbage");
    expect(await acquire(key, { owner: { key, processHash: a, seq: "1", trace: undefined }, limit: 5 })).toEqual({ kind: "full", permits: ["garbage"] });
    expect(await client.hget(redisKey, `${a}|1`)).toBe("garbage");
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

  it("a batch frees several permits of one semaphore: the hash goes with the last one, a flag publishes once, a permit named twice answers -1 the second time", async () => {
    const [a, b] = [await liveProcess(), await liveProcess()];
    const [key, other] = [name("rel-batch"), name("rel-other")];
    const [redisKey, otherKey] = [semaphoreKey(db.prefix, key), semaphoreKey(db.prefix, other)];
    for (const seq of ["1", "2", "3"]) await acquire(key, { owner: { key, processHash: a, seq, trace: undefined }, limit: 5 });
    await acquire(key, { owner: { key, processHash: b, seq: "1", trace: undefined }, limit: 5 });
    await acquire(other, { owner: { key: other, processHash: a, seq: "9", trace: undefined }, limit: 5 });
    const subscriber = client.duplicate();
    const woken: string[] = [];
    subscriber.on("message", (channel: string) => woken.push(channel));
    await subscriber.subscribe(redisKey, otherKey);
    try {
      await client.set(waitFlagKey(redisKey), "", "PX", 5000);
      const released = await releaseBatch([
        { key, processHash: a, seq: "1" },
        { key: other, processHash: a, seq: "9" },
        { key, processHash: a, seq: "2" },
        { key, processHash: a, seq: "2" },
        { key, processHash: a, seq: "3" },
      ]);
      expect(released).toEqual([1, 1, 1, -1, 1]);
      expect(await client.exists(waitFlagKey(redisKey))).toBe(0);
      // b's permit is left, with "t"; the other semaphore's only permit took its hash along (or left a token ahead of TIME).
      expect((await client.hkeys(redisKey)).sort()).toEqual([`${b}|1`, "t"].sort());
      expect((await client.hkeys(otherKey)).filter((f) => f !== "t")).toEqual([]);
      expect(await releaseBatch([{ key, processHash: b, seq: "1" }])).toEqual([1]);
      expect((await client.hkeys(redisKey)).filter((f) => f !== "t")).toEqual([]);
      expect(await client.publish(redisKey, "marker")).toBe(1);
      await waitFor("the marker", () => woken.length >= 2);
      expect(woken).toEqual([redisKey, redisKey]); // the one flagged release and our marker
    } finally {
      subscriber.disconnect();
    }
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
