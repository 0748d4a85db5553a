import type { LuaScript } from "./script";

/**
 * Deletes the process's liveness record on terminate(), which frees every
 * lock of the process to the fleet at once.
 *
 * KEYS[1] liveness key. Returns the number of keys deleted.
 */
export const REMOVE: LuaScript = {
  name: "remove",
  source: `return redis.call('DEL', KEYS[1])`,
  sha: "b0d697da25b13e49157b2c214a4033546aba2104",
};
