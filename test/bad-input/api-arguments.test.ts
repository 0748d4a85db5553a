import { Redis as Upstash } from "@upstash/redis";
import type Redis from "ioredis";
import { describe, expect, it } from "vitest";
import * as node from "pulselock";
import * as core from "pulselock/core";
import { LockStatus, OwnerHashStatus, type Transport } from "pulselock";
import { uniqueKey } from "../support/wait-for";
import { BAD_KEYS, BAD_MS, MB, TIMING, keyCalls, noop, otherCalls } from "./catalogue";
import { FAST, useBadInputRedis } from "./support";

/*
 * Every public method with arguments it must refuse: a TypeError that names
 * the method (or option) and the bad value, thrown before anything reaches
 * Redis, and no lock or key left behind. Keys with odd but legal characters
 * must work.
 */
const h = useBadInputRedis();

/** How an error message may show `value`: its text (the start of a long one), or at least its type. */
function shownAs(value: unknown): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  if (value instanceof RegExp) return value;
  if (typeof value === "string") return new RegExp(value === "" ? 'empty string|""' : esc(value.slice(0, 10)));
  if (typeof value === "bigint") return new RegExp(`${value}n|bigint`);
  if (typeof value === "symbol") return /symbol/;
  if (typeof value === "object" && value !== null) return new RegExp(`${esc(JSON.stringify(value))}|object`);
  return new RegExp(`${esc(String(value))}|${typeof value}`);
}

/** Runs `call` and returns its TypeError, from a throw or a rejection; fails the test on anything else. */
async function typeErrorOf(call: () => unknown): Promise<TypeError> {
  let error: unknown;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  expect(error, "expected a TypeError").toBeInstanceOf(TypeError);
  return error as TypeError;
}

/** A Transport over an ioredis client that counts what reaches Redis: a refused call must send nothing. */
function countingTransport(client: Redis, prefix = ""): Transport & { sent: number } {
  const t = {
    kind: "counting",
    clientKeyPrefix: prefix,
    sent: 0,
    evalsha: (sha: string, keys: string[], args: string[]) => (t.sent++, client.evalsha(sha, keys.length, ...keys, ...args)),
    eval: (src: string, keys: string[], args: string[]) => (t.sent++, client.eval(src, keys.length, ...keys, ...args)),
  };
  return t;
}

describe("Locker constructor (Node and core entries)", () => {
  const nodeDb = () => new node.RedisDatabase(h.admin, { prefix: h.prefix("ctor") });
  const coreDb = () => new core.RedisDatabase(new Upstash({ url: "http://127.0.0.1:9", token: "t", enableTelemetry: false }));
  const entries = [
    ["pulselock", (o: unknown) => new node.Locker(o as node.LockerOptions), nodeDb],
    ["pulselock/core", (o: unknown) => new core.Locker(o as core.LockerOptions), coreDb],
  ] as const;

  for (const [entry, make, db] of entries) {
    it.each(TIMING.flatMap((option) => BAD_MS.map(([label, value]) => [option, label, value] as const)))(
      `${entry}: %s = %s is a TypeError naming the option and the value`,
      async (option, _label, value) => {
        const err = await typeErrorOf(() => make({ database: db(), [option]: value }));
        expect(err.message).toContain(option);
        expect(err.message).toMatch(shownAs(value));
      },
    );

    it.each([undefined, null, 42, "opts", () => {}])(`${entry}: options %s are a TypeError`, async (options) => {
      const err = await typeErrorOf(() => make(options));
      expect(err.message).toMatch(/options must be an object/);
    });

    it.each([
      ["missing", undefined],
      ["null", null],
      ["a URL string", "redis://127.0.0.1:6380"],
      ["a number", 42],
      ["an empty object", {}],
      ["an empty moduleName", { moduleName: "", exportName: "db" }],
      ["a reference without exportName", { moduleName: "/x.mjs" }],
      ["client options instead of a client", { url: "https://x.upstash.io", token: "t" }],
    ])(`${entry}: database %s is a TypeError naming the option`, async (_label, database) => {
      const err = await typeErrorOf(() => make({ database }));
      expect(err.message).toMatch(/option database must be/);
    });

    it(`${entry}: a misspelt option is a TypeError naming the closest valid one`, async () => {
      const err = await typeErrorOf(() => make({ database: db(), lockTTLms: 1000 }));
      expect(err.message).toMatch(/lockTTLms.*did you mean lockTtlMs\?/);
    });

    it.each(["soon", 5, {}, null])(`${entry}: waitUntil %s is a TypeError naming the option`, async (waitUntil) => {
      const err = await typeErrorOf(() => make({ database: db(), waitUntil }));
      expect(err.message).toContain("waitUntil");
      expect(err.message).toMatch(shownAs(waitUntil));
    });
  }

  it("a raw ioredis client given to the Node entry is wrapped and works; the core entry names the entry that knows it", async () => {
    const prefix = h.prefix("raw-client");
    const client = h.admin.duplicate({ keyPrefix: prefix });
    const locker = new node.Locker({ database: client, ...FAST });
    try {
      expect(await locker.acquireAndRun(uniqueKey("k"), async () => "ran")).toEqual({ status: LockStatus.SUCCESS, result: "ran" });
      const err = await typeErrorOf(() => new core.Locker({ database: client }));
      expect(err.message).toMatch(/ioredis needs the Node entry/);
    } finally {
      await locker.terminate();
      client.disconnect();
    }
    expect(await h.leftovers(prefix)).toEqual([]);
  });

  it("a misspelt RedisDatabase option is a TypeError naming the closest valid one", async () => {
    const err = await typeErrorOf(() => new node.RedisDatabase(h.admin, { prefx: "a:" } as never));
    expect(err.message).toMatch(/prefx.*did you mean prefix\?/);
  });

  it("a reference to a module that does not exist fails the first acquire with DatabaseLoadError, and leaves nothing", async () => {
    const prefix = h.prefix("missing-module");
    const locker = new node.Locker({
      database: { moduleName: `/nonexistent/${crypto.randomUUID()}.mjs`, exportName: "db" },
      ...FAST,
      reporterWorkerSpawnTimeoutMs: 3000,
    });
    try {
      const err = await locker.acquire(uniqueKey("k")).catch((e) => e);
      expect(node.isDatabaseLoadError(err)).toBe(true);
      expect(await h.leftovers(prefix)).toEqual([]);
    } finally {
      await locker.terminate();
    }
  });
});

