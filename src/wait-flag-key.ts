import { compactLua } from "./scripts/script";

/**
 * Where mutex() waiters flag a held lock so that its release publishes. The
 * lock key's hash tag keeps it in the lock's slot; a lock key always ends in
 * "}", so no lock name can produce this key.
 */
export const waitFlagKey = (lockKey: string): string => `${lockKey}:w`;

/**
 * Lua spliced into the scripts that flag a held lock or semaphore for a waiter (scripts/acquire.ts,
 * scripts/acquire-all.ts, scripts/semaphore-acquire.ts): raiseFlag(key, ms) makes the flag last at least `ms` more,
 * never less: each waiter flags with its own remaining timeout, and one with a short timeout must not cut short the
 * flag that a waiter with a long one still needs (the release publishes only while the flag is there).
 */
export const LUA_RAISE_FLAG = compactLua(`-- A flag for ms more, unless it lasts longer already; a refused command is ignored (the waiter polls anyway).
local function raiseFlag(key, ms)
  if redis.call('PTTL', key) < tonumber(ms) then redis.pcall('SET', key, '', 'PX', ms) end
end
`);
