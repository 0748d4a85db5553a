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
 *
 * Tombstones: the next acquire's token is max(TIME, previous + 1) only while
 * a previous record is there to read. A release in the same microsecond as
 * its lock's token (or with a token that takeovers pushed ahead of TIME)
 * therefore leaves `pl1t|<token>` instead of deleting, for just as long as
 * TIME needs to pass the token: whole ms, plus one because Redis 7.2+ counts
 * a PX from the script's start, which may fall in the millisecond before
 * TIME was read (docs/model.md, Findings); every other release
 * deletes, since any later TIME is already past the token. Every script and
 * reader treats a tombstone as no key. Without it, acquire, release and
 * acquire inside one microsecond would repeat a token (docs/model.md).
 */
export const RELEASE: LuaScript = {
  name: "release",
  source: `local out={}
local u
for i=1,#KEYS/2 do
local K=KEYS[2*i-1]
local r=redis.pcall('GET',K)
if type(r)=='table' then out[i]={-3,r.err}
elseif not r or string.find(r,'^pl1t|%d+$') then out[i]=-1
else
local k,o=string.match(r,'^pl1|(%d+)|%d+|%d+|([^|]*|%d+)|')
if o~=ARGV[i+1] then out[i]=r
else
if not u then
local t=redis.call('TIME')
u=t[1]*1000000+t[2]
end
k=tonumber(k)
local flagged
if u>k then flagged=redis.call('DEL',K,KEYS[2*i])>1
else
redis.call('SET',K,'pl1t|'..string.format('%.0f',k),'PX',math.floor((k-u)/1000)+2)
flagged=redis.call('DEL',KEYS[2*i])>0
end
if flagged then
if ARGV[1]=='1' then redis.pcall('PUBLISH',K,'') elseif ARGV[1]=='2' then redis.pcall('SPUBLISH',K,'') end
end
out[i]=1
end
end
end
return out`,
  sha: "7878e32e133c673754664ab2a79a9b0612504c15",
};
