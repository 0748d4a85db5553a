import { compactLua, type LuaScript } from "./script";

/**
 * Writes the process's liveness record: SET key data PX reportTtlMs, with XX
 * after the first write so that a record that expired in between is noticed
 * (the reply is nil) instead of silently recreated.
 *
 * KEYS[1] liveness key. ARGV: data, reportTtlMs, mode ("XX" or ""). Returns
 * "OK", or nil when an XX write found no record.
 */
export const REPORT: LuaScript = {
  name: "report",
  source: compactLua(`local livenessKey = KEYS[1]
local data, reportTtlMs, mode = ARGV[1], ARGV[2], ARGV[3]

-- A rewrite: only over the record we wrote before; nil tells the caller it lapsed.
if mode == 'XX' then
  return redis.call('SET', livenessKey, data, 'PX', reportTtlMs, 'XX')
end

-- The first write of this identity: create the record.
return redis.call('SET', livenessKey, data, 'PX', reportTtlMs)`),
  sha: "2866965e4659f5b2352046aaa57fac6356ca7145",
};

/** The ARGV of one REPORT (its KEYS: the liveness key): a `rewrite` must find the record still there. */
export function reportArgs(data: string, reportTtlMs: number, rewrite: boolean): string[] {
  return [data, String(reportTtlMs), rewrite ? "XX" : ""];
}

/** Whether a REPORT reply says the record had lapsed: a rewrite that found no record (nil). */
export function reportLapsed(reply: unknown, rewrite: boolean): boolean {
  return rewrite && reply === null;
}
