import type { RedisDatabase } from "./database";
import type { Owner } from "./lock-record";
import { EXTEND, decodeExtendReply, extendArgs } from "./scripts/extend";
import { READ, decodeReadReply } from "./scripts/read";
import { LockStatus } from "./statuses";
import type { ExtendResult } from "./results";

/** Until locker.ts takes it from scripts/release.ts (lock-batches.ts decodes releases now); then this line goes. */
export { releaseResult } from "./scripts/release";

/**
 * GET through a script (every transport needs only EVALSHA/EVAL): a string or null, anything else is malformed.
 * A release's tombstone reads as null: it holds no lock.
 */
export async function readKey(db: RedisDatabase, redisKey: string): Promise<string | null> {
  return decodeReadReply(await db.run(READ, [redisKey], []));
}

/**
 * One extension of a lock the caller owns: the EXTEND script, then, when the
 * database waits for replicas, the WAIT (a write that may be lost on failover
 * does not count). Throws RedisCommandError.
 */
export async function extendLock(db: RedisDatabase, key: string, owner: Owner, lockTtlMs: number): Promise<ExtendResult> {
  const redisKey = db.lockKey(key);
  const result = decodeExtendReply(key, redisKey, await db.run(EXTEND, [redisKey], extendArgs(owner, lockTtlMs)));
  if (result.status === LockStatus.SUCCESS) await db.replicated("extend", redisKey);
  return result;
}
