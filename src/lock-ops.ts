import type { RedisDatabase } from "./database";
import { decodeLockRecord, type Owner } from "./lock-record";
import type { LockData } from "./lock-data";
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

/**
 * How a run keeps a lock it holds (LockRun's HoldOps): extended by its record, rechecked by reading it (its current
 * record while ours; someone else's, or null when it is gone).
 */
export function lockHoldOps(
  db: RedisDatabase,
  key: string,
  owner: Owner,
  lockTtlMs: number,
): { extend(): Promise<ExtendResult>; holder(): Promise<LockData | null> } {
  const redisKey = db.lockKey(key);
  return {
    extend: () => extendLock(db, key, owner, lockTtlMs),
    holder: async () => {
      const raw = await readKey(db, redisKey);
      return raw === null ? null : decodeLockRecord(key, redisKey, raw);
    },
  };
}
