import Redis from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { startRedis } from "./redis-server.mjs";

/**
 * For a test file: a spawned redis-server and an ioredis client on it, for the whole file. The fields are set by the
 * file's first beforeAll (this one; register it before hooks that use them) and closed after its afterAll hooks.
 */
export function useRedisClient(): { server: Awaited<ReturnType<typeof startRedis>>; client: Redis } {
  const file = {} as { server: Awaited<ReturnType<typeof startRedis>>; client: Redis };
  beforeAll(async () => {
    file.server = await startRedis();
    file.client = new Redis(file.server.url);
  });
  afterAll(async () => {
    file.client?.disconnect();
    await file.server?.close();
  });
  return file;
}
