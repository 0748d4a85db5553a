/*
 * The RedisDatabase of Node and Bun: the core one, recognising ioredis
 * clients (Redis and Cluster) besides @upstash/redis, and able to WAIT for
 * replicas (waitForReplicas).
 */
import { RedisDatabase as CoreRedisDatabase } from "../../src/database";
import { waitForReplication } from "../../src/replication";
import type { Transport } from "../../src/transport";
import { ioredisTransport } from "../ioredis/transport";
import { upstashTransport } from "../../src/upstash-transport";

export class RedisDatabase extends CoreRedisDatabase {
  static override readonly clientAdapters: readonly ((client: unknown) => Transport | undefined)[] = [
    ioredisTransport,
    upstashTransport,
  ];

  override replicated(operation: string, key: string): Promise<void> {
    return waitForReplication(this, operation, key);
  }
}
