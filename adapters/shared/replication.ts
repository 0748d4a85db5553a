import type { RedisDatabase } from "../../src/database";
import { RedisCommandError } from "../../src/errors";
import { toRedisCommandError } from "../../src/redis-errors";

/**
 * Resolves once the last write to `key` reached the database's
 * waitForReplicas replicas (at once when that is 0); throws a transient
 * RedisCommandError otherwise, so a write a failover could lose never counts.
 * Used by the RedisDatabase of entries whose clients can WAIT (ioredis).
 */
export async function waitForReplication(db: RedisDatabase, operation: string, key: string): Promise<void> {
  const wanted = db.waitForReplicas;
  if (wanted === 0 || !db.transport.waitForReplicas) return;
  let acked: number;
  try {
    acked = await db.transport.waitForReplicas(key, wanted, db.replicationTimeoutMs);
  } catch (error) {
    throw toRedisCommandError(operation, error);
  }
  if (acked < wanted) {
    throw new RedisCommandError(operation, "NOREPLICAS", true, `the write reached ${acked} of ${wanted} replicas within ${db.replicationTimeoutMs} ms`);
  }
}
