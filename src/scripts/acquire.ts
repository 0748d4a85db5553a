import type { LuaScript } from "./script";

/**
 * Takes a free lock, or the lock of a holder known to be dead (a
 * compare-and-set on that holder's processHash and seq, never a blind delete).
 *
 * KEYS[1] lock key; KEYS[2], where the transport allows a second key in one
 * script (not on Redis Cluster), the caller's own liveness key. ARGV:
 * processHash, seq, traceField, lockTtlMs, victimProcessHash ("" for none),
 * victimSeq.
 * Returns {1, newRecord} on success, {0, currentRecord} when held by someone
 * else, {-2} when the caller's own liveness record is gone (Redis lost data):
 * a lock taken under it would look abandoned to everyone else at once.
 *
 * The fencing token is max(TIME in µs, previous token + 1): it grows with the
 * Redis clock, so it survives a Redis restart that lost all data, and it never
 * repeats even if two takeovers fall in the same microsecond.
 */
export const ACQUIRE: LuaScript = {
  name: "acquire",
  source: `if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 0 then return {-2} end
local raw = redis.call('GET', KEYS[1])
local prev = 0
if raw then
  local tok, p, s = string.match(raw, '^pl1|(%d+)|%d+|%d+|([^|]*)|(%d+)|')
  if not tok or ARGV[5] == '' or p ~= ARGV[5] or s ~= ARGV[6] then
    return {0, raw}
  end
  prev = tonumber(tok)
end
local t = redis.call('TIME')
local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local token = math.max(us, prev + 1)
local ms = string.format('%.0f', math.floor(us / 1000))
local rec = 'pl1|' .. string.format('%.0f', token) .. '|' .. ms .. '|' .. ms .. '|' .. ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[3]
redis.call('SET', KEYS[1], rec, 'PX', ARGV[4])
return {1, rec}`,
  sha: "267c879c08e2aeead579c5dbe3fd2318541ac41e",
};
