import { CorruptRecordError } from "../errors";
import { decodeLockRecord } from "../lock-record";
import { malformedReply } from "../malformed-reply";
import type { ExtendResult } from "../results";
import { LUA_PERMIT_LAYOUT } from "../semaphore-record";
import { LockStatus } from "../statuses";
import { compactLua, type LuaScript } from "./script";

/**
 * Extends a permit the caller still holds by lockTtlMs, stamps extendedAt,
 * and keeps the hash alive at least that long.
 *
 * KEYS[1] the semaphore. ARGV: the permit's field, lockTtlMs.
 * Returns {1, record} (the permit's lock record, rewritten), {-1} when it is
 * gone or expired (then dropped), {0, value} when the field holds something
 * that is not a permit.
 */
export const SEMAPHORE_EXTEND: LuaScript = {
  name: "semaphore-extend",
  source: compactLua(`${LUA_PERMIT_LAYOUT}
local semKey = KEYS[1]
local field, lockTtlMs = ARGV[1], tonumber(ARGV[2])

local value = redis.call('HGET', semKey, field)
if not value then return {-1} end
local expiresAt = permitExpiresAt(value)
local token, acquiredAtMs, _, processHash, seq, traceField = parseRecord(permitRecord(value) or '')
if not expiresAt or not token then return {0, value} end

local time = redis.call('TIME')
local nowMs = time[1] * 1000 + math.floor(time[2] / 1000)
-- Expired: someone may already have counted it free.
if expiresAt <= nowMs then
  redis.call('HDEL', semKey, field)
  return {-1}
end

local extended = recordHead(token, acquiredAtMs, string.format('%.0f', nowMs), processHash) .. seq .. '|' .. traceField
redis.call('HSET', semKey, field, formatPermit(nowMs + lockTtlMs, extended))
if redis.call('PTTL', semKey) < lockTtlMs then redis.call('PEXPIRE', semKey, lockTtlMs) end
return {1, extended}`),
  sha: "757ba10179ffc240226d11d4f812d7ab6b0f74de",
};

/** SEMAPHORE_EXTEND's answer for the permit of semaphore `key` at `redisKey`. */
export function decodeSemaphoreExtendReply(key: string, redisKey: string, reply: unknown): ExtendResult {
  if (!Array.isArray(reply)) throw malformedReply("semaphore-extend", reply);
  const [status, raw] = reply as [unknown, unknown];
  if (status === -1 && reply.length === 1) return { status: LockStatus.NO_KEY, lockData: null };
  if (status === 0) throw new CorruptRecordError(redisKey, raw);
  if (status !== 1) throw malformedReply("semaphore-extend", reply);
  return { status: LockStatus.SUCCESS, lockData: decodeLockRecord(key, redisKey, raw) };
}
