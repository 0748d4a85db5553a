import { compactLua, type LuaScript } from "./script";

/**
 * Deletes one key: the process's liveness record on terminate() (which frees
 * every lock of the process to the fleet at once), or a mutex() waiter's flag
 * when it leaves without the lock, unless another waiter still needs the flag.
 *
 * KEYS[1] the key; ARGV[1], for a flag only: how long the leaving waiter's own
 * flagging could still last (ms). A flag that lasts longer was raised by a
 * waiter that still waits (flags only grow, see LUA_RAISE_FLAG) and stays.
 * Returns the number of keys deleted (callers do not read it).
 */
export const REMOVE: LuaScript = {
  name: "remove",
  source: compactLua(`-- Gone at once: a liveness record frees the process's locks, a waiter's flag leaves with the waiter.
-- A flag that outlasts the leaving waiter's own is another waiter's: it stays.
if ARGV[1] and redis.call('PTTL', KEYS[1]) > tonumber(ARGV[1]) then return 0 end
return redis.call('DEL', KEYS[1])`),
  sha: "b615675258accb42ff4250dc616ec97f43011ddf",
};
