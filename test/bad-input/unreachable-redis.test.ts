import { Redis as Upstash } from "@upstash/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Locker, RedisDatabase, isRedisCommandError, type LockerErrorEvent } from "pulselock";
import { freePort, startRedis } from "../support/redis-server.mjs";
import { uniqueKey } from "../support/wait-for";

/*
 * Redis out of reach on the first acquire: it fails as soon as the client
 * reports the failure (long before reporterWorkerSpawnTimeoutMs, 15 s), as a
 * RedisCommandError whose cause is the client's own error; locker.errors sees
 * it, and terminate() returns at once. Default client options throughout:
 * what a user gets without tuning anything.
 */
let server: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.close();
});

/** Within the 12 s the issue allows a default ioredis client (its connect timeout is 10 s). */
const BOUND_MS = 12_000;

async function firstAcquireFails(database: unknown) {
  const locker = new Locker({ database: database as RedisDatabase });
  const events: LockerErrorEvent[] = [];
  locker.errors.subscribe((e) => events.push(e));
  const t0 = performance.now();
  const error = await locker
    .acquireAndRun(uniqueKey("k"), async () => "ran")
    .then(
      (res) => ({ unexpected: res }),
      (e: unknown) => e,
    );
  const failedAfterMs = performance.now() - t0;
  const t1 = performance.now();
  await locker.terminate();
  const terminateMs = performance.now() - t1;
  return { error: error as Error & { code?: string; cause?: unknown }, events, failedAfterMs, terminateMs };
}

function expectUnreachable(r: Awaited<ReturnType<typeof firstAcquireFails>>, code: RegExp, cause: RegExp) {
  expect(isRedisCommandError(r.error), String(r.error)).toBe(true);
  expect(r.error.code).toMatch(code);
  expect(r.error.cause).toBeInstanceOf(Error);
  expect((r.error.cause as Error).message).toMatch(cause);
  expect(r.failedAfterMs).toBeLessThan(BOUND_MS);
  expect(r.events.some((e) => isRedisCommandError(e.error) && e.error.code === r.error.code)).toBe(true);
  expect(r.terminateMs).toBeLessThan(1000);
}

describe("Redis unreachable on the first acquire", () => {
  it("ioredis, connection refused (a raw client given as database)", async () => {
    const client = new Redis({ host: "127.0.0.1", port: await freePort() });
    client.on("error", () => {});
    try {
      expectUnreachable(await firstAcquireFails(client), /^(ECONNREFUSED|CONNECTION)$/, /ECONNREFUSED/);
    } finally {
      client.disconnect();
    }
  });

  it("ioredis, unknown host", async () => {
    const client = new Redis("redis://pulselock-no-such-host.invalid:6390");
    client.on("error", () => {});
    try {
      expectUnreachable(await firstAcquireFails(new RedisDatabase(client)), /^(ENOTFOUND|EAI_AGAIN|CONNECTION)$/, /ENOTFOUND|EAI_AGAIN/);
    } finally {
      client.disconnect();
    }
  });

  it("ioredis, wrong scheme (rediss:// to a server without TLS)", async () => {
    const client = new Redis(`rediss://127.0.0.1:${server.port}`);
    client.on("error", () => {});
    try {
      expectUnreachable(await firstAcquireFails(new RedisDatabase(client)), /^(CONNECTION|ECONNRESET|ETIMEDOUT)$/, /./);
    } finally {
      client.disconnect();
    }
  });

  it("@upstash/redis, REST URL down (a raw client given as database)", async () => {
    const client = new Upstash({ url: `http://127.0.0.1:${await freePort()}`, token: "t", enableTelemetry: false });
    expectUnreachable(await firstAcquireFails(client), /^CONNECTION$/, /fetch failed/);
  });

  it("@upstash/redis, a redis:// URL is refused when the client is built, by the SDK itself", async () => {
    expect(() => new Upstash({ url: `redis://127.0.0.1:${server.port}`, token: "t", enableTelemetry: false })).toThrow(/https/);
  });
});

describe("waitForReplicas with too few replicas", () => {
  it("fails the first acquire with NOREPLICAS quickly, not after the spawn timeout", async () => {
    const client = new Redis({ host: "127.0.0.1", port: server.port });
    const db = new RedisDatabase(client, { waitForReplicas: 1, replicationTimeoutMs: 200, prefix: `norepl-${crypto.randomUUID()}:` });
    try {
      const r = await firstAcquireFails(db);
      expect(isRedisCommandError(r.error), String(r.error)).toBe(true);
      expect(r.error.code).toBe("NOREPLICAS");
      expect(r.failedAfterMs).toBeLessThan(5000);
      expect(r.terminateMs).toBeLessThan(1000);
    } finally {
      await db.close();
      expect(client.status).toBe("end");
    }
  });
});
