import { LUA_RECORD_LAYOUT, decodeLockRecord, type Owner } from "../lock-record";
import { malformedReply } from "../malformed-reply";
import type { ExtendResult } from "../results";
import { LockStatus } from "../statuses";
import { compactLua, type LuaScript } from "./script";

/**
 * Extends a lock that the caller still owns, and stamps extendedAt.
 *
 * KEYS[1] lock key. ARGV: processHash, seq, lockTtlMs.
 * Returns {1, newRecord}, {0, currentRecord} when someone else holds it, or {-1} when the key is gone (or holds a release's tombstone).
 */
export const EXTEND: LuaScript = {
  name: "extend",
  source: compactLua(`${LUA_RECORD_LAYOUT}
local lockKey = KEYS[1]
local ownProcessHash, ownSeq, lockTtlMs = ARGV[1], ARGV[2], ARGV[3]

-- Gone (expired, released, or a tombstone, which holds no lock): nothing to extend.
local current = redis.call('GET', lockKey)
if not current or tombstoneToken(current) then return {-1} end

-- Someone else's (or not a pulselock record): touch nothing, answer with what is there.
local token, acquiredAtMs, _, processHash, seq, traceField = parseRecord(current)
if not token or processHash ~= ownProcessHash or seq ~= ownSeq then return {0, current} end

-- Ours: the same record with extendedAt now (Redis TIME in ms), and a fresh TTL.
local time = redis.call('TIME')
local extended = recordHead(token, acquiredAtMs, string.format('%.0f', time[1] * 1000 + math.floor(time[2] / 1000)), processHash) .. seq .. '|' .. traceField
redis.call('SET', lockKey, extended, 'PX', lockTtlMs)
return {1, extended}`),
  sha: "c4abdea665120b58d3c29895f60ef7f1cf84b98e",
};

/** The ARGV of one EXTEND of `owner`'s lock (its KEYS: the lock's Redis key). */
export function extendArgs(owner: Owner, lockTtlMs: number): string[] {
  return [owner.processHash, owner.seq, String(lockTtlMs)];
}

/**
 * Reads the reply of EXTEND for lock `key` at `redisKey`: {1, record} ours,
 * {0, record} someone else's, {-1} no key. Throws CorruptRecordError, also for
 * a reply without the record it should carry.
 */
export function decodeExtendReply(key: string, redisKey: string, reply: unknown): ExtendResult {
  if (!Array.isArray(reply)) throw malformedReply("extend", reply);
  const [status, raw] = reply as [number, string?];
  if (status !== 1 && status !== 0 && status !== -1) throw malformedReply("extend", reply);
  if (status === -1) return { status: LockStatus.NO_KEY, lockData: null };
  return { status: status === 1 ? LockStatus.SUCCESS : LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData: decodeLockRecord(key, redisKey, raw) };
}
