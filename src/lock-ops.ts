import type { Database } from "./database";
import { TOMBSTONE, decodeLockRecord, type Owner } from "./lock-record";
import { RedisCommandError } from "./errors";
import { describe } from "./options";
import { EXTEND } from "./scripts/extend";
import { READ } from "./scripts/read";
import { LockStatus } from "./statuses";
import type { LockData } from "./lock-data";
import type { ExtendResult, ReleaseResult } from "./results";


/** A reply of a shape no pulselock script gives (a proxy's, say): transient, like any garbled answer. */
export function malformedReply(operation: string, reply: unknown): RedisCommandError {
  return new RedisCommandError(operation, "BAD_RESPONSE", true, `a reply of the wrong shape: ${describe(reply)}`);
}

/**
 * GET through a script (every transport needs only EVALSHA/EVAL): a string or null, anything else is malformed.
 * A release's tombstone reads as null: it holds no lock.
 */
export async function readKey(db: Database, redisKey: string): Promise<string | null> {
  const value = await db.run(READ, [redisKey], []);
  if (value !== null && typeof value !== "string") throw malformedReply(READ.name, value);
  return value !== null && TOMBSTONE.test(value) ? null : value;
}

/**
 * Reads the reply of the extend script: {1, record} ours, {0, record} someone
 * else's, {-1} no key. Throws CorruptRecordError, also for a reply without the
 * record it should carry.
 */
function extendOutcome(key: string, redisKey: string, reply: unknown): ExtendResult {
  if (!Array.isArray(reply)) throw malformedReply("extend", reply);
  const [status, raw] = reply as [number, string?];
  if (status !== 1 && status !== 0 && status !== -1) throw malformedReply("extend", reply);
  if (status === -1) return { status: LockStatus.NO_KEY, lockData: null };
  return { status: status === 1 ? LockStatus.SUCCESS : LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData: decodeLockRecord(key, redisKey, raw) };
}

/** One lock's RELEASE answer: 1 released, -1 no key, a string the current holder's record. */
export function releaseResult(key: string, redisKey: string, reply: unknown): ReleaseResult {
  if (reply === 1) return { status: LockStatus.SUCCESS, lockData: null };
  if (reply === -1) return { status: LockStatus.NO_KEY, lockData: null };
  if (typeof reply !== "string") throw malformedReply("release", reply);
  return { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData: decodeLockRecord(key, redisKey, reply) };
}

/**
 * One extension of a lock the caller owns: the EXTEND script, then, when the
 * database waits for replicas, the WAIT (a write that may be lost on failover
 * does not count). Throws RedisCommandError.
 */
export async function extendLock(
  db: Database,
  key: string,
  owner: Owner,
  lockTtlMs: number,
): Promise<ExtendResult> {
  const redisKey = db.lockKey(key);
  const result = extendOutcome(key, redisKey, await db.run(EXTEND, [redisKey], [owner.processHash, owner.seq, String(lockTtlMs)]));
  if (result.status === LockStatus.SUCCESS) await db.replicated("extend", redisKey);
  return result;
}
