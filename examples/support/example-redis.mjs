// @ts-check
// What the runnable examples share: a Redis to run against (REDIS_URL, or a
// redis-server spawned for the run), and a look at what a run left in it.
import { Redis } from "ioredis";
import { startRedis } from "../../test/support/redis-server.mjs";

/** REDIS_URL when set; otherwise a redis-server on a free loopback port, stopped by close(). */
export async function exampleRedis() {
  const server = process.env.REDIS_URL ? null : await startRedis();
  return {
    url: process.env.REDIS_URL ?? /** @type {string} */ (server?.url),
    spawned: server !== null,
    async close() {
      if (!server) return;
      // startRedis() unrefs its server process: keep the loop alive until it is gone.
      const keepAlive = setInterval(() => {}, 1000);
      await server.close();
      clearInterval(keepAlive);
    },
  };
}

/**
 * Every key under `prefix` with its value, then deletes them (tidying up a shared REDIS_URL).
 * @param {string} url
 * @param {string} prefix
 * @returns {Promise<Map<string, string | null>>}
 */
export async function takeKeys(url, prefix) {
  const client = new Redis(url, { maxRetriesPerRequest: 2 });
  try {
    const keys = [];
    let cursor = "0";
    do {
      const [next, batch] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    const values = keys.length ? await client.mget(keys) : [];
    if (keys.length) await client.del(...keys);
    return new Map(keys.map((k, i) => [k, values[i] ?? null]));
  } finally {
    await client.quit().catch(() => client.disconnect());
  }
}
