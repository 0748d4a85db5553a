import Redis from "ioredis";
import { beforeAll, describe, expect, it } from "vitest";
import { RedisDatabase } from "pulselock";
import { isRedisCommandError } from "../../src/errors";
import { decodeLockRecord, ownLockData } from "../../src/lock-record";
import { ACQUIRE_ALL, acquireAllCall, decodeAcquireAllReply, type AcquireAllRequest } from "../../src/scripts/acquire-all";
import { RELEASE, releaseCall } from "../../src/scripts/release";
import { randomHex } from "../../src/timers";
import { waitFlagKey } from "../../src/wait-flag-key";
import { FUTURE, useScriptServer } from "../support/script-server";

/**
 * ACQUIRE_ALL end to end on a real redis-server, through its encoder, the
 * EVALSHA/EVAL helper (db.run) and its decoder: all or nothing in every case,
 * what the keys hold afterwards, and records that decodeLockRecord() reads
 * back as the lock asked for.
 */

const redis = useScriptServer("aa");
const { liveProcess } = redis;
let client: Redis;
let db: RedisDatabase;
beforeAll(() => {
  ({ client, db } = redis);
});

const names = (label: string, n: number) => Array.from({ length: n }, (_, i) => `${label}-${i}-${randomHex(4)}`);
const record = (token: number | string, processHash: string, seq: string, traceField = "") =>
  `pl1|${token}|1700000000000|1700000000000|${processHash}|${seq}|${traceField}`;

const setOf = (keys: string[], r: Partial<AcquireAllRequest> & { processHash: string }): AcquireAllRequest => ({
  redisKeys: keys.map((k) => db.lockKey(k)),
  seq: "1",
  trace: undefined,
  victims: [],
  waitFlagMs: "",
  ...r,
});

/** One call for several sets of one process: each set's outcome (or its own error). */
async function acquireSets(sets: AcquireAllRequest[]) {
  const { keys, args } = acquireAllCall(sets, "60000", db.processKey(sets[0]!.processHash));
  return decodeAcquireAllReply(
    await db.run(ACQUIRE_ALL, keys, args),
    sets.map((s) => s.redisKeys.length),
  );
}

/** One call for one set: its outcome; its own error is thrown. */
async function acquireAll(keys: string[], r: Partial<AcquireAllRequest> & { processHash: string }) {
  const [outcome] = await acquireSets([setOf(keys, r)]);
  if (outcome instanceof Error) throw outcome;
  return outcome!;
}

const values = (keys: string[]) => Promise.all(keys.map((k) => client.get(db.lockKey(k))));

