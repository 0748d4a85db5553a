import { LUA_RECORD_LAYOUT, encodeTraceField } from "../lock-record";
import { keyError, malformedReply } from "../malformed-reply";
import { waitFlagKey } from "../wait-flag-key";
import { LUA_CLAIM } from "../lua-claim";
import { LUA_RAISE_FLAG } from "../wait-flag-key";
import { compactLua, type LuaScript } from "./script";

/**
 * Takes a batch of locks, each one free or held by a holder known to be dead
 * (a compare-and-set on that holder's processHash and seq, never a blind
 * delete). Concurrent acquisitions of one Locker travel together, so that a
 * busy process pays for one script call, one TIME and one liveness check per
 * batch, not per lock.
 *
 * ARGV: processHash, lockTtlMs, "1" when the last key is the caller's own
 * liveness key (on a single Redis; a cluster cannot check it in the same
 * script) or "" when not, then one string per lock (a client library's
 * cost grows with the number of arguments). Most locks take the short form
 * "seq|traceField", the end of the record as written (the script writes it
 * as it came, no string made from it); a lock with a victim or a wait flag
 * takes the full form "!seq|victimSeq|waitFlagMs|victimProcessHash|traceField"
 * (traceField last: a trace may hold "|").
 * KEYS: per lock its key, and its wait flag when it takes the full form (a
 * short one has no flag to set, so the client saves a key); then, if ARGV[3]
 * says so, the caller's own liveness key.
 * Returns {-2} when the caller's own liveness record is gone (Redis lost data):
 * a lock taken under it would look abandoned to everyone else at once.
 * Otherwise a flat array: Redis TIME in µs (which gives every record of the
 * batch its acquiredAt), then one reply per lock: 1 taken with that time as
 * its token, a larger integer taken with that token (a takeover), a string
 * (the current value) held by someone else, or {-3, error} when Redis refused
 * a command on that key (a foreign value of another type): one bad key must
 * not fail, or half-apply, the rest of the batch. The caller knows the rest
 * of the record it asked for, so the reply stays short; integers and flat
 * arrays also cost both ends less to encode and parse than nested ones.
 *
 * A waiter that will listen for the release (mutex() with pub/sub) passes
 * waitFlagMs: a held lock then gets a flag, and only a release that finds a
 * flag publishes, so an uncontended release costs no PUBLISH. A value that is
 * not a pulselock record gets no flag: nothing would ever release it. A flag
 * that Redis refuses to write (out of memory, say) is ignored: the waiter
 * polls anyway, and the rest of the batch must not fail with it.
 *
 * A free key costs one SET (NX GET, Redis 7.0+: it returns what was there
 * instead of writing); a server that rejects that form gets GET, then SET.
 *
 * The fencing token is max(TIME in µs, previous token + 1): it grows with the
 * Redis clock, so it survives a Redis restart that lost all data, and it never
 * repeats even if two takeovers fall in the same microsecond. A key that holds
 * a release's tombstone (`pl1t|<token>`, see scripts/release.ts) is free, and
 * its token counts as the previous one: so acquire, release and acquire inside
 * one microsecond still give strictly growing tokens.
 */
export const ACQUIRE: LuaScript = {
  name: "acquire",
  source: compactLua(`${LUA_RECORD_LAYOUT}
local processHash = ARGV[1]
local lockTtlMs = ARGV[2]
local lockCount = #ARGV - 3

-- Our own liveness record is gone (Redis lost data): a lock taken now would look abandoned at once.
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[#KEYS]) == 0 then return {-2} end

-- One TIME for the whole batch: the token of a fresh record (microseconds) and its acquiredAt and extendedAt (ms).
local time = redis.call('TIME')
local nowUs = time[1] * 1000000 + time[2]
local nowMs = string.format('%.0f', math.floor(nowUs / 1000))
${LUA_CLAIM}
${LUA_RAISE_FLAG}
local replies = {nowUs}

-- Writes our record with this token over what was there, and answers for lock i: 1 when the token is the
-- batch's time, the token itself when it had to pass a previous one, {-3, error} when Redis refused the SET.
local function writeRecord(i, lockKey, token, tail)
  local written = redis.pcall('SET', lockKey, ownRecord(token, tail), 'PX', lockTtlMs)
  if type(written) == 'table' and written.err then replies[i + 1] = {-3, written.err}
  elseif token == nowUs then replies[i + 1] = 1
  else replies[i + 1] = token end
end

local keyIndex = 0
for i = 1, lockCount do
  local arg = ARGV[i + 3]
  keyIndex = keyIndex + 1
  local lockKey = KEYS[keyIndex]

  -- The lock's argument. tail is the end of our record as written: "<seq>|<traceField>".
  -- The short form (the tail itself) names no victim and no flag, and no flag key follows; the full one starts with "!".
  local tail, victimSeq, waitFlagMs, victimProcessHash, flagKey
  if string.byte(arg) ~= 33 then
    tail = arg
    waitFlagMs = ''
    victimProcessHash = ''
  else
    local seq, traceField
    seq, victimSeq, waitFlagMs, victimProcessHash, traceField = string.match(arg, '^!(%d+)|(%d*)|(%d*)|([^|]*)|(.*)$')
    tail = seq .. '|' .. traceField
    keyIndex = keyIndex + 1
    flagKey = KEYS[keyIndex]
  end

  -- What the key holds; a free one has our fresh record already when claimed says so.
  local current, claimed = claim(lockKey, tail)

  if type(current) == 'table' then
    -- Redis refused a command on this key (a value of another type): this lock fails alone.
    replies[i + 1] = {-3, current.err}
  elseif not current then
    -- Free: SET NX GET has written our record; after a plain GET we write it now.
    if claimed then replies[i + 1] = 1 else writeRecord(i, lockKey, nowUs, tail) end
  else
    local previousToken = tombstoneToken(current)
    if previousToken then
      -- A release's tombstone: free, and our token must pass the one it remembers.
      writeRecord(i, lockKey, math.max(nowUs, previousToken + 1), tail)
    elseif victimProcessHash == '' and waitFlagMs == '' then
      -- Held, with no dead holder to take over and no flag to set: answer with what is there.
      replies[i + 1] = current
    else
      local holderToken, _, _, holderProcessHash, holderSeq = parseRecord(current)
      if not holderToken or victimProcessHash == '' or holderProcessHash ~= victimProcessHash or holderSeq ~= victimSeq then
        -- Not the dead holder we named: flag it for our waiter (a pulselock record only: nothing would release
        -- anything else; a refused flag is ignored, the waiter polls anyway), and answer with what is there.
        if holderToken and waitFlagMs ~= '' then raiseFlag(flagKey, waitFlagMs) end
        replies[i + 1] = current
      else
        -- Still the dead holder we named: take it over with a token past its own.
        writeRecord(i, lockKey, math.max(nowUs, tonumber(holderToken) + 1), tail)
      end
    end
  end
end
return replies`),
  sha: "22f26de25d58b9a6e7f26df2862fd7f4858fef6d",
};

