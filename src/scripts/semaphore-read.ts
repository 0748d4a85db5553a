import { malformedReply } from "../malformed-reply";
import { LUA_PERMIT_LAYOUT } from "../semaphore-record";
import { compactLua, type LuaScript } from "./script";

/**
 * Reads a semaphore's permits that have not expired (a script, so that every
 * transport needs only EVALSHA/EVAL and the key prefix applies), for a run's
 * recheck and for readHolders(). Takes nothing, changes nothing.
 *
 * KEYS[1] the semaphore; ARGV[1], optional, one permit's field. Returns the
 * values of its live permits, or of that one permit (none when it is gone),
 * and of any field that is not a permit, for the caller to report.
 */
export const SEMAPHORE_READ: LuaScript = {
  name: "semaphore-read",
  source: compactLua(`${LUA_PERMIT_LAYOUT}
local time = redis.call('TIME')
local nowMs = time[1] * 1000 + math.floor(time[2] / 1000)

-- One permit only (a run's recheck): its value, unless it is gone or expired.
if ARGV[1] then
  local value = redis.call('HGET', KEYS[1], ARGV[1])
  local expiresAt = value and permitExpiresAt(value)
  if not value or (expiresAt and expiresAt <= nowMs) then return {} end
  return {value}
end

local entries = redis.call('HGETALL', KEYS[1])
local permits = {}
for i = 1, #entries, 2 do
  local expiresAt = permitExpiresAt(entries[i + 1])
  if entries[i] ~= 't' and not (expiresAt and expiresAt <= nowMs) then permits[#permits + 1] = entries[i + 1] end
end
return permits`),
  sha: "a86c733770e06ef866557516aefa75beeb76415e",
};

/** The SEMAPHORE_READ reply: the raw permit values (decodePermit() reads them). */
export function decodeSemaphoreReadReply(reply: unknown): string[] {
  if (!Array.isArray(reply) || !reply.every((v): v is string => typeof v === "string")) throw malformedReply("semaphore-read", reply);
  return reply;
}