describe("ACQUIRE_ALL", () => {
  it("free keys: all taken in one call under one TIME, each record reads back as asked for (trace with bars included)", async () => {
    const processHash = await liveProcess();
    const keys = names("free", 3);
    const res = await acquireAll(keys, { processHash, seq: "4", trace: "a|b#c" });
    if (res.kind !== "taken") throw new Error(JSON.stringify(res));
    expect(res.tokens).toHaveLength(3);
    expect(new Set(res.tokens).size).toBe(1); // one TIME: no previous token to pass
    for (const [i, key] of keys.entries()) {
      const read = decodeLockRecord(key, db.lockKey(key), await client.get(db.lockKey(key)));
      expect(read).toEqual(ownLockData({ key, processHash, seq: "4", trace: "a|b#c" }, res.tokens[i]!, res.ms));
      expect(await client.pttl(db.lockKey(key))).toBeGreaterThan(50_000);
    }
  });

  it("one key held by someone else: nothing is written, the reply names every held key, and a waiter's flag goes on held records only", async () => {
    const processHash = await liveProcess();
    const keys = names("partial", 4);
    const other = record(5, "d".repeat(32), "7", "#job");
    await client.set(db.lockKey(keys[1]!), other);
    await client.set(db.lockKey(keys[3]!), "not a record");
    const res = await acquireAll(keys, { processHash, waitFlagMs: "5000" });
    expect(res).toEqual({
      kind: "held",
      held: [
        { index: 1, record: other },
        { index: 3, record: "not a record" },
      ],
    });
    expect(await values(keys)).toEqual([null, other, null, "not a record"]);
    expect(await client.exists(waitFlagKey(db.lockKey(keys[1]!)))).toBe(1);
    expect(await client.exists(waitFlagKey(db.lockKey(keys[3]!)))).toBe(0); // nothing would ever release a foreign value
    expect(await client.exists(waitFlagKey(db.lockKey(keys[0]!)))).toBe(0);
  });

  it("tombstones and the named dead holder are taken over with tokens past theirs; another holder than the named one is refused", async () => {
    const processHash = await liveProcess();
    const dead = "e".repeat(32);
    const keys = names("takeover", 3);
    await client.set(db.lockKey(keys[0]!), `pl1t|${FUTURE}`, "PX", 60_000);
    await client.set(db.lockKey(keys[1]!), record(FUTURE + 10, dead, "3"));
    // Named with the wrong seq: a compare-and-set, never a blind take.
    const wrong = await acquireAll(keys, { processHash, victims: [undefined, { processHash: dead, seq: "4" }] });
    expect(wrong.kind).toBe("held");
    expect(await client.get(db.lockKey(keys[2]!))).toBeNull();
    const res = await acquireAll(keys, { processHash, victims: [undefined, { processHash: dead, seq: "3" }] });
    if (res.kind !== "taken") throw new Error(JSON.stringify(res));
    expect(res.tokens[0]).toBe(FUTURE + 1);
    expect(res.tokens[1]).toBe(FUTURE + 11);
    expect(res.tokens[2]).toBeLessThan(FUTURE);
  });

  it("a second run of the very same call (a client resent it) takes its own records again, with tokens that still grow", async () => {
    const processHash = await liveProcess();
    const keys = names("resent", 2);
    const first = await acquireAll(keys, { processHash, seq: "9" });
    const again = await acquireAll(keys, { processHash, seq: "9" });
    if (first.kind !== "taken" || again.kind !== "taken") throw new Error(JSON.stringify([first, again]));
    for (const i of [0, 1]) expect(again.tokens[i]).toBeGreaterThan(first.tokens[i]!);
    // Another seq of the same process is another owner: refused.
    expect((await acquireAll(keys, { processHash, seq: "10" })).kind).toBe("held");
  });

  it("the caller's liveness record is gone: {-2}, nothing written", async () => {
    const keys = names("lapsed", 2);
    expect(await acquireAll(keys, { processHash: randomHex(16) })).toEqual({ kind: "lapsed" });
    expect(await values(keys)).toEqual([null, null]);
  });

  it("a key of another type fails the call with that key's error, and nothing is written", async () => {
    const processHash = await liveProcess();
    const keys = names("wrongtype", 3);
    await client.hset(db.lockKey(keys[2]!), "f", "v");
    const error = await acquireAll(keys, { processHash }).catch((e: unknown) => e);
    expect(isRedisCommandError(error) && error.code).toBe("WRONGTYPE");
    expect(await client.get(db.lockKey(keys[0]!))).toBeNull();
  });

  it("RELEASE frees what ACQUIRE_ALL wrote (same records), and the next take's tokens pass the released ones", async () => {
    const processHash = await liveProcess();
    const keys = names("release", 2);
    const first = await acquireAll(keys, { processHash, seq: "1" });
    if (first.kind !== "taken") throw new Error(JSON.stringify(first));
    const { keys: k, args } = releaseCall(
      keys.map((key) => ({ key, redisKey: db.lockKey(key), owner: { processHash, seq: "1" } })),
      "0",
    );
    expect(await db.run(RELEASE, k, args)).toEqual([1, 1]);
    const second = await acquireAll(keys, { processHash, seq: "2" });
    if (second.kind !== "taken") throw new Error(JSON.stringify(second));
    for (const i of [0, 1]) expect(second.tokens[i]).toBeGreaterThan(first.tokens[i]!);
  });
});

describe("ACQUIRE_ALL with several sets in one call", () => {
  it("takes each set all or nothing, in order: a later set sees what an earlier one wrote, and a bad key fails its own set only", async () => {
    const processHash = await liveProcess();
    const [a, b, c, d, e] = names("batch", 5);
    await client.hset(db.lockKey(e!), "f", "v");
    const [first, second, third, fourth] = await acquireSets([
      setOf([a!, b!], { processHash, seq: "1" }),
      setOf([b!, c!], { processHash, seq: "2" }), // b is the first set's now: another owner of this process
      setOf([e!, d!], { processHash, seq: "3" }),
      setOf([c!, d!], { processHash, seq: "4" }),
    ]);
    if (!first || first instanceof Error || first.kind !== "taken") throw new Error(JSON.stringify(first));
    expect(second).toMatchObject({ kind: "held", held: [{ index: 0 }] });
    expect(isRedisCommandError(third) && third.code).toBe("WRONGTYPE");
    expect(fourth).toMatchObject({ kind: "taken", tokens: [first.tokens[0], first.tokens[0]] }); // one TIME per call
    const owners = (await values([a!, b!, c!, d!])).map((v) => v?.split("|")[5]);
    expect(owners).toEqual(["1", "1", "4", "4"]);
  });
});