describe("RedisDatabase constructor with things that are not clients", () => {
  const half = { evalsha: async () => null }; // shaped like a Transport, but only half of one
  it.each([
    ["null", null],
    ["undefined", undefined],
    ["an empty object", {}],
    ["a URL string", "redis://127.0.0.1:6380"],
    ["a number", 42],
    ["a half-shaped transport", half],
    ["a transport with a numeric kind", { kind: 1, clientKeyPrefix: "", evalsha: half.evalsha, eval: half.evalsha }],
  ])("%s is a TypeError naming RedisDatabase, in both entries", async (_label, client) => {
    for (const Db of [node.RedisDatabase, core.RedisDatabase]) {
      const err = await typeErrorOf(() => new Db(client as never));
      expect(err.message).toMatch(/RedisDatabase needs/);
      expect(err.message).toMatch(shownAs(client));
    }
  });

  it.each([
    ["prefix", 5],
    ["prefix", null],
    ["waitForReplicas", Number.NaN],
    ["waitForReplicas", -1],
    ["waitForReplicas", "1"],
    ["replicationTimeoutMs", Infinity],
    ["replicationTimeoutMs", 0],
    ["replicationTimeoutMs", "500"],
  ])("option %s = %s is a TypeError naming it", async (option, value) => {
    const err = await typeErrorOf(() => new node.RedisDatabase(h.admin, { [option]: value }));
    expect(err.message).toContain(option);
  });

  it.each([null, "opts", 42])("options %s are a TypeError", async (options) => {
    await typeErrorOf(() => new node.RedisDatabase(h.admin, options as never));
  });

  it("an ioredis client with stringNumbers is a TypeError that says why (the scripts answer with integers)", async () => {
    const client = h.admin.duplicate({ stringNumbers: true, lazyConnect: true });
    try {
      const err = await typeErrorOf(() => new node.RedisDatabase(client));
      expect(err.message).toContain("stringNumbers");
    } finally {
      client.disconnect();
    }
  });
});