/** One lock to acquire: its Redis key, who asks (processHash and seq) with which trace, and what the short form leaves out. */
export interface AcquireRequest {
  redisKey: string;
  processHash: string;
  seq: string;
  trace: string | undefined;
  /** The dead holder to take over (its processHash and seq), when there is one. */
  victim?: { processHash: string; seq: string };
  /** How long a held lock's wait flag lives (ms), or "" for no flag. */
  waitFlagMs: string;
}

/**
 * The KEYS and ARGV of one ACQUIRE call for `locks`, all asked by
 * locks[0].processHash; `livenessKey` is that process's liveness record, to
 * check in the same script (a single Redis), or undefined (a cluster, where it
 * lives in another slot). Plain loops: this runs for every lock.
 */
export function acquireCall(locks: readonly AcquireRequest[], lockTtlMs: string, livenessKey: string | undefined): { keys: string[]; args: string[] } {
  const keys: string[] = [];
  const args = [locks[0]!.processHash, lockTtlMs, livenessKey === undefined ? "" : "1"];
  for (const lock of locks) {
    const traceField = encodeTraceField(lock.trace);
    keys.push(lock.redisKey);
    // Only the full form names the wait flag: a short one has no flag to set (one key fewer per lock).
    if (lock.victim || lock.waitFlagMs) {
      keys.push(waitFlagKey(lock.redisKey));
      args.push(`!${lock.seq}|${lock.victim?.seq ?? ""}|${lock.waitFlagMs}|${lock.victim?.processHash ?? ""}|${traceField}`);
    } else {
      args.push(`${lock.seq}|${traceField}`);
    }
  }
  if (livenessKey !== undefined) keys.push(livenessKey);
  return { keys, args };
}

/** One lock's ACQUIRE answer. */
export type AcquireOutcome =
  /** The caller's liveness record is gone: no lock of the batch was taken. */
  | { kind: "lapsed" }
  /** Ours now, with this fencing token; `ms` is its acquiredAt (and extendedAt) as written in the record. */
  | { kind: "taken"; token: number; ms: number }
  /** Someone else's: the raw current value (decodeLockRecord() reads it, given the lock's name). */
  | { kind: "held"; record: string };

const LAPSED: AcquireOutcome = Object.freeze({ kind: "lapsed" });

const isToken = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n > 1;

/**
 * Splits the ACQUIRE reply ({-2}, or {µs, one entry per lock}) into one
 * outcome per lock. A reply of the wrong shape throws; an entry of the wrong
 * shape is that lock's own BAD_RESPONSE, and an entry {-3, error} its own
 * RedisCommandError.
 */
export function decodeAcquireReply(reply: unknown, count: number): (AcquireOutcome | Error)[] {
  if (!Array.isArray(reply)) throw malformedReply("acquire", reply);
  if (reply.length === 1 && reply[0] === -2) return new Array<AcquireOutcome>(count).fill(LAPSED);
  const nowUs = reply[0] as unknown;
  if (reply.length !== count + 1 || !isToken(nowUs)) throw malformedReply("acquire", reply);
  const ms = Math.floor(nowUs / 1000);
  const out = new Array<AcquireOutcome | Error>(count);
  for (let i = 0; i < count; i++) {
    const entry = reply[i + 1] as unknown;
    out[i] =
      entry === 1
        ? { kind: "taken", token: nowUs, ms }
        : isToken(entry)
          ? { kind: "taken", token: entry, ms }
          : typeof entry === "string"
            ? { kind: "held", record: entry }
            : (keyError("acquire", entry) ?? malformedReply("acquire", entry));
  }
  return out;
}