describe("ACQUIRE_ALL's two forms of a set", () => {
  it("a plain set sends its keys alone (no flags, no victims), and short and full sets mix in one call", async () => {
    const processHash = await liveProcess();
    const dead = "d".repeat(32);
    const [a, b, c, d, e] = names("forms", 5);
    await client.set(db.lockKey(e!), record(FUTURE, dead, "9"), "PX", 60_000);
    const sets = [
      setOf([a!, b!], { processHash, seq: "1" }), // short
      setOf([b!, c!], { processHash, seq: "2", waitFlagMs: "5000" }), // full: b is held, so it gets a flag
      setOf([d!], { processHash, seq: "3" }), // short
      setOf([e!], { processHash, seq: "4", victims: [{ processHash: dead, seq: "9" }] }), // full: takes over e
    ];
    const { keys, args } = acquireAllCall(sets, "60000", db.processKey(processHash));
    // Short sets: ":n||seq|trace" and their keys only; full sets: a flag key per key and a victim per key.
    expect(args.slice(3)).toEqual([":2||1|", "2|5000|2|", "", "", ":1||3|", "1||4|", `${dead}|9`]);
    expect(keys).toEqual([
      db.lockKey(a!),
      db.lockKey(b!),
      db.lockKey(b!),
      waitFlagKey(db.lockKey(b!)),
      db.lockKey(c!),
      waitFlagKey(db.lockKey(c!)),
      db.lockKey(d!),
      db.lockKey(e!),
      waitFlagKey(db.lockKey(e!)),
      db.processKey(processHash),
    ]);
    const [first, second, third, fourth] = await acquireSets(sets);
    expect(first).toMatchObject({ kind: "taken" });
    expect(second).toMatchObject({ kind: "held", held: [{ index: 0 }] });
    expect(third).toMatchObject({ kind: "taken" });
    expect(fourth).toMatchObject({ kind: "taken" });
    if (!fourth || fourth instanceof Error || fourth.kind !== "taken") throw new Error(JSON.stringify(fourth));
    expect(fourth.tokens[0]).toBe(FUTURE + 1);
    const owners = (await values([a!, b!, c!, d!, e!])).map((v) => v?.split("|")[5] ?? null);
    expect(owners).toEqual(["1", "1", null, "3", "4"]);
    expect(await client.exists(waitFlagKey(db.lockKey(b!)))).toBe(1);
    expect(await client.exists(waitFlagKey(db.lockKey(c!)))).toBe(0);
  });
});

/**
 * The first pass writes a free key at once with SET NX GET (Redis 7.0+) and deletes it again when the set is
 * refused; a server without that form (forced here by a misspelt option, which Redis answers "ERR syntax error")
 * reads with GET and writes in the second pass. Both must leave the same state.
 */
const NX_GET = /'NX',\s*'GET'/;
const LEGACY_ALL = { ...ACQUIRE_ALL, source: ACQUIRE_ALL.source.replace(NX_GET, "'NX', 'GETX'") };

describe.each([
  ["SET NX GET", ACQUIRE_ALL],
  ["GET, then SET", LEGACY_ALL],
])("ACQUIRE_ALL's first pass (%s)", (_, script) => {
  async function take(sets: AcquireAllRequest[]) {
    const { keys, args } = acquireAllCall(sets, "60000", db.processKey(sets[0]!.processHash));
    const reply = await client.eval(script.source, keys.length, ...keys, ...args);
    return decodeAcquireAllReply(
      reply,
      sets.map((set) => set.redisKeys.length),
    );
  }

  it("takes free keys and tombstones with growing tokens; a refused or failed set leaves every key as it was", async () => {
    if (script === LEGACY_ALL) expect(script.source).toContain("GETX");
    else expect(script.source).toMatch(NX_GET);
    const processHash = await liveProcess();
    const [a, b, c, d, e, f, g] = names("pass", 7);
    const other = record(5, "d".repeat(32), "7");
    await client.set(db.lockKey(b!), `pl1t|${FUTURE}`, "PX", 60_000);
    await client.set(db.lockKey(d!), other);
    await client.hset(db.lockKey(g!), "f", "v");
    const [taken, refused, failed] = await take([
      setOf([a!, b!], { processHash, seq: "1" }), // free and a tombstone: taken
      setOf([c!, d!], { processHash, seq: "2" }), // c is free, d someone else's: refused, c stays free
      setOf([e!, f!, g!], { processHash, seq: "3" }), // e and f free, g a hash: fails, e and f stay free
    ]);
    if (!taken || taken instanceof Error || taken.kind !== "taken") throw new Error(JSON.stringify(taken));
    expect(taken.tokens[1]).toBe(FUTURE + 1);
    expect(taken.tokens[0]).toBeLessThan(FUTURE);
    expect((await values([a!, b!])).map((v) => v?.split("|")[5])).toEqual(["1", "1"]);
    expect(refused).toMatchObject({ kind: "held", held: [{ index: 1, record: other }] });
    expect(isRedisCommandError(failed) && failed.code).toBe("WRONGTYPE");
    expect(await values([c!, d!, e!, f!])).toEqual([null, other, null, null]);
    expect(await client.type(db.lockKey(g!))).toBe("hash");
  });
});

describe("decodeAcquireAllReply", () => {
  it.each([[null], [[]], [[1e15, 1, "x"]], [[1e15, 1, 1e15, 3]], [[1e15, 0, 1]], [[1e15, 0, 1, 9, "v"]], [[1e15, 0, 1, 1, 2]], [[1e15, 7]], [[1e15]]])(
    "rejects %j as BAD_RESPONSE",
    (reply) => {
      let error: unknown;
      try {
        decodeAcquireAllReply(reply, [1]);
      } catch (e) {
        error = e;
      }
      expect(isRedisCommandError(error) && error.code).toBe("BAD_RESPONSE");
    },
  );
});
