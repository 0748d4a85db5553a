import { compactLua, type LuaScript } from "./script";

/**
 * Deletes one key: the process's liveness record on terminate() (which frees
 * every lock of the process to the fleet at once), or a mutex() waiter's flag
 * when it leaves without the lock.
 *
 * KEYS[1] the key; no ARGV. Returns the number of keys deleted (callers do not read it).
 */
export const REMOVE: LuaScript = {
  name: "remove",
  source: compactLua(`-- Gone at once: a liveness record frees the process's locks, a waiter's flag leaves with the waiter.
return redis.call('DEL', KEYS[1])`),
  sha: "b0d697da25b13e49157b2c214a4033546aba2104",
};
