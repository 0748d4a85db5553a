import { malformedReply } from "../malformed-reply";
import type { ReleaseResult } from "../results";
import { CorruptRecordError } from "../errors";
import { LUA_PERMIT_LAYOUT } from "../semaphore-record";
import { LockStatus } from "../statuses";
import { compactLua, type LuaScript } from "./script";

/**
 * Frees one permit the caller holds: an HDEL of its own field (which names
 * processHash and seq), so a retry or a late release never frees anybody
 * else's. When a waiter flagged the semaphore, the release publishes on the
 * semaphore's key (SPUBLISH on a cluster: the channel hashes to its slot);
 * without a flag nobody waits, and it costs no PUBLISH. When the last permit
 * goes, the hash goes too, unless TIME has not yet passed the last token:
 * then the hash keeps only that token until it has (like a lock's tombstone),
 * so the next token still grows.
 *
 * KEYS: the semaphore, its wait flag. ARGV: publish ("0", "1" PUBLISH, "2"
 * SPUBLISH), the permit's field.
 * Returns 1 released, -1 when the permit was gone (taken over, deleted, or
 * expired: then it is dropped now), or the value when the field holds
 * something that is not a permit (left alone).
 */
export const SEMAPHORE_RELEASE: LuaScript = {
  name: "semaphore-release",
  source: compactLua(`${LUA_PERMIT_LAYOUT}
local semKey = KEYS[1]
local flagKey = KEYS[2]
local publishMode, field = ARGV[1], ARGV[2]

local value = redis.call('HGET', semKey, field)
if not value then return -1 end
local expiresAt = permitExpiresAt(value)
if not expiresAt then return value end
redis.call('HDEL', semKey, field)

local time = redis.call('TIME')
local nowUs = time[1] * 1000000 + time[2]
if redis.call('HLEN', semKey) == 1 and redis.call('HEXISTS', semKey, 't') == 1 then
  -- The last permit: the hash goes, or keeps the last token until TIME has passed it (whole ms, plus one).
  local token = tonumber(redis.call('HGET', semKey, 't'))
  if token and nowUs <= token then redis.call('PEXPIRE', semKey, math.floor((token - nowUs) / 1000) + 2)
  else redis.call('DEL', semKey) end
end

-- A waiter flagged the semaphore: wake it (a refused PUBLISH is ignored, the waiter polls anyway).
if redis.call('DEL', flagKey) > 0 then
  if publishMode == '1' then redis.pcall('PUBLISH', semKey, '')
  elseif publishMode == '2' then redis.pcall('SPUBLISH', semKey, '') end
end
-- An expired permit was not held any more, although nobody took it: the caller must learn it.
if expiresAt <= math.floor(nowUs / 1000) then return -1 end
return 1`),
  sha: "c09f14196242bf31ec378c7a7ab8013f8299e432",
};

/** SEMAPHORE_RELEASE's answer for a permit of the semaphore at `redisKey`. Throws CorruptRecordError, or BAD_RESPONSE. */
export function semaphoreReleaseResult(redisKey: string, reply: unknown): ReleaseResult {
  if (reply === 1) return { status: LockStatus.SUCCESS, lockData: null };
  if (reply === -1) return { status: LockStatus.NO_KEY, lockData: null };
  if (typeof reply !== "string") throw malformedReply("semaphore-release", reply);
  throw new CorruptRecordError(redisKey, reply); // the script answers with a value only when it is not a permit
}
