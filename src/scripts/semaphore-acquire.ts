import { encodeTraceField, type OwnerParts } from "../lock-record";
import { keyError, malformedReply } from "../malformed-reply";
import { waitFlagKey } from "../wait-flag-key";
import { LUA_PERMIT_LAYOUT } from "../semaphore-record";
import { LUA_RAISE_FLAG } from "../wait-flag-key";
import { compactLua, type LuaScript } from "./script";

/**
 * Takes one permit of a semaphore when fewer than `limit` live permits are
 * held. The dead holders the caller names (their liveness records are gone)
 * are dropped first, each an HDEL of its own field, i.e. a compare on
 * processHash and seq. The limit is the caller's: lowering it never evicts a
 * holder, it only refuses new ones until fewer than the new limit hold.
 *
 * A hash without a numeric "t" (which every semaphore hash pulselock writes
 * has) is not taken from: the caller is answered as refused, with its values.
 *
 * Counting is O(1) while the semaphore is not full: the hash's fields other
 * than "t" (HLEN) are at least the live permits, so fewer of them than
 * `limit` admits without reading any. Only when they reach the limit is
 * every permit read: expired ones (not extended within lockTtlMs) are
 * dropped on the way, and the caller is answered with the live ones. Either
 * way a permit is taken exactly when fewer than `limit` live permits (and
 * values that are not permits, which count as held) remain.
 *
 * The fencing token is max(TIME in µs, last token + 1), the last token kept in
 * the hash's "t" field: strictly increasing per semaphore, and after a Redis
 * restart that lost the hash, TIME has passed every token handed out. The
 * hash lives at least as long as its longest permit (every write pushes its
 * TTL to lockTtlMs when it is shorter, never shortens it), so "t" does too.
 *
 * Concurrent acquisitions of one Locker travel together, one script call and
 * one TIME per batch (one request per call on a cluster, where semaphores
 * of several slots cannot share a script); two of one semaphore in a batch
 * are counted one after the other.
 *
 * ARGV: processHash, lockTtlMs, "1" when the last key is the caller's own
 * liveness record (on a single Redis; a cluster cannot check it in the same
 * script) or "" when not, then one string per request. Most take the short
 * form ":seq|limit|traceField"; one with dead holders to drop or a wait flag
 * to set takes the full form "seq|limit|waitFlagMs|victims|traceField":
 * waitFlagMs "" for no flag, victims the dead holders' fields, "," between
 * them and "." for each field's "|" (traceField last: a trace may hold "|").
 * KEYS: per request its semaphore, and its wait flag when it takes the full
 * form (the short one has no flag to set, so the client saves a key); then,
 * if ARGV[3] says so, the caller's own liveness record.
 * Returns {-2} when the caller's liveness record is gone. Otherwise a flat
 * array, as ACQUIRE's (src/scripts/acquire.ts): Redis TIME in µs (the
 * acquiredAt of every permit taken by this call), then one entry per
 * request: 1 taken with that time as its token, a larger integer taken with
 * that token, {1, token, acquiredAtMs} when this very permit is ours
 * already and live (a resent call, answered with its first token), {0,
 * permit…} refused, with every live permit's value, or {-3, error} when
 * Redis refused the key (a value of another type). A refused caller with a
 * waitFlagMs flags the semaphore, so that the next release publishes.
 */
