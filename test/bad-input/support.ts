import Redis from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { Locker, LockStatus, RedisDatabase } from "pulselock";
import { startRedis } from "../support/redis-server.mjs";

/**
 * One spawned redis-server per test file, and lockers whose keys all live
 * under a prefix of their own, so that "nothing was left behind" is a SCAN.
 */
export interface BadInputRedis {
  server: Awaited<ReturnType<typeof startRedis>>;
  /** A plain client without prefix, to plant foreign values and look at keys. */
  admin: Redis;
  /** A fresh prefix, unique to one test. */
  prefix(label: string): string;
  /** A Node Locker (liveness thread) whose keys live under `prefix`. */
  locker(prefix: string): Locker;
  /** Keys under `prefix` other than live liveness records (a Locker that is still open keeps its own). */
  leftovers(prefix: string): Promise<string[]>;
  /** Whether a second, unrelated Locker can take `key` at once (and gives it back). */
  isFree(prefix: string, key: string): Promise<boolean>;
}

/** Fast liveness, so a test never waits long for a lapse or a first write. */
export const FAST = { reportWriteMs: 200, reportTtlMs: 2000 } as const;

export function useBadInputRedis(): BadInputRedis {
  const lockers: Locker[] = [];
  const clients: Redis[] = [];
  const ctx = {} as BadInputRedis;
  const client = () => {
    const c = new Redis({ host: "127.0.0.1", port: ctx.server.port, maxRetriesPerRequest: 2 });
    c.on("error", () => {});
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    ctx.server = await startRedis();
    ctx.admin = client();
  });
  afterAll(async () => {
    await Promise.all(lockers.map((l) => l.terminate()));
    for (const c of clients) c.disconnect();
    await ctx.server?.close();
  });
  ctx.prefix = (label) => `bi-${label}:${crypto.randomUUID()}:`;
  ctx.locker = (prefix) => {
    const locker = new Locker({ database: new RedisDatabase(client(), { prefix }), ...FAST });
    lockers.push(locker);
    return locker;
  };
  ctx.leftovers = async (prefix) => {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await ctx.admin.scan(cursor, "MATCH", `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    return keys.filter((k) => !k.startsWith(`${prefix}pl:proc:`));
  };
  const others = new Map<string, Locker>();
  ctx.isFree = async (prefix, key) => {
    const other = others.get(prefix) ?? ctx.locker(prefix);
    others.set(prefix, other);
    const res = await other.acquire(key);
    if (res.status !== LockStatus.SUCCESS) return false;
    await other.release(key, res.lockData);
    return true;
  };
  return ctx;
}
