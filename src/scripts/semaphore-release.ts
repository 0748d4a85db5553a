import { keyError, malformedReply } from "../malformed-reply";
import { waitFlagKey } from "../wait-flag-key";
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
 * Concurrent releases of one Locker travel together (one script call per
 * batch; one release per call on a cluster).
 *
 * KEYS: per permit its semaphore and that one's wait flag. ARGV: publish
 * ("0", "1" PUBLISH, "2" SPUBLISH), then per permit its field.
 * Returns per permit: 1 released, -1 when it was gone (taken over, deleted,
 * or expired: then it is dropped now), the value when the field holds
 * something that is not a permit (left alone), or {-3, error} when Redis
 * refused the key.
 */
export const SEMAPHORE_RELEASE: LuaScript = {
  name: "semaphore-release",
  source: compactLua(`${LUA_PERMIT_LAYOUT}
local publishMode = ARGV[1]
local time = redis.call('TIME')
local nowUs = time[1] * 1000000 + time[2]

-- One permit: 1 released, -1 gone or expired, the value when it is not a permit, {-3, error} when Redis refused.
local function releaseOne(k, field)
  local semKey = KEYS[k + 1]
  local flagKey = KEYS[k + 2]
  local value = redis.pcall('HGET', semKey, field)
  if type(value) == 'table' then return {-3, value.err} end
  if not value then return -1 end
  local expiresAt = permitExpiresAt(value)
  if not expiresAt then return value end
  redis.call('HDEL', semKey, field)
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
  return 1
end

local replies = {}
for i = 2, #ARGV do replies[i - 1] = releaseOne((i - 2) * 2, ARGV[i]) end
return replies`),
  sha: "cfbe18571ab094be541a75fb9fba9d4879113155",
};

/** One permit to release: the semaphore's Redis key and the permit's field. */
export interface SemaphoreReleaseRequest {
  redisKey: string;
  field: string;
}

/** The KEYS and ARGV of one SEMAPHORE_RELEASE for `requests`. */
export function semaphoreReleaseCall(requests: readonly SemaphoreReleaseRequest[], publishMode: string): { keys: string[]; args: string[] } {
  const keys: string[] = [];
  const args = [publishMode];
  for (const r of requests) {
    keys.push(r.redisKey, waitFlagKey(r.redisKey));
    args.push(r.field);
  }
  return { keys, args };
}

/** Splits the SEMAPHORE_RELEASE reply into one answer per request (its own RedisCommandError for {-3, error}). */
export function decodeSemaphoreReleaseReply(reply: unknown, count: number): unknown[] {
  if (!Array.isArray(reply) || reply.length !== count) throw malformedReply("semaphore-release", reply);
  return reply.map((entry: unknown) => keyError("semaphore-release", entry) ?? entry);
}

/** SEMAPHORE_RELEASE's answer for a permit of the semaphore at `redisKey`. Throws CorruptRecordError, or BAD_RESPONSE. */
export function semaphoreReleaseResult(redisKey: string, reply: unknown): ReleaseResult {
  if (reply === 1) return { status: LockStatus.SUCCESS, lockData: null };
  if (reply === -1) return { status: LockStatus.NO_KEY, lockData: null };
  if (typeof reply !== "string") throw malformedReply("semaphore-release", reply);
  throw new CorruptRecordError(redisKey, reply); // the script answers with a value only when it is not a permit
}
