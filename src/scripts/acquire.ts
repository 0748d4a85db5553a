import type { LuaScript } from "./script";

/**
 * Takes a free lock, or the lock of a holder known to be dead (a
 * compare-and-set on that holder's processHash and seq, never a blind delete).
 *
 * KEYS[1] lock key; KEYS[2] the lock's wait flag; KEYS[3], where the transport
 * allows it in one script (not on Redis Cluster), the caller's own liveness key.
 * ARGV: processHash, seq, traceField, lockTtlMs, victimProcessHash ("" for
 * none), victimSeq, waitFlagMs ("" for none).
 * Returns {1, newRecord} on success, {0, currentRecord} when held by someone
 * else, {-2} when the caller's own liveness record is gone (Redis lost data):
 * a lock taken under it would look abandoned to everyone else at once.
 *
 * A waiter that will listen for the release (mutex() with pub/sub) passes
 * waitFlagMs: a held lock then gets a flag, and only a release that finds a
 * flag publishes. An uncontended release so costs no PUBLISH. A value that is
 * not a pulselock record gets no flag: nothing would ever release it.
 *
 * The fencing token is max(TIME in µs, previous token + 1): it grows with the
 * Redis clock, so it survives a Redis restart that lost all data, and it never
 * repeats even if two takeovers fall in the same microsecond.
 * Locals: r record, n previous token, k/p/s its token/processHash/seq, t TIME, u µs.
 */
export const ACQUIRE: LuaScript = {
  name: "acquire",
  source: `if KEYS[3] and redis.call('EXISTS',KEYS[3])==0 then return {-2} end
local r=redis.call('GET',KEYS[1])
local n=0
if r then
local k,p,s=string.match(r,'^pl1|(%d+)|%d+|%d+|([^|]*)|(%d+)|')
if not k or ARGV[5]=='' or p~=ARGV[5] or s~=ARGV[6] then
if k and ARGV[7]~='' then redis.call('SET',KEYS[2],'','PX',ARGV[7]) end
return {0,r}
end
n=tonumber(k)
end
local t=redis.call('TIME')
local u=t[1]*1000000+t[2]
local m=string.format('%.0f',math.floor(u/1000))
r='pl1|'..string.format('%.0f',math.max(u,n+1))..'|'..m..'|'..m..'|'..ARGV[1]..'|'..ARGV[2]..'|'..ARGV[3]
redis.call('SET',KEYS[1],r,'PX',ARGV[4])
return {1,r}`,
  sha: "668d5a271528a178c55b3a96ceab0bf0274e0001",
};
