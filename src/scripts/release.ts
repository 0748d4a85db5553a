import type { LuaScript } from "./script";

/**
 * Deletes a lock that the caller still owns and, when asked, publishes on a
 * channel named like the lock key, which wakes mutex() waiters at once. On a
 * cluster it uses sharded pub/sub: the channel hashes to the lock's own slot.
 *
 * KEYS[1] lock key. ARGV: processHash, seq, publish ("0" none, "1" PUBLISH, "2" SPUBLISH).
 * Returns {1} on success, {0, currentRecord} when someone else holds it, or {-1} when the key is gone.
 */
export const RELEASE: LuaScript = {
  name: "release",
  source: `local raw = redis.call('GET', KEYS[1])
if not raw then return {-1} end
local p, s = string.match(raw, '^pl1|%d+|%d+|%d+|([^|]*)|(%d+)|')
if p ~= ARGV[1] or s ~= ARGV[2] then return {0, raw} end
redis.call('DEL', KEYS[1])
if ARGV[3] == '1' then redis.call('PUBLISH', KEYS[1], '') elseif ARGV[3] == '2' then redis.call('SPUBLISH', KEYS[1], '') end
return {1}`,
  sha: "965003e58b1f50d702b6cf76fcabd47e59b0fb1f",
};
