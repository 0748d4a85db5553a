import { inspect } from "node:util";
import { Redis as Upstash } from "@upstash/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Locker, RedisDatabase, type LockData, type LockerErrorEvent } from "pulselock";
import * as core from "pulselock/core";
import { freePort, startRedis } from "../support/redis-server.mjs";
import { uniqueKey } from "../support/wait-for";
import { BAD_KEYS, BAD_MS, TIMING, keyCalls, noop, otherCalls } from "./catalogue";

/*
 * A password in the ioredis options and a token in the Upstash client, then
 * the whole bad-input catalogue again, with the bad values swapped for things
 * that carry those secrets (the clients, their options, URLs with the
 * password): no thrown error (message, stack, causes, fields), no event on
 * locker.errors and no line on stdout/stderr/console may contain either.
 */
const PASSWORD = `pw-${crypto.randomUUID()}`;
const TOKEN = `tok-${crypto.randomUUID()}`;
const SECRETS = [PASSWORD, TOKEN];

let server: Awaited<ReturnType<typeof startRedis>>;
let client: Redis;
let upstash: Upstash;
const lockers: Locker[] = [];
const events: LockerErrorEvent[] = [];
const output: string[] = [];
const errors: unknown[] = [];

function locker(options: Record<string, unknown> = {}): Locker {
  const l = new Locker({ database: client, reportWriteMs: 200, reportTtlMs: 2000, ...options } as never);
  l.errors.subscribe((e) => events.push(e));
  lockers.push(l);
  return l;
}

/** Runs `call` and keeps whatever it throws or rejects with; a call that succeeds is fine too (some values are legal). */
async function collect(call: () => unknown): Promise<void> {
  try {
    await call();
  } catch (error) {
    errors.push(error);
  }
}

/** Every way a message can reach a user: the error printed in full (message, stack, causes, own fields). */
const shown = (value: unknown) => inspect(value, { depth: 8, showHidden: false, getters: false });

beforeAll(async () => {
  server = await startRedis();
  await server.command(`CONFIG SET requirepass ${PASSWORD}`);
  client = new Redis({ host: "127.0.0.1", port: server.port, password: PASSWORD, maxRetriesPerRequest: 2 });
  upstash = new Upstash({ url: `http://127.0.0.1:${await freePort()}`, token: TOKEN, enableTelemetry: false, retry: false });
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, "write").mockImplementation(((chunk: unknown, ...rest: never[]) => {
      output.push(String(chunk));
      return write(chunk as string, ...rest);
    }) as typeof stream.write);
  }
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    const original = console[level].bind(console);
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      output.push(args.map((a) => (typeof a === "string" ? a : shown(a))).join(" "));
      original(...args);
    });
  }
});

afterAll(async () => {
  await Promise.all(lockers.map((l) => l.terminate()));
  client?.disconnect();
  await server?.close();
  vi.restoreAllMocks();
});

/** Bad values that carry a secret: no message may show what is inside them. */
const carriers = (): Array<[string, unknown]> => [
  ["the ioredis client", client],
  ["the ioredis client's options", client.options],
  ["the Upstash client", upstash],
  ["Upstash options", { url: "https://eu1-x.upstash.io", token: TOKEN }],
  ["options with a password", { host: "127.0.0.1", password: PASSWORD }],
  ["a URL with the password", `redis://default:${PASSWORD}@127.0.0.1:6390`],
  ["a URL with only the password", `redis://:${PASSWORD}@127.0.0.1:6390`],
  ["a Map holding the password", new Map([["password", PASSWORD]])],
  ["nested options", { redisOptions: { password: PASSWORD }, other: [PASSWORD] }],
];

