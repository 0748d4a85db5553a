import Redis from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { RedisDatabase } from "pulselock";
import { randomHex } from "../../src/timers";
import { startRedis } from "./redis-server.mjs";

/** A token beyond any Redis TIME in µs of this century: where a script must pass a previous token, not take TIME. */
export const FUTURE = 9_000_000_000_000_000;

/** A lock or semaphore name of its own per test. */
export const uniqueName = (label: string): string => `${label}-${randomHex(4)}`;

/**
 * For the scripts' round-trip tests: a spawned redis-server, an admin client on it, and a RedisDatabase with a key
 * prefix of its own (`<label><random>:`), set up before the file's tests and closed after them.
 */
export function useScriptServer(label: string): { client: Redis; db: RedisDatabase; liveProcess: () => Promise<string> } {
  let server: Awaited<ReturnType<typeof startRedis>> | undefined;
  const ctx = {
    client: undefined as unknown as Redis,
    db: undefined as unknown as RedisDatabase,
    /** A fresh process identity whose liveness record exists, as the acquire scripts check. */
    async liveProcess(): Promise<string> {
      const processHash = randomHex(16);
      await ctx.client.set(ctx.db.processKey(processHash), "1", "PX", 60_000);
      return processHash;
    },
  };
  beforeAll(async () => {
    server = await startRedis();
    ctx.client = new Redis(server.url);
    ctx.db = new RedisDatabase(new Redis(server.url), { prefix: `${label}${randomHex(3)}:` });
  });
  afterAll(async () => {
    ctx.client?.disconnect();
    await ctx.db?.close();
    await server?.close();
  });
  return ctx;
}