export const SEMAPHORE_ACQUIRE: LuaScript = {
  name: "semaphore-acquire",
  source: compactLua(`${LUA_PERMIT_LAYOUT}
${LUA_RAISE_FLAG}
local processHash, lockTtlMs = ARGV[1], tonumber(ARGV[2])

-- Our own liveness record is gone (Redis lost data): a permit taken now would look abandoned at once.
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[#KEYS]) == 0 then return {-2} end

-- One TIME for the whole batch.
local time = redis.call('TIME')
local nowUs = time[1] * 1000000 + time[2]
local nowMs = math.floor(nowUs / 1000)
local nowMsText = string.format('%.0f', nowMs)

-- Every permit of a full semaphore: drops the expired ones, answers {0, value…} with the rest (values that are not
-- permits included: they count, and the caller reports them); or nil and their count when fewer than limit remain.
local function holders(k, limit)
  local semKey = KEYS[k]
  local entries = redis.call('HGETALL', semKey)
  local permits = {0}
  for i = 1, #entries, 2 do
    local field, value = entries[i], entries[i + 1]
    if field ~= 't' then
      local expiresAt = permitExpiresAt(value)
      -- Not extended in time: its holder stopped, the permit is free.
      if expiresAt and expiresAt <= nowMs then redis.call('HDEL', semKey, field)
      else permits[#permits + 1] = value end
    end
  end
  if #permits - 1 >= limit then return permits end
  return nil, #permits - 1
end

-- The semaphore this call last took a permit of, and what it knows of it since: at least its fields other than "t",
-- and its last token; its TTL is at least lockTtlMs. Nothing else writes while the script runs (a drop made since
-- only makes the count high, which costs a look), so the next request of that semaphore reads only its own field.
local lastKey, lastFields, lastToken

-- One permit of the semaphore at KEYS[k] (its flag at KEYS[k + 1] when waitFlagMs is not ''): the request's entry of the reply.
local function acquireOne(k, seq, limit, waitFlagMs, victims, traceField)
  local semKey = KEYS[k]
  local own = processHash .. '|' .. seq
  local seen = semKey == lastKey
  local fields, mine, last
  if seen then
    fields, last = lastFields, lastToken
  else
    fields = redis.pcall('HLEN', semKey)
    if type(fields) == 'table' then return {-3, fields.err} end
  end
  local existed = seen or fields > 0
  -- The dead holders the caller found: a field names its holder, so this deletes exactly those permits.
  for victim in string.gmatch(victims, '[^,]+') do fields = fields - redis.call('HDEL', semKey, (string.gsub(victim, '%.', '|'))) end
  if seen then
    mine = redis.call('HGET', semKey, own)
  elseif fields > 0 then
    local read = redis.call('HMGET', semKey, own, 't')
    mine, last = read[1], read[2]
    -- Every semaphore hash pulselock writes keeps its last token in "t": without one this hash is someone else's (or
    -- garbage), and below the limit no permit would be read to notice. Left alone, and answered with its values,
    -- which the caller reports (CorruptRecordError) as it does a value that is not a permit.
    if not last or not string.match(last, '^%d+$') then
      local values = redis.call('HVALS', semKey)
      table.insert(values, 1, 0)
      return values
    end
    fields = fields - 1
  end
  if mine then
    local expiresAt = permitExpiresAt(mine)
    -- Not a permit: left alone, and reported like a holder's value (the caller throws CorruptRecordError).
    if not expiresAt then return {0, mine} end
    -- Ours already and live: this call ran twice (a client resent it), and the first took the permit.
    if expiresAt > nowMs then
      local token, acquiredAtMs = parseRecord(permitRecord(mine))
      return {1, tonumber(token), tonumber(acquiredAtMs)}
    end
  end
  -- The fields other than "t" are at least the live permits: fewer than limit need no closer look.
  if fields >= limit then
    local full, live = holders(k, limit)
    if full then
      -- Full: flag it for our waiter (a refused flag is ignored: the waiter polls anyway), answer with the holders.
      if waitFlagMs ~= '' then raiseFlag(KEYS[k + 1], waitFlagMs) end
      return full
    end
    fields = live
  end
  local token = math.max(nowUs, (tonumber(last) or 0) + 1)
  local tokenText = string.format('%.0f', token)
  local record = recordHead(tokenText, nowMsText, nowMsText, processHash) .. seq .. '|' .. traceField
  redis.call('HSET', semKey, own, formatPermit(nowMs + lockTtlMs, record), 't', tokenText)
  -- The hash lives as long as its longest permit (another holder's lockTtlMs may be longer than ours), "t" with it.
  if not existed or not seen and redis.call('PTTL', semKey) < lockTtlMs then redis.call('PEXPIRE', semKey, lockTtlMs) end
  -- One more field (or the same count, when ours replaced our own expired permit: counting it again only costs a look).
  lastKey, lastFields, lastToken = semKey, fields + 1, token
  if token == nowUs then return 1 end
  return token
end

local replies = {nowUs}
-- KEYS are walked with a cursor: a request in the short form names no flag.
local k = 1
for i = 4, #ARGV do
  local seq, limit, traceField = string.match(ARGV[i], '^:(%d+)|(%d+)|(.*)$')
  if seq then
    replies[i - 2] = acquireOne(k, seq, tonumber(limit), '', '', traceField)
    k = k + 1
  else
    local waitFlagMs, victims
    seq, limit, waitFlagMs, victims, traceField = string.match(ARGV[i], '^(%d+)|(%d+)|(%d*)|([%x.,]*)|(.*)$')
    replies[i - 2] = acquireOne(k, seq, tonumber(limit), waitFlagMs, victims, traceField)
    k = k + 2
  end
end
return replies`),
  sha: "3e83feed74c7dac621d170a47de08cafd4254bd5",
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
    const trace = encodeTraceField(r.owner.trace);
    if (r.waitFlagMs === "" && r.victims.length === 0) {
      keys.push(r.redisKey);
      args.push(`:${r.owner.seq}|${r.limit}|${trace}`);
    } else {
      keys.push(r.redisKey, waitFlagKey(r.redisKey));
      // A field is "<32 hex>|<digits>": "." stands for its "|" here, "," separates fields.
      args.push(`${r.owner.seq}|${r.limit}|${r.waitFlagMs}|${r.victims.map((v) => v.replace("|", ".")).join(",")}|${trace}`);
    }
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

/** One request's entry of a SEMAPHORE_ACQUIRE reply, the batch's TIME being `nowUs`. */
function decodeEntry(entry: unknown, nowUs: number): SemaphoreAcquireOutcome | Error {
  if (entry === 1) return { kind: "taken", token: nowUs, ms: Math.floor(nowUs / 1000) };
  if (isWhole(entry)) return { kind: "taken", token: entry, ms: Math.floor(nowUs / 1000) };
  if (!Array.isArray(entry)) return malformedReply("semaphore-acquire", entry);
  const status: unknown = entry[0];
  if (status === 1 && entry.length === 3 && isWhole(entry[1]) && isWhole(entry[2])) return { kind: "taken", token: entry[1], ms: entry[2] };
  if (status === 0) {
    const permits = entry.slice(1);
    if (permits.every((p): p is string => typeof p === "string")) return { kind: "full", permits };
  }
  return keyError("semaphore-acquire", entry) ?? malformedReply("semaphore-acquire", entry);
}

/** Splits the SEMAPHORE_ACQUIRE reply ({-2}, or TIME and one entry per request) into one outcome (or that request's own error) per request. */
export function decodeSemaphoreAcquireReply(reply: unknown, count: number): (SemaphoreAcquireOutcome | Error)[] {
  if (!Array.isArray(reply)) throw malformedReply("semaphore-acquire", reply);
  if (reply.length === 1 && reply[0] === -2) return new Array<SemaphoreAcquireOutcome>(count).fill(LAPSED);
  const nowUs: unknown = reply[0];
  if (reply.length !== count + 1 || !isWhole(nowUs)) throw malformedReply("semaphore-acquire", reply);
  const out = new Array<SemaphoreAcquireOutcome | Error>(count);
  for (let i = 0; i < count; i++) out[i] = decodeEntry(reply[i + 1], nowUs);
  return out;
}
