import type { RedisDatabase, RedisDatabaseOptions } from "pulselock";

/**
 * What the shared conformance suite needs from a transport. Every transport
 * (ioredis, Redis Cluster, Upstash) provides one, and the same tests run on each.
 */
export interface ConformanceContext {
  name: string;
  /** How many masters share the keys: 1 for a single server. */
  shards: number;
  /** Whether a release wakes mutex() waiters through pub/sub. */
  supportsPubSub: boolean;
  /** The key prefix every database of this context uses (the client's own prefix). */
  prefix: string;
  /** The spawned server (restart loses all data). */
  server: { restart(): Promise<void>; port: number };
  url: string;
  /** A Redis command on a client without key prefix, as an operator would type it. */
  admin(...args: string[]): Promise<unknown>;
  /** A new database on a new client connection. */
  database(options?: RedisDatabaseOptions): RedisDatabase;
  /** A database whose every connection (its liveness thread's too) goes through a TCP proxy the test controls. */
  partitionedDatabase(): Promise<{
    db: RedisDatabase;
    proxy: { blackhole(): void; pass(o?: { drop?: boolean }): void; dropConnections(): void };
  }>;
  /** What a child process needs to reach the same Redis. */
  childArgs(): { url: string; prefix: string };
  close(): Promise<void>;
}
