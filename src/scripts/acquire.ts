import type { LuaScript } from "./script";

/**
 * Takes a batch of locks, each one free or held by a holder known to be dead
 * (a compare-and-set on that holder's processHash and seq, never a blind
 * delete). Concurrent acquisitions of one Locker travel together, so that a
 * busy process pays for one script call, one TIME and one liveness check per
 * batch, not per lock.
 *
 * ARGV: processHash, lockTtlMs, "1" when the last key is the caller's own
 * liveness key (on a single Redis; a cluster cannot check it in the same
 * script) or "" when not, then one string per lock (a client library's
 * cost grows with the number of arguments). Most locks take the short form
 * ":seq|traceField", whose tail is the end of the record as written; a lock
 * with a victim or a wait flag takes the full form
 * "seq|victimSeq|waitFlagMs|victimProcessHash|traceField" (traceField last: a
 * trace may hold "|").
 * KEYS: per lock its key, and its wait flag when it takes the full form (a
 * short one has no flag to set, so the client saves a key); then, if ARGV[3]
 * says so, the caller's own liveness key.
 * Returns {-2} when the caller's own liveness record is gone (Redis lost data):
 * a lock taken under it would look abandoned to everyone else at once.
 * Otherwise a flat array: Redis TIME in µs (which gives every record of the
 * batch its acquiredAt), then one reply per lock: 1 taken with that time as
 * its token, a larger integer taken with that token (a takeover), a string
 * (the current value) held by someone else, or {-3, error} when Redis refused
 * a command on that key (a foreign value of another type): one bad key must
 * not fail, or half-apply, the rest of the batch. The caller knows the rest
 * of the record it asked for, so the reply stays short; integers and flat
 * arrays also cost both ends less to encode and parse than nested ones.
 *
 * A waiter that will listen for the release (mutex() with pub/sub) passes
 * waitFlagMs: a held lock then gets a flag, and only a release that finds a
 * flag publishes, so an uncontended release costs no PUBLISH. A value that is
 * not a pulselock record gets no flag: nothing would ever release it. A flag
 * that Redis refuses to write (out of memory, say) is ignored: the waiter
 * polls anyway, and the rest of the batch must not fail with it.
 *
 * A free key costs one SET (NX GET, Redis 7.0+: it returns what was there
 * instead of writing); a server that rejects that form gets GET, then SET.
 *
 * The fencing token is max(TIME in µs, previous token + 1): it grows with the
 * Redis clock, so it survives a Redis restart that lost all data, and it never
 * repeats even if two takeovers fall in the same microsecond. A key that holds
 * a release's tombstone (`pl1t|<token>`, see scripts/release.ts) is free, and
 * its token counts as the previous one: so acquire, release and acquire inside
 * one microsecond still give strictly growing tokens.
 * Locals: n locks, j the next key, u µs, mid the record's fields after the token up to seq,
 * head a fresh record up to seq, nx SET NX GET works, a one lock's argument
 * (vs/f/vp its victim seq, flag ms, victim processHash; tail "seq|traceField"),
 * K key, F its flag's key, r what was there, k/p/s its token/processHash/seq, w a SET's reply.
 */
export const ACQUIRE: LuaScript = {
  name: "acquire",
  source: `local n=#ARGV-3
if ARGV[3]=='1' and redis.call('EXISTS',KEYS[#KEYS])==0 then return {-2} end
local t=redis.call('TIME')
local u=t[1]*1000000+t[2]
local m=string.format('%.0f',math.floor(u/1000))
local mid='|'..m..'|'..m..'|'..ARGV[1]..'|'
local head='pl1|'..string.format('%.0f',u)..mid
local nx=true
local out={u}
local function put(i,K,token,tail)
local w=redis.pcall('SET',K,'pl1|'..string.format('%.0f',token)..mid..tail,'PX',ARGV[2])
if type(w)=='table' and w.err then out[i+1]={-3,w.err} elseif token==u then out[i+1]=1 else out[i+1]=token end
end
local j=0
for i=1,n do
local a=ARGV[i+3]
j=j+1
local K=KEYS[j]
local vs,f,vp,tail,F
if string.byte(a)==58 then tail=string.sub(a,2) f='' vp=''
else
local q,x
q,vs,f,vp,x=string.match(a,'^(%d+)|(%d*)|(%d*)|([^|]*)|(.*)$')
tail=q..'|'..x
j=j+1
F=KEYS[j]
end
local r
if nx then
r=redis.pcall('SET',K,head..tail,'PX',ARGV[2],'NX','GET')
if type(r)=='table' and string.find(r.err,'syntax') then nx=false end
end
if not nx then r=redis.pcall('GET',K) end
if type(r)=='table' then out[i+1]={-3,r.err}
elseif not r then
if nx then out[i+1]=1 else put(i,K,u,tail) end
elseif string.find(r,'^pl1t|%d+$') then put(i,K,math.max(u,tonumber(string.sub(r,6))+1),tail)
elseif vp=='' and f=='' then out[i+1]=r
else
local k,p,s=string.match(r,'^pl1|(%d+)|%d+|%d+|([^|]*)|(%d+)|')
if not k or vp=='' or p~=vp or s~=vs then
if k and f~='' then redis.pcall('SET',F,'','PX',f) end
out[i+1]=r
else put(i,K,math.max(u,tonumber(k)+1),tail) end
end
end
return out`,
  sha: "7f09d813d5a5bd0e2f2fa94c53bf145bb6f9e0f4",
};
