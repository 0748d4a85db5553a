import { encodeTraceField, type OwnerParts } from "../lock-record";
import { malformedReply } from "../malformed-reply";
import { LUA_PERMIT_LAYOUT } from "../semaphore-record";
import { compactLua, type LuaScript } from "./script";

/**
 * Takes one permit of a semaphore when fewer than `limit` live permits are
 * held. Permits that expired (not extended within lockTtlMs) are dropped on
 * the way; the dead holders the caller names (their liveness records are
 * gone) are dropped first, each an HDEL of its own field, i.e. a compare on
 * processHash and seq. The limit is the caller's: lowering it never evicts a
 * holder, it only refuses new ones until fewer than the new limit hold.
 *
 * The fencing token is max(TIME in µs, last token + 1), the last token kept in
 * the hash's "t" field: strictly increasing per semaphore, and after a Redis
 * restart that lost the hash, TIME has passed every token handed out.
 *
 * KEYS: the semaphore, its wait flag, then (if ARGV[7] is "1", on a single
 * Redis) the caller's own liveness record.
 * ARGV: processHash, seq, traceField, limit, lockTtlMs, waitFlagMs ("" none),
 * "1"/"" check own liveness, then the fields of the dead holders to drop.
 * Returns {-2} when the caller's liveness record is gone, {1, token, nowMs}
 * taken (also when this very permit is already ours: a resent call), or
 * {0, permit…} refused, with every live permit's value. A refused caller
 * with a waitFlagMs flags the semaphore, so that the next release publishes.
 */
export const SEMAPHORE_ACQUIRE: LuaScript = {
  name: "semaphore-acquire",
  source: compactLua(`${LUA_PERMIT_LAYOUT}
local semKey = KEYS[1]
local flagKey = KEYS[2]
local processHash, seq, traceField = ARGV[1], ARGV[2], ARGV[3]
local limit, lockTtlMs, waitFlagMs = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]

-- Our own liveness record is gone (Redis lost data): a permit taken now would look abandoned at once.
if ARGV[7] == '1' and redis.call('EXISTS', KEYS[3]) == 0 then return {-2} end

local time = redis.call('TIME')
local nowUs = time[1] * 1000000 + time[2]
local nowMs = math.floor(nowUs / 1000)

-- The dead holders the caller found: a field names its holder, so this deletes exactly those permits.
for i = 8, #ARGV do redis.call('HDEL', semKey, ARGV[i]) end

local own = processHash .. '|' .. seq
local entries = redis.call('HGETALL', semKey)
local previousToken, permits, longest = 0, {0}, nowMs + lockTtlMs
for i = 1, #entries, 2 do
  local field, value = entries[i], entries[i + 1]
  if field == 't' then
    previousToken = tonumber(value) or 0
  else
    local expiresAt = permitExpiresAt(value)
    if expiresAt and expiresAt <= nowMs then
      -- Not extended in time: its holder stopped, the permit is free.
      redis.call('HDEL', semKey, field)
    elseif field == own then
      -- Ours already: this call ran twice (a client resent it), and the first took the permit.
      local token, acquiredAtMs = parseRecord(permitRecord(value))
      return {1, tonumber(token), tonumber(acquiredAtMs)}
    else
      -- A live permit (or a value that is not a permit: it counts, and the caller reports it).
      permits[#permits + 1] = value
      if expiresAt and expiresAt > longest then longest = expiresAt end
    end
  end
end

if #permits - 1 >= limit then
  -- Full: flag it for our waiter (a refused flag is ignored: the waiter polls anyway), answer with the holders.
  if waitFlagMs ~= '' then redis.pcall('SET', flagKey, '', 'PX', waitFlagMs) end
  return permits
end

local token = math.max(nowUs, previousToken + 1)
local tokenText, nowMsText = string.format('%.0f', token), string.format('%.0f', nowMs)
local record = recordHead(tokenText, nowMsText, nowMsText, processHash) .. seq .. '|' .. traceField
redis.call('HSET', semKey, own, formatPermit(nowMs + lockTtlMs, record), 't', tokenText)
-- The hash lives as long as its longest permit, and the last token with it.
redis.call('PEXPIRE', semKey, longest - nowMs)
return {1, token, nowMs}`),
  sha: "47f929d8cd1117d4811ecc3f5964a108232e3561",
};

/** One permit to take: who asks, under which limit and lockTtlMs, and the dead holders' fields to drop first. */
export interface SemaphoreAcquireRequest {
  owner: OwnerParts;
  limit: number;
  lockTtlMs: number;
  /** How long the wait flag lives when refused (ms), or "" for no flag. */
  waitFlagMs: string;
  victims: readonly string[];
}

/** The ARGV of one SEMAPHORE_ACQUIRE (KEYS: semaphore, flag, and the caller's liveness key when `checkLiveness`). */
export function semaphoreAcquireArgs(r: SemaphoreAcquireRequest, checkLiveness: boolean): string[] {
  const { owner } = r;
  return [
    owner.processHash,
    owner.seq,
    encodeTraceField(owner.trace),
    String(r.limit),
    String(r.lockTtlMs),
    r.waitFlagMs,
    checkLiveness ? "1" : "",
    ...r.victims,
  ];
}

/** A SEMAPHORE_ACQUIRE answer. */
export type SemaphoreAcquireOutcome =
  | { kind: "lapsed" }
  | { kind: "taken"; token: number; ms: number }
  /** Full: the raw values of the live permits (decodePermit() reads them). */
  | { kind: "full"; permits: string[] };

const isWhole = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n > 0;

export function decodeSemaphoreAcquireReply(reply: unknown): SemaphoreAcquireOutcome {
  if (!Array.isArray(reply)) throw malformedReply("semaphore-acquire", reply);
  const [status, ...rest] = reply as unknown[];
  if (status === -2 && rest.length === 0) return { kind: "lapsed" };
  if (status === 1 && rest.length === 2 && isWhole(rest[0]) && isWhole(rest[1])) return { kind: "taken", token: rest[0], ms: rest[1] };
  if (status === 0 && rest.every((p): p is string => typeof p === "string")) return { kind: "full", permits: rest };
  throw malformedReply("semaphore-acquire", reply);
}
