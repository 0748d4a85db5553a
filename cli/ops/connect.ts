/*
 * Connects to where the options say: Redis or Redis Cluster (ioredis), or
 * Upstash (REST over fetch). Connecting checks the credentials at once.
 */
import type { ConnectOptions } from "./args";
import { connectRedis } from "./redis-store";
import type { Store } from "./store";
import { connectUpstash } from "./upstash-store";

export async function connect(o: ConnectOptions): Promise<Store> {
  return o.redis !== undefined ? connectRedis(o.redis, o.cluster) : connectUpstash(o.upstashUrl!, o.upstashToken!);
}