describe("no message, event or log line shows a password or token", () => {
  it("Locker constructor: every timing option with every bad value and every carrier", async () => {
    const values = [...BAD_MS, ...carriers()];
    for (const option of TIMING) for (const [, value] of values) await collect(() => locker({ [option]: value }));
    for (const [, value] of carriers()) {
      await collect(() => new Locker({ database: value } as never));
      await collect(() => new core.Locker({ database: value } as never));
      await collect(() => new Locker({ database: client, waitUntil: value } as never));
      await collect(() => new Locker({ database: client, lockTTLms: value } as never));
      await collect(() => new Locker(value as never));
    }
    expect(errors.length).toBeGreaterThan(values.length * TIMING.length);
  });

  it("RedisDatabase constructor: carriers as client and as options", async () => {
    for (const [, value] of carriers()) {
      await collect(() => new RedisDatabase(value as never));
      await collect(() => new core.RedisDatabase(value as never));
      await collect(() => new RedisDatabase(client, value as never));
      for (const option of ["prefix", "waitForReplicas", "replicationTimeoutMs", "passwrd"]) {
        await collect(() => new RedisDatabase(client, { [option]: value } as never));
      }
    }
    await collect(() => new RedisDatabase(client.duplicate({ stringNumbers: true, lazyConnect: true })));
    // A function option cannot reach the liveness thread: the message names the option, not the other options.
    await collect(() => new Locker({ database: client.duplicate({ lazyConnect: true, tls: { checkServerIdentity: () => undefined } }) }));
  });

  it("Locker methods: every bad key, every bad argument, and every carrier in their place", async () => {
    const l = locker();
    for (const [, call] of keyCalls) {
      // A string is a legal key, shown as the lock's name: only the objects carry someone else's secret. (The catalogue's
      // release() call stringifies its key, which the Upstash client's auto-pipeline proxy would send as a command.)
      const objects = carriers().filter(([, v]) => typeof v !== "string" && v !== upstash);
      for (const [, key] of [...BAD_KEYS, ...objects]) await collect(() => call(l as unknown as core.Locker, key));
    }
    for (const [, , call] of otherCalls) await collect(() => call(l as unknown as core.Locker, uniqueKey("k")));
    const key = uniqueKey("k");
    for (const [, value] of carriers()) {
      await collect(() => l.acquire(key, value as never));
      await collect(() => l.acquireAndRun(key, value as never));
      await collect(() => l.acquireAndRun(key, noop, value as never));
      await collect(() => l.mutex(key, value as never, noop));
      await collect(() => l.mutex(key, { timeoutMs: 10, signal: value } as never, noop));
      await collect(() => l.mutex(key, 10, noop, value as never));
      await collect(() => l.release(key, value as LockData));
      await collect(() => l.readOwnerHashStatus(value as string));
      await collect(() => l.acquireAndRun(key, (hb) => hb.delay(value as number)));
    }
  });

  it("failures at run time: a wrong password, Redis unreachable with a password in the URL, Upstash down with a token", async () => {
    const wrong = `wrong-${PASSWORD}`;
    const badClients = [
      new Redis({ host: "127.0.0.1", port: server.port, password: wrong, maxRetriesPerRequest: 1 }),
      new Redis(`redis://:${PASSWORD}@127.0.0.1:${await freePort()}`, { maxRetriesPerRequest: 1 }),
    ];
    for (const c of badClients) c.on("error", () => {});
    try {
      for (const database of [...badClients, upstash]) {
        const l = new Locker({ database, reportWriteMs: 200, reportTtlMs: 2000, reporterWorkerSpawnTimeoutMs: 3000 } as never);
        l.errors.subscribe((e) => events.push(e));
        await collect(() => l.acquireAndRun(uniqueKey("k"), noop));
        await collect(() => l.readLockData(uniqueKey("k")));
        await l.terminate();
      }
    } finally {
      for (const c of badClients) c.disconnect();
    }
  });

  it("nothing collected shows a secret", () => {
    expect(errors.length).toBeGreaterThan(100);
    const leaks = [...errors.map(shown), ...events.map(shown), ...output].filter((text) => SECRETS.some((s) => text.includes(s)));
    expect(leaks).toEqual([]);
  });
});
