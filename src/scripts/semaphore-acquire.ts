import { encodeTraceField, type OwnerParts } from "../lock-record";
import { keyError, malformedReply } from "../malformed-reply";
import { waitFlagKey } from "../wait-flag-key";
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
 * Concurrent acquisitions of one Locker travel together, one script call and
 * one TIME per batch (one request per call on a cluster, where semaphores
 * of several slots cannot share a script); two of one semaphore in a batch
 * are counted one after the other.
 *
 * KEYS: per request the semaphore and its wait flag, then (if ARGV[3] is
 * "1", on a single Redis) the caller's own liveness record.
 * ARGV: processHash, lockTtlMs, "1"/"" check own liveness, then per request
 * "seq|limit|waitFlagMs|victims|traceField": waitFlagMs "" for no flag,
 * victims the dead holders' fields to drop, "," between them and "." for
 * each field's "|" (traceField last: a trace may hold "|").
 * Returns {-2} when the caller's liveness record is gone; otherwise one
 * entry per request: {1, token, nowMs} taken (also when this very permit is
 * already ours: a resent call), {0, permit…} refused, with every live
 * permit's value, or {-3, error} when Redis refused the key (a value of
 * another type). A refused caller with a waitFlagMs flags the semaphore, so
 * that the next release publishes.
 */
export const SEMAPHORE_ACQUIRE: LuaScript = {
  name: "semaphore-acquire",
  source: compactLua(`${LUA_PERMIT_LAYOUT}
local processHash, lockTtlMs = ARGV[1], tonumber(ARGV[2])

-- Our own liveness record is gone (Redis lost data): a permit taken now would look abandoned at once.
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[#KEYS]) == 0 then return {-2} end

-- One TIME for the whole batch.
local time = redis.call('TIME')
local nowUs = time[1] * 1000000 + time[2]
local nowMs = math.floor(nowUs / 1000)
local nowMsText = string.format('%.0f', nowMs)

-- One permit of the semaphore at KEYS[k + 1] (its flag at KEYS[k + 2]): {1, token, acquiredAtMs} taken, {0, permit…} full, {-3, error} refused.
local function acquireOne(k, seq, limit, waitFlagMs, victims, traceField)
  local semKey = KEYS[k + 1]
  local flagKey = KEYS[k + 2]
  -- The dead holders the caller found: a field names its holder, so this deletes exactly those permits.
  for victim in string.gmatch(victims, '[^,]+') do redis.call('HDEL', semKey, (string.gsub(victim, '%.', '|'))) end
  local entries = redis.pcall('HGETALL', semKey)
  if entries.err then return {-3, entries.err} end
  local own = processHash .. '|' .. seq
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
  local tokenText = string.format('%.0f', token)
  local record = recordHead(tokenText, nowMsText, nowMsText, processHash) .. seq .. '|' .. traceField
  redis.call('HSET', semKey, own, formatPermit(nowMs + lockTtlMs, record), 't', tokenText)
  -- The hash lives as long as its longest permit, and the last token with it.
  redis.call('PEXPIRE', semKey, longest - nowMs)
  return {1, token, nowMs}
end

local replies = {}
for i = 4, #ARGV do
  local seq, limit, waitFlagMs, victims, traceField = string.match(ARGV[i], '^(%d+)|(%d+)|(%d*)|([%x.,]*)|(.*)$')
  local k = (i - 4) * 2
  replies[i - 3] = acquireOne(k, seq, tonumber(limit), waitFlagMs, victims, traceField)
end
return replies`),
  sha: "f936a090a208ad8fb4f9d212f564805f073f3d93",
};

/** One permit to take: who asks, under which limit, and the dead holders' fields to drop first. */
export interface SemaphoreAcquireRequest {
  /** The semaphore's Redis key. */
  redisKey: string;
  owner: OwnerParts;
  limit: number;
  /** How long the wait flag lives when refused (ms), or "" for no flag. */
  waitFlagMs: string;
  /** Fields ("processHash|seq") of dead holders' permits to drop. */
  victims: readonly string[];
}

/**
 * The KEYS and ARGV of one SEMAPHORE_ACQUIRE for `requests`, all asked by requests[0]'s process;
 * `livenessKey`: that process's liveness record, to check in the same script (a single Redis), or undefined.
 */
export function semaphoreAcquireCall(
  requests: readonly SemaphoreAcquireRequest[],
  lockTtlMs: number,
  livenessKey: string | undefined,
): { keys: string[]; args: string[] } {
  const keys: string[] = [];
  const args = [requests[0]!.owner.processHash, String(lockTtlMs), livenessKey === undefined ? "" : "1"];
  for (const r of requests) {
    keys.push(r.redisKey, waitFlagKey(r.redisKey));
    // A field is "<32 hex>|<digits>": "." stands for its "|" here, "," separates fields.
    args.push(`${r.owner.seq}|${r.limit}|${r.waitFlagMs}|${r.victims.map((v) => v.replace("|", ".")).join(",")}|${encodeTraceField(r.owner.trace)}`);
  }
  if (livenessKey !== undefined) keys.push(livenessKey);
  return { keys, args };
}

/** A SEMAPHORE_ACQUIRE answer for one request. */
export type SemaphoreAcquireOutcome =
  | { kind: "lapsed" }
  | { kind: "taken"; token: number; ms: number }
  /** Full: the raw values of the live permits (decodePermit() reads them). */
  | { kind: "full"; permits: string[] };

const isWhole = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n > 0;
const LAPSED: SemaphoreAcquireOutcome = Object.freeze({ kind: "lapsed" });

/** Splits the SEMAPHORE_ACQUIRE reply ({-2}, or one entry per request) into one outcome (or that request's own error) per request. */
export function decodeSemaphoreAcquireReply(reply: unknown, count: number): (SemaphoreAcquireOutcome | Error)[] {
  if (!Array.isArray(reply)) throw malformedReply("semaphore-acquire", reply);
  if (reply.length === 1 && reply[0] === -2) return new Array<SemaphoreAcquireOutcome>(count).fill(LAPSED);
  if (reply.length !== count) throw malformedReply("semaphore-acquire", reply);
  return reply.map((entry: unknown): SemaphoreAcquireOutcome | Error => {
    if (!Array.isArray(entry)) return malformedReply("semaphore-acquire", entry);
    const [status, ...rest] = entry as unknown[];
    if (status === 1 && rest.length === 2 && isWhole(rest[0]) && isWhole(rest[1])) return { kind: "taken", token: rest[0], ms: rest[1] };
    if (status === 0 && rest.every((p): p is string => typeof p === "string")) return { kind: "full", permits: rest };
    return keyError("semaphore-acquire", entry) ?? malformedReply("semaphore-acquire", entry);
  });
}
