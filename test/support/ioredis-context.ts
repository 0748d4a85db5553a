import Redis from "ioredis";
import { RedisDatabase } from "pulselock";
import type { ConformanceContext } from "../conformance/context";
import { startRedis } from "./redis-server.mjs";
import { startProxy } from "./tcp-proxy.mjs";

/** The conformance context for ioredis against one spawned redis-server. */
export async function ioredisContext(): Promise<ConformanceContext> {
  const server = await startRedis();
  const clients: Redis[] = [];
  const proxies: Awaited<ReturnType<typeof startProxy>>[] = [];
  const client = (port: number, keyPrefix: string) => {
    const c = new Redis({ host: "127.0.0.1", port, keyPrefix, maxRetriesPerRequest: 3 });
    c.on("error", () => {});
    clients.push(c);
    return c;
  };
  const admin = client(server.port, "");
  const prefix = `t${Math.random().toString(36).slice(2, 8)}:`;
  return {
    name: "ioredis",
    shards: 1,
    supportsPubSub: true,
    prefix,
    server,
    url: server.url,
    admin: (...args) => admin.call(args[0]!, ...args.slice(1)),
    database: (options) => new RedisDatabase(client(server.port, prefix), options),
    async partitionedDatabase() {
      const proxy = await startProxy(server.port);
      proxies.push(proxy);
      return { db: new RedisDatabase(client(proxy.port, prefix)), proxy };
    },
    childArgs: () => ({ url: server.url, prefix }),
    async close() {
      for (const p of proxies) await p.close();
      for (const c of clients) c.disconnect();
      await server.close();
    },
  };
}
