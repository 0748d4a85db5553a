/*
 * The RedisDatabase of the Node, Bun and Deno entries: the core one,
 * recognising ioredis clients (Redis and Cluster) besides @upstash/redis, and
 * able to WAIT for replicas (waitForReplicas).
 */
import { RedisDatabase as CoreRedisDatabase, type RedisDatabaseOptions } from "../../src/database";
import type { Transport } from "../../src/transport";
import { upstashTransport, type UpstashClient } from "../../src/upstash-transport";
import { waitForReplication } from "../shared/replication";
import { type IoredisClient, type IoredisCluster, ioredisTransport } from "./transport";

export class RedisDatabase extends CoreRedisDatabase {
  static override readonly clientAdapters: readonly ((client: unknown) => Transport | undefined)[] = [ioredisTransport, upstashTransport];

  /**
   * @param client An ioredis `Redis` or `Cluster` client, an @upstash/redis
   * client, or a {@link Transport}. Told apart by shape at run time, which
   * also refuses anything else that plain JavaScript passes.
   */
  constructor(client: IoredisClient | IoredisCluster | UpstashClient | Transport, options?: RedisDatabaseOptions) {
    super(client, options);
  }

  override replicated(operation: string, key: string): Promise<void> {
    return waitForReplication(this, operation, key);
  }
}
