import type { LuaScript } from "./script";

/**
 * Writes the process's liveness record: SET key data PX reportTtlMs, with XX
 * after the first write so that a record that expired in between is noticed
 * (the reply is nil) instead of silently recreated.
 *
 * KEYS[1] liveness key. ARGV: data, reportTtlMs, mode ("XX" or "").
 */
export const REPORT: LuaScript = {
  name: "report",
  source: `if ARGV[3] == 'XX' then
  return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'XX')
end
return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])`,
  sha: "6bbe3e93c63ec687e1f0dc63ec3e63ee89d5ba31",
};