describe("Locker methods with invalid arguments: TypeError, nothing sent, nothing left", () => {
  /** A core Locker (in-thread liveness) over a counting transport, so "nothing was sent" is checkable. */
  function counted() {
    const prefix = h.prefix("args");
    const transport = countingTransport(h.admin);
    const locker = new core.Locker({ database: new core.RedisDatabase(transport, { prefix }), ...FAST });
    return { prefix, transport, locker };
  }
  for (const [method, call] of keyCalls) {
    it.each(BAD_KEYS)(`${method}() with a key that is %s`, async (_label, key) => {
      const { prefix, transport, locker } = counted();
      try {
        const err = await typeErrorOf(() => call(locker, key));
        expect(err.message).toContain(`${method}()`);
        expect(err.message).toMatch(shownAs(key));
        expect(transport.sent).toBe(0);
        expect(await h.leftovers(prefix)).toEqual([]);
      } finally {
        await locker.terminate();
      }
    });
  }

  it("a misspelt call option names the closest valid one (mutex, semaphore)", async () => {
    const { locker } = counted();
    try {
      const mutex = await typeErrorOf(() => locker.mutex(uniqueKey("k"), { timeoutMs: 10, recheckDelay: 5 } as never, noop));
      expect(mutex.message).toMatch(/mutex\(\) has no option "recheckDelay"; did you mean recheckDelayMs\?/);
      const semaphore = await typeErrorOf(() => locker.semaphore(uniqueKey("k"), { limit: 2, limt: 3 } as never));
      expect(semaphore.message).toMatch(/semaphore\(\) has no option "limt"; did you mean limit\?/);
    } finally {
      await locker.terminate();
    }
  });

  it.each(otherCalls)("%s() with %s", async (method, _label, call, bad) => {
    const { prefix, transport, locker } = counted();
    try {
      const err = await typeErrorOf(() => call(locker, uniqueKey("k")));
      expect(err.message).toContain(`${method}()`);
      // The timeoutMs=fn mix-up shows no single bad value; every other message shows it.
      if (bad !== undefined || !/wrong place/.test(_label)) expect(err.message).toMatch(shownAs(bad));
      expect(transport.sent).toBe(0);
      expect(await h.leftovers(prefix)).toEqual([]);
    } finally {
      await locker.terminate();
    }
  });

  it("a forged lockData with a well-formed owner hash releases nothing that another run holds", async () => {
    const prefix = h.prefix("forged");
    const key = uniqueKey("k");
    const holder = h.locker(prefix);
    const forger = h.locker(prefix);
    const held = await holder.acquire(key);
    expect(held.status).toBe(LockStatus.SUCCESS);
    const forged = { ...held.lockData, ownerHash: `${key}@${"f".repeat(32)}.1` };
    const res = await forger.release(key, forged);
    expect(res.status).toBe(LockStatus.SOMEONE_ELSE_HOLDS_LOCK);
    expect(res.lockData?.ownerHash).toBe(held.lockData.ownerHash);
    expect(await h.isFree(prefix, key)).toBe(false);
    expect((await holder.release(key, held.lockData)).status).toBe(LockStatus.SUCCESS);
    expect(await h.leftovers(prefix)).toEqual([]);
  });

  it("Infinity as mutex timeoutMs means wait without a deadline, and runs at once on a free key", async () => {
    const prefix = h.prefix("mutex-inf");
    const locker = h.locker(prefix);
    expect(await locker.mutex(uniqueKey("k"), Infinity, async () => "ran")).toBe("ran");
    expect(await h.leftovers(prefix)).toEqual([]);
  });

  it("mutex() with a recheckDelayMs beyond a timer's range neither spins on Redis nor is accepted silently", async () => {
    // Node fires a timer of more than 2^31-1 ms after 1 ms: a backoff that large would poll Redis in a tight loop.
    const prefix = h.prefix("mutex-huge-recheck");
    const key = uniqueKey("k");
    const holder = h.locker(prefix);
    const held = await holder.acquire(key);
    const transport = countingTransport(h.admin);
    const waiter = new core.Locker({ database: new core.RedisDatabase(transport, { prefix }), ...FAST });
    const controller = new AbortController();
    try {
      const waiting = waiter.mutex(key, { timeoutMs: 1e12, recheckDelayMs: 1e12, signal: controller.signal }, noop).catch((e) => e);
      const early = await Promise.race([waiting, new Promise((r) => setTimeout(() => r("pending"), 1000))]);
      if (early instanceof TypeError) {
        expect(early.message).toContain("recheckDelayMs");
      } else {
        // Still waiting after a second: a handful of scripts (liveness, one acquire, one holder check), not hundreds.
        expect(transport.sent).toBeLessThan(20);
        controller.abort(new Error("test over"));
        expect(await waiting).toMatchObject({ message: "test over" });
      }
    } finally {
      controller.abort();
      await waiter.terminate();
      await holder.release(key, held.lockData);
    }
    expect(await h.leftovers(prefix)).toEqual([]);
  });
});

