import type { LuaScript } from "./script";

/**
 * Deletes a batch of locks that the caller still owns, each with its wait
 * flag. Concurrent releases of one Locker travel together (one script call
 * per batch). When a flag was there (a mutex() waiter listens), it publishes
 * on a channel named like the lock key, which wakes the waiters at once; on a
 * cluster by sharded pub/sub, whose channel hashes to the lock's own slot.
 * Without a flag there is nobody to wake, so an uncontended release costs no
 * PUBLISH. A PUBLISH that Redis refuses (an ACL without the channel, say) is
 * ignored: the waiters poll anyway, and the deletes of the batch must stand.
 *
 * KEYS: per lock its key and its wait flag. ARGV: publish ("0" none, "1"
 * PUBLISH, "2" SPUBLISH), then per lock "processHash|seq".
 * Returns one reply per lock, flat: 1 released, -1 when the key is gone, a
 * string (the current value) when someone else holds it, {-3, error} when
 * Redis refused to read the key (a foreign value of another type). The owner
 * is compared as a plain string: a pattern built from it could be made to
 * match someone else's record.
 */
export const RELEASE: LuaScript = {
  name: "release",
  source: `local out={}
for i=1,#KEYS/2 do
local K=KEYS[2*i-1]
local r=redis.pcall('GET',K)
if type(r)=='table' then out[i]={-3,r.err}
elseif not r then out[i]=-1
elseif string.match(r,'^pl1|%d+|%d+|%d+|([^|]*|%d+)|')~=ARGV[i+1] then out[i]=r
else
if redis.call('DEL',K,KEYS[2*i])>1 then
if ARGV[1]=='1' then redis.pcall('PUBLISH',K,'') elseif ARGV[1]=='2' then redis.pcall('SPUBLISH',K,'') end
end
out[i]=1
end
end
return out`,
  sha: "0b5cf8ab18465a0592bd0d333b2ce9e1d3c30c77",
};
