import { LUA_RECORD_LAYOUT, encodeTraceField, type Owner } from "../lock-record";
import { keyError, malformedReply } from "../malformed-reply";
import { waitFlagKey } from "../wait-flag-key";
import { compactLua, type LuaScript } from "./script";

/**
 * Takes a set of locks all or nothing, for a multi-key lock (acquireAllAndRun()
 * and mutexAll()). Each lock is an ordinary lock record (the same as
 * acquire() writes, so a multi-key lock and a single lock on the same name
 * exclude each other), one per key, all under one seq. On a cluster every key
 * of one call shares a slot: the caller splits a set into slot groups
 * (src/multi-lock-acquirer.ts).
 *
 * Two passes. The first reads every key and writes nothing: a key is takeable
 * when it is free, holds a release's tombstone, still holds the dead holder
 * the caller named for it (a compare-and-set on processHash and seq, never a
 * blind take), or holds the caller's own record under this very seq (the call
 * ran twice: a client resent it). If any key is not, the script answers with
 * every key that is not, and writes nothing but wait flags. The second pass
 * writes every record. Redis refuses only a script's first write when it is
 * out of memory (later writes of a script that has written go through, so
 * that a script is never cut in half): a refusal therefore leaves nothing held.
 *
 * KEYS: per lock its key and its wait flag; then, if ARGV[3] says so, the
 * caller's own liveness key (a single Redis; on a cluster it lives in another slot).
 * ARGV: processHash, lockTtlMs, "1" to check the liveness key or "", waitFlagMs
 * ("" for no flags), seq, traceField, then per lock the dead holder to take
 * over as "processHash|seq", or "" for none.
 * Returns {-2} when the caller's own liveness record is gone; {-3, i, error}
 * when Redis refused to read key i (a value of another type); {0, i, value,
 * j, value, …} with every key that is held by someone else and what it holds;
 * {1, TIME in µs, token 1, …, token n} when all were taken. Each token is
 * max(TIME in µs, previous token + 1), as in scripts/acquire.ts.
 */
export const ACQUIRE_ALL: LuaScript = {
  name: "acquire-all",
  source: compactLua(`${LUA_RECORD_LAYOUT}
local processHash, lockTtlMs, waitFlagMs = ARGV[1], ARGV[2], ARGV[4]
local ownOwner = processHash .. '|' .. ARGV[5]
local tail = ARGV[5] .. '|' .. ARGV[6]
local lockCount = #ARGV - 6

-- Our own liveness record is gone (Redis lost data): locks taken now would look abandoned at once.
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[#KEYS]) == 0 then return {-2} end

-- First pass, no lock written: the previous token of every key, or every key that someone else holds.
local previous = {}
local refused = {0}
for i = 1, lockCount do
  local current = redis.pcall('GET', KEYS[2 * i - 1])
  if type(current) == 'table' then return {-3, i, current.err} end
  previous[i] = 0
  if current then
    local tombstone = tombstoneToken(current)
    if tombstone then
      previous[i] = tombstone
    else
      local token, owner = recordOwner(current)
      if token and (owner == ARGV[6 + i] or owner == ownOwner) then
        -- The dead holder we named, or our own record from a first run of this very call.
        previous[i] = tonumber(token)
      else
        -- Held: flag it for our waiter (a pulselock record only: nothing would release anything else).
        if token and waitFlagMs ~= '' then redis.pcall('SET', KEYS[2 * i], '', 'PX', waitFlagMs) end
        refused[#refused + 1] = i
        refused[#refused + 1] = current
      end
    end
  end
end
if #refused > 1 then return refused end

-- Second pass: every key is takeable, so all are written, under one TIME.
local time = redis.call('TIME')
local nowUs = time[1] * 1000000 + time[2]
local nowMs = string.format('%.0f', math.floor(nowUs / 1000))
local replies = {1, nowUs}
for i = 1, lockCount do
  local token = math.max(nowUs, previous[i] + 1)
  redis.call('SET', KEYS[2 * i - 1], recordHead(string.format('%.0f', token), nowMs, nowMs, processHash) .. tail, 'PX', lockTtlMs)
  replies[i + 2] = token
end
return replies`),
  sha: "3e8b85ff0abde37c97c33075aa1b38724401b221",
};

/** One ACQUIRE_ALL call: the set's Redis keys (one slot on a cluster), who asks, and the dead holder to take over per key. */
export interface AcquireAllRequest {
  redisKeys: readonly string[];
  processHash: string;
  seq: string;
  trace: string | undefined;
  /** Per key (same index), the dead holder to take over, or undefined. */
  victims: readonly (Owner | undefined)[];
  /** How long a held key's wait flag lives (ms), or "" for no flags. */
  waitFlagMs: string;
  lockTtlMs: number;
  /** The caller's liveness key, checked in the same script (a single Redis), or undefined (a cluster). */
  livenessKey: string | undefined;
}

/** The KEYS and ARGV of one ACQUIRE_ALL call. */
export function acquireAllCall(r: AcquireAllRequest): { keys: string[]; args: string[] } {
  const keys: string[] = [];
  const args = [r.processHash, String(r.lockTtlMs), r.livenessKey === undefined ? "" : "1", r.waitFlagMs, r.seq, encodeTraceField(r.trace)];
  r.redisKeys.forEach((redisKey, i) => {
    keys.push(redisKey, waitFlagKey(redisKey));
    const victim = r.victims[i];
    args.push(victim ? `${victim.processHash}|${victim.seq}` : "");
  });
  if (r.livenessKey !== undefined) keys.push(r.livenessKey);
  return { keys, args };
}

/** What one ACQUIRE_ALL call did: nothing (lapsed, or keys held, by index), or took every key with these tokens. */
export type AcquireAllOutcome =
  { kind: "lapsed" } | { kind: "held"; held: { index: number; record: string }[] } | { kind: "taken"; tokens: number[]; ms: number };

const isToken = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n > 1;

/** Reads an ACQUIRE_ALL reply for `count` keys; {-3, i, error} throws that key's RedisCommandError, a reply of another shape BAD_RESPONSE. */
export function decodeAcquireAllReply(reply: unknown, count: number): AcquireAllOutcome {
  if (!Array.isArray(reply)) throw malformedReply("acquire-all", reply);
  const [kind] = reply as unknown[];
  if (kind === -2 && reply.length === 1) return { kind: "lapsed" };
  if (kind === -3 && reply.length === 3) throw keyError("acquire-all", [-3, reply[2]]) ?? malformedReply("acquire-all", reply);
  if (kind === 1 && reply.length === count + 2 && isToken(reply[1])) {
    const tokens = reply.slice(2) as unknown[];
    if (tokens.every(isToken)) return { kind: "taken", tokens: tokens as number[], ms: Math.floor(reply[1] / 1000) };
  }
  if (kind === 0 && reply.length >= 3 && reply.length % 2 === 1) {
    const held: { index: number; record: string }[] = [];
    for (let i = 1; i < reply.length; i += 2) {
      const index = reply[i] as unknown;
      const record = reply[i + 1] as unknown;
      if (typeof index !== "number" || !Number.isInteger(index) || index < 1 || index > count || typeof record !== "string") break;
      held.push({ index: index - 1, record });
    }
    if (held.length === (reply.length - 1) / 2) return { kind: "held", held };
  }
  throw malformedReply("acquire-all", reply);
}