describe("readOwnerHashStatus() with malformed owner hashes", () => {
  it.each([
    ["a number", 42],
    ["null", null],
    ["undefined", undefined],
    ["an object", {}],
    ["an empty string", ""],
    ["a key without suffix", "job"],
    ["a bad process hash", "job@nothex.1"],
    ["a short process hash", `job@${"a".repeat(31)}.1`],
    ["no seq", `job@${"a".repeat(32)}.`],
    ["no key", `@${"a".repeat(32)}.1`],
    ["a 1 MB string without @", "x".repeat(MB)],
  ])("%s is MALFORMED_OWNER_HASH, without a Redis call", async (_label, ownerHash) => {
    const transport = countingTransport(h.admin);
    const locker = new core.Locker({ database: new core.RedisDatabase(transport), ...FAST });
    try {
      expect(await locker.readOwnerHashStatus(ownerHash as string)).toEqual({
        status: OwnerHashStatus.MALFORMED_OWNER_HASH,
        lockData: null,
        key: null,
      });
      expect(transport.sent).toBe(0);
    } finally {
      await locker.terminate();
    }
  });

  it("a long run of '@' is answered quickly (parsing must not be quadratic in the hash's length)", async () => {
    // 150 000 characters; a linear parse takes milliseconds. Quadratic parsing blocks the event loop for seconds.
    const locker = new core.Locker({ database: new core.RedisDatabase(countingTransport(h.admin)), ...FAST });
    try {
      const t0 = performance.now();
      const res = await locker.readOwnerHashStatus("@".repeat(150_000));
      expect(res.status).toBe(OwnerHashStatus.MALFORMED_OWNER_HASH);
      expect(performance.now() - t0).toBeLessThan(2000);
    } finally {
      await locker.terminate();
    }
  });
});

describe("heartbeat.delay() and Heartbeater.setDraining() with invalid arguments", () => {
  it.each([
    ["a string", "10"],
    ["NaN", Number.NaN],
    ["-1", -1],
    ["null", null],
    ["undefined", undefined],
    ["-Infinity", -Infinity],
  ])("delay(%s) rejects with a TypeError inside the job, and the lock is released", async (_label, ms) => {
    const prefix = h.prefix("delay");
    const key = uniqueKey("k");
    const locker = h.locker(prefix);
    const err = await typeErrorOf(() => locker.acquireAndRun(key, (heartbeat) => heartbeat.delay(ms as number)));
    expect(err.message).toContain("heartbeat.delay()");
    expect(err.message).toMatch(shownAs(ms));
    expect(await h.isFree(prefix, key)).toBe(true);
    expect(await h.leftovers(prefix)).toEqual([]);
  });

  it.each([
    ["a number", 42],
    ["undefined", undefined],
    ["an object", {}],
    ["a boolean", true],
  ])("setDraining(%s) is a TypeError and does not start draining", async (_label, reason) => {
    const err = await typeErrorOf(() => node.Heartbeater.setDraining(reason as string));
    expect(err.message).toContain("setDraining()");
    expect(node.Heartbeater.drainingReason).toBeNull();
  });
});

describe("odd but legal lock names work end to end", () => {
  it.each([
    ["a NUL byte", "a\0b"],
    ["newlines", "line1\nline2\r\n"],
    ["braces", "{tag}x{"],
    ["a lone closing brace", "}"],
    ["percent escapes", "%7B%25"],
    ["an @ that looks like an owner hash", `job@${"a".repeat(32)}.7`],
    ["a pipe, like the record's separator", "a|b|c"],
    ["glob characters", "*?[a-z]\\"],
    ["emoji", "🔒 job"],
    ["a 1 MB name", "k".repeat(MB)],
  ])("%s: acquire, read, owner status, release, and nothing left", async (_label, key) => {
    const prefix = h.prefix("names");
    const locker = h.locker(prefix);
    const res = await locker.acquire(key, "trace|with\npipes");
    expect(res.status).toBe(LockStatus.SUCCESS);
    expect(await h.isFree(prefix, key)).toBe(false);
    expect(await locker.readLockData(key)).toEqual(res.lockData);
    const status = await locker.readOwnerHashStatus(res.lockData.ownerHash);
    expect(status.status).toBe(OwnerHashStatus.RUNNING);
    expect(status.key).toBe(key);
    expect((await locker.release(key, res.lockData)).status).toBe(LockStatus.SUCCESS);
    expect(await locker.acquireAndRun(key, async () => "ran")).toEqual({ status: LockStatus.SUCCESS, result: "ran" });
    expect(await h.isFree(prefix, key)).toBe(true);
    expect(await h.leftovers(prefix)).toEqual([]);
  });
});
