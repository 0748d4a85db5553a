import type { LuaScript } from "./script";

/**
 * Reads a lock or liveness record. A script rather than a GET so that every
 * transport needs only EVALSHA/EVAL, and the client's key prefix applies the
 * same way as for the other scripts.
 *
 * KEYS[1] the key. Returns its value or nil.
 */
export const READ: LuaScript = {
  name: "read",
  source: `return redis.call('GET', KEYS[1])`,
  sha: "d3c21d0c2b9ca22f82737626a27bcaf5d288f99f",
};
