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
 * batch; one release per call on a cluster). The flags of the whole batch are
 * read with one MGET and the ones to clear deleted with one DEL: a nested
 * command costs far more than the Lua around it.
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
local nowMs = math.floor(nowUs / 1000)

-- Every wait flag of the batch in one read (a flag of another type reads as none: nobody set it).
local flagKeys = {}
for i = 1, #KEYS / 2 do
  flagKeys[i] = KEYS[2 * i]
end
local flags = redis.call('MGET', unpack(flagKeys))
-- The flags to clear, once each, and the semaphores whose waiters to wake.
local deletes = {}
local flagged = {}

-- The semaphore of the previous permit, and what this call knows of it: its field count (false until read) and its
-- last token. Nothing else writes while the script runs, so the next permit of it reads only its own field.
local lastKey, lastFields, lastToken

-- Permit i (its field at its semaphore): 1 released, -1 gone or expired, the value when it is not a permit,
-- {-3, error} when Redis refused; and whether the permit left the hash (released, or dropped as expired).
local function releaseOne(i)
  local semKey = KEYS[2 * i - 1]
  local field = ARGV[i + 1]
  local value
  if semKey == lastKey then
    value = redis.call('HGET', semKey, field)
  else
    local read = redis.pcall('HMGET', semKey, field, 't')
    if read.err then return {-3, read.err}, false end
    value = read[1]
    lastKey, lastFields, lastToken = semKey, false, read[2]
  end
  if not value then return -1, false end
  local expiresAt = permitExpiresAt(value)
  if not expiresAt then return value, false end
  local fields = lastToken and (lastFields or redis.call('HLEN', semKey))
  if fields == 2 then
    -- The last permit ("t" is all that stays): the hash goes, or keeps only the last token until TIME has
    -- passed it (whole ms, plus one).
    local token = tonumber(lastToken)
    if token and nowUs <= token then
      redis.call('HDEL', semKey, field)
      redis.call('PEXPIRE', semKey, math.floor((token - nowUs) / 1000) + 2)
      lastFields = 1
    else
      redis.call('DEL', semKey)
      lastFields, lastToken = 0, false
    end
  else
    redis.call('HDEL', semKey, field)
    if fields then lastFields = fields - 1 end
  end
  -- An expired permit was not held any more, although nobody took it: the caller must learn it.
  if expiresAt <= nowMs then return -1, true end
  return 1, true
end

local replies, cleared = {}, {}
for i = 1, #ARGV - 1 do
  local freed
  replies[i], freed = releaseOne(i)
  -- A permit left the hash and a waiter flagged its semaphore: clear the flag and wake the waiters, once each.
  local flagKey = KEYS[2 * i]
  if freed and flags[i] and not cleared[flagKey] then
    cleared[flagKey] = true
    deletes[#deletes + 1] = flagKey
    flagged[#flagged + 1] = KEYS[2 * i - 1]
  end
end
if #deletes > 0 then redis.call('DEL', unpack(deletes)) end
-- A refused PUBLISH is ignored: the waiters poll anyway.
for _, semKey in ipairs(flagged) do
  if publishMode == '1' then redis.pcall('PUBLISH', semKey, '')
  elseif publishMode == '2' then redis.pcall('SPUBLISH', semKey, '') end
end
return replies`),
  sha: "9d5903971d370d06ad34d39dca26b48300ca7c7a",
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
