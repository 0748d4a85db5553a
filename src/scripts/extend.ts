import type { LuaScript } from "./script";

/**
 * Extends a lock that the caller still owns, and stamps extendedAt.
 *
 * KEYS[1] lock key. ARGV: processHash, seq, lockTtlMs.
 * Returns {1, newRecord}, {0, currentRecord} when someone else holds it, or {-1} when the key is gone.
 */
export const EXTEND: LuaScript = {
  name: "extend",
  source: `local raw = redis.call('GET', KEYS[1])
if not raw then return {-1} end
local tok, acq, p, s, tr = string.match(raw, '^pl1|(%d+)|(%d+)|%d+|([^|]*)|(%d+)|(.*)$')
if not tok or p ~= ARGV[1] or s ~= ARGV[2] then return {0, raw} end
local t = redis.call('TIME')
local ms = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local rec = 'pl1|' .. tok .. '|' .. acq .. '|' .. ms .. '|' .. p .. '|' .. s .. '|' .. tr
redis.call('SET', KEYS[1], rec, 'PX', ARGV[3])
return {1, rec}`,
  sha: "d0661e3f5eadb9f67fe93003d4c62cc29732c4fc",
};
