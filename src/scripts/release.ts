import type { LuaScript } from "./script";

/**
 * Deletes a lock that the caller still owns, with its wait flag. When the flag
 * was there (a mutex() waiter listens), it publishes on a channel named like
 * the lock key, which wakes the waiters at once; on a cluster by sharded
 * pub/sub, whose channel hashes to the lock's own slot. Without a flag there is
 * nobody to wake, so an uncontended release costs no PUBLISH.
 *
 * KEYS[1] lock key, KEYS[2] its wait flag. ARGV: processHash, seq, publish ("0" none, "1" PUBLISH, "2" SPUBLISH).
 * Returns {1} on success, {0, currentRecord} when someone else holds it, or {-1} when the key is gone.
 */
export const RELEASE: LuaScript = {
  name: "release",
  source: `local r=redis.call('GET',KEYS[1])
if not r then return {-1} end
local p,s=string.match(r,'^pl1|%d+|%d+|%d+|([^|]*)|(%d+)|')
if p~=ARGV[1] or s~=ARGV[2] then return {0,r} end
if redis.call('DEL',KEYS[1],KEYS[2])>1 then
if ARGV[3]=='1' then redis.call('PUBLISH',KEYS[1],'') elseif ARGV[3]=='2' then redis.call('SPUBLISH',KEYS[1],'') end
end
return {1}`,
  sha: "0a1d738be3a5829780e0eb6bc36a7e122086c17c",
};
