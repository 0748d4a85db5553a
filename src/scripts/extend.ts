import type { LuaScript } from "./script";

/**
 * Extends a lock that the caller still owns, and stamps extendedAt.
 *
 * KEYS[1] lock key. ARGV: processHash, seq, lockTtlMs.
 * Returns {1, newRecord}, {0, currentRecord} when someone else holds it, or {-1} when the key is gone (or holds a release's tombstone).
 * Locals: r record, k token, a acquiredAt, p processHash, s seq, x trace field, t TIME.
 */
export const EXTEND: LuaScript = {
  name: "extend",
  source: `local r=redis.call('GET',KEYS[1])
if not r or string.find(r,'^pl1t|%d+$') then return {-1} end
local k,a,p,s,x=string.match(r,'^pl1|(%d+)|(%d+)|%d+|([^|]*)|(%d+)|(.*)$')
if not k or p~=ARGV[1] or s~=ARGV[2] then return {0,r} end
local t=redis.call('TIME')
r='pl1|'..k..'|'..a..'|'..string.format('%.0f',t[1]*1000+math.floor(t[2]/1000))..'|'..p..'|'..s..'|'..x
redis.call('SET',KEYS[1],r,'PX',ARGV[3])
return {1,r}`,
  sha: "8b243c1d3ead6b7bd94824e56c70818cc7ef0c05",
};
