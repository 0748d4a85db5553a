/*
 * Reads that take nothing: who holds a key, whether a process is alive, and
 * what a release() of a lock that is not ours answers. Each is a snapshot,
 * stale as soon as it returns.
 */
import type { RedisDatabase } from "./database";
import type { LockData } from "./lock-data";
import { decodeLockRecord, ownerOf, parseOwnerHashCandidates } from "./lock-record";
import { readKey } from "./lock-ops";
import type { OwnerHashStatusResult, ReleaseResult } from "./results";
import { LockStatus, OwnerHashStatus } from "./statuses";

/** Whether `processHash`'s liveness record exists (a dead process's has expired). */
export async function isProcessAlive(db: RedisDatabase, processHash: string): Promise<boolean> {
  return (await readKey(db, db.processKey(processHash))) !== null;
}

/** The key's holder while its process lives; "maybe_unlocked" when nobody holds it or the holder is dead. */
export async function readLiveHolder(db: RedisDatabase, key: string): Promise<LockData | "maybe_unlocked"> {
  const redisKey = db.lockKey(key);
  const raw = await readKey(db, redisKey);
  if (raw === null) return "maybe_unlocked";
  const lockData = decodeLockRecord(key, redisKey, raw);
  return (await isProcessAlive(db, lockData.processHash)) ? lockData : "maybe_unlocked";
}

/** Whether the run with this owner hash still holds its lock, in a live process. */
export async function readOwnerHashStatus(db: RedisDatabase, ownerHash: string): Promise<OwnerHashStatusResult> {
  const candidates = parseOwnerHashCandidates(ownerHash);
  if (candidates.length === 0) return { status: OwnerHashStatus.MALFORMED_OWNER_HASH, lockData: null, key: null };
  let first: OwnerHashStatusResult | undefined;
  // A key may itself contain "@<hash>.<seq>": the reading whose lock record names this very owner wins.
  for (const { key } of candidates) {
    const raw = await readKey(db, db.lockKey(key));
    const lockData = raw === null ? null : decodeLockRecord(key, db.lockKey(key), raw);
    if (lockData?.ownerHash === ownerHash) {
      const alive = await isProcessAlive(db, lockData.processHash);
      return { status: alive ? OwnerHashStatus.RUNNING : OwnerHashStatus.NO_RUNNING_PROCESS, lockData, key };
    }
    first ??= lockData ? { status: OwnerHashStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData, key } : { status: OwnerHashStatus.NO_KEY, lockData: null, key };
  }
  return first!;
}

/**
 * release() of a lock that is not (or no longer) this Locker's: say who holds the key, and touch nothing. A free
 * key answers NO_KEY to a lockData of this key (released already, or expired), as a compare-and-delete would;
 * another key's or a made-up owner gets SOMEONE_ELSE_HOLDS_LOCK with the lockData given.
 */
export async function notOurs(db: RedisDatabase, key: string, given: LockData): Promise<ReleaseResult> {
  const redisKey = db.lockKey(key);
  const raw = await readKey(db, redisKey);
  if (raw !== null) return { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData: decodeLockRecord(key, redisKey, raw) };
  return ownerOf(key, given.ownerHash) ? { status: LockStatus.NO_KEY, lockData: null } : { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData: given };
}
