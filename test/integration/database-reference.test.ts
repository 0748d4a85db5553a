import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Redis as Upstash } from "@upstash/redis";
import Redis from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Locker, LockStatus, RedisDatabase, isRedisCommandError, isDatabaseLoadError } from "pulselock";
import { fixturePath } from "../support/child-process";
import { startRedis } from "../support/redis-server.mjs";
import { uniqueKey } from "../support/wait-for";

/** `database` given as { moduleName, exportName } (DESIGN §4), or as a cloneable instance. */
let server: Awaited<ReturnType<typeof startRedis>>;
let admin: Redis;
const lockers: Locker[] = [];
const packageLink = fileURLToPath(new URL("../../node_modules/pulselock-test-db", import.meta.url));
const FAST = { reportWriteMs: 200, reportTtlMs: 1000 };

beforeAll(async () => {
  server = await startRedis();
  process.env.PULSELOCK_TEST_REDIS_URL = server.url; // the liveness thread inherits it
  admin = new Redis(server.url);
  rmSync(packageLink, { force: true, recursive: true });
  mkdirSync(fileURLToPath(new URL("../../node_modules", import.meta.url)), { recursive: true });
  symlinkSync(fixturePath("pkg-db"), packageLink, "dir");
});
afterEach(async () => {
  await Promise.all(lockers.splice(0).map((l) => l.terminate()));
});
afterAll(async () => {
  rmSync(packageLink, { force: true, recursive: true });
  admin.disconnect();
  await server.close();
});

function locker(database: ConstructorParameters<typeof Locker>[0]["database"]) {
  const l = new Locker({ database, ...FAST });
  lockers.push(l);
  return l;
}

/** The liveness record really is written by the thread, under the module's own key prefix. */
async function livenessKeys(prefix: string): Promise<string[]> {
  return admin.keys(`${prefix}pl:proc:*`);
}

describe("database references", () => {
  it.each([
    ["an absolute path to an ESM module", () => fixturePath("db-esm.mjs"), "ref-esm:"],
    ["a file: URL of a CJS module", () => pathToFileURL(fixturePath("db-cjs.cjs")).href, "ref-cjs:"],
    ["a package name", () => "pulselock-test-db", "ref-pkg:"],
    // Resolved as require() resolves it (issue 16), as @clickup/distributed-locker's own tests name theirs.
    ["an absolute path without its extension to an ESM module", () => fixturePath("db-plain"), "ref-plain-esm:"],
    ["an absolute path without its extension to a CJS module", () => fixturePath("cjs-scope/db"), "ref-plain-cjs:"],
  ])("loads %s in the main thread and the liveness thread", async (_label, moduleName, prefix) => {
    const l = locker({ moduleName: moduleName(), exportName: "db" });
    const key = uniqueKey("ref");
    const res = await l.acquireAndRun(key, async (heartbeat) => {
      expect(await admin.exists(`${prefix}pl:{${key}}`)).toBe(1);
      await heartbeat.delay(FAST.reportWriteMs * 2);
      expect((await livenessKeys(prefix)).length).toBeGreaterThanOrEqual(1);
      return heartbeat.lockData.fencingToken;
    });
    expect(res.status).toBe(LockStatus.SUCCESS);
  });

  it("a module without that export gives a DatabaseLoadError that says what to export", async () => {
    const l = locker({ moduleName: fixturePath("db-esm.mjs"), exportName: "missing" });
    const err = await l.acquire(uniqueKey("missing")).catch((e) => e);
    expect(isDatabaseLoadError(err)).toBe(true);
    expect(err.message).toContain('"missing"');
    expect(err.message).toMatch(/RedisDatabase/);
    const notDb = locker({ moduleName: fixturePath("db-esm.mjs"), exportName: "notADatabase" });
    await expect(notDb.acquire(uniqueKey("not-db"))).rejects.toThrow(/no export "notADatabase" that is a RedisDatabase/);
  });

  it("a module that cannot be found gives a DatabaseLoadError; a relative path is refused by the constructor", async () => {
    await expect(locker({ moduleName: "/nonexistent/db.mjs", exportName: "db" }).acquire("k")).rejects.toSatisfy(isDatabaseLoadError);
    // Found by a docs audit: it used to pass the constructor and fail the first acquire.
    for (const moduleName of ["./db.mjs", "../db.mjs"]) {
      expect(() => locker({ moduleName, exportName: "db" })).toThrow(TypeError);
      expect(() => locker({ moduleName, exportName: "db" })).toThrow(/moduleName must be an absolute path, a file: URL or a package name, not relative/);
    }
  });

  it("an instance with cloneable ioredis options is rebuilt in the liveness thread", async () => {
    const client = new Redis(server.url, { keyPrefix: "inst:", connectionName: "main" });
    const l = locker(new RedisDatabase(client, { prefix: "app:" }));
    const key = uniqueKey("instance");
    await l.acquireAndRun(key, async (heartbeat) => {
      await heartbeat.delay(FAST.reportWriteMs * 2);
    });
    expect((await admin.keys("inst:app:pl:proc:*")).length).toBe(1);
    client.disconnect();
  });

  it("an instance whose options hold functions is refused in the constructor with advice", () => {
    const client = new Redis({ lazyConnect: true, tls: { checkServerIdentity: () => undefined } });
    expect(() => new Locker({ database: new RedisDatabase(client) })).toThrow(/moduleName, exportName/);
    client.disconnect();
  });

  it("an @upstash/redis instance without a readable URL and token (a custom requester) is refused in the constructor with advice", () => {
    const client = new Upstash({ request: async <T>() => ({ result: "OK" as T }) });
    expect(() => new Locker({ database: new RedisDatabase(client) })).toThrow(
      /cannot read the URL and token of this @upstash\/redis client.*moduleName, exportName/,
    );
  });

  it("the first acquire fails with the client's own error when Redis is unreachable, even on a lazyConnect client", async () => {
    const { freePort } = await import("../support/redis-server.mjs");
    const deadPort = await freePort(); // nothing listens there
    const client = new Redis({ host: "127.0.0.1", port: deadPort, lazyConnect: true, enableOfflineQueue: true });
    client.on("error", () => {});
    const l = new Locker({ database: new RedisDatabase(client), ...FAST });
    lockers.push(l);
    const t0 = performance.now();
    const err = await l.acquire(uniqueKey("unreachable")).catch((e) => e);
    expect(isRedisCommandError(err), String(err)).toBe(true);
    expect(err.code).toBe("ECONNREFUSED");
    expect(err.cause).toMatchObject({ code: "ECONNREFUSED" });
    expect(performance.now() - t0).toBeLessThan(5_000);
    client.disconnect();
  });

  it("RedisDatabase refuses something that is not a Redis client", () => {
    expect(() => new RedisDatabase({ get: () => 1 } as never)).toThrow(TypeError);
    expect(() => new RedisDatabase(null as never)).toThrow(/ioredis/);
  });
});
