import { LUA_RECORD_LAYOUT, encodeTraceField, type Owner } from "../lock-record";
import { keyError, malformedReply } from "../malformed-reply";
import { waitFlagKey } from "../wait-flag-key";
import { LUA_CLAIM } from "../lua-claim";
import { LUA_RAISE_FLAG } from "../wait-flag-key";
import { compactLua, type LuaScript } from "./script";

/**
 * Takes sets of locks, each set all or nothing, for multi-key locks
 * (acquireAllAndRun() and mutexAll()). Each lock is an ordinary lock record
 * (the same as acquire() writes, so a multi-key lock and a single lock on the
 * same name exclude each other), one per key, all of a set under one seq.
 * Concurrent sets of one Locker travel together, as single acquisitions do
 * (src/lock-batches.ts); the sets of one call are taken one after the other,
 * so a later set sees what an earlier one wrote. On a cluster every key of
 * one call shares a slot: the caller splits a set into slot groups
 * (src/multi-lock-acquirer.ts), one call each.
 *
 * Two passes per set. The first looks at every key: a key is takeable when
 * it is free, holds a release's tombstone, still holds the dead holder the
 * caller named for it (a compare-and-set on processHash and seq, never a
 * blind take), or holds the caller's own record under this very seq (the call
 * ran twice: a client resent it). A free key is written at once by the SET NX
 * GET that looks at it (one command instead of a GET and a SET; a server
 * without that form gets GET and a write in the second pass). If any key is
 * not takeable, or Redis refuses a command on one, the keys this set wrote are
 * deleted again (they were free), so the set holds nothing, writes nothing
 * else but wait flags, and its answer lists every key that is not takeable.
 * The script runs alone, so nobody sees the keys in between; replicas and the
 * AOF see a refused set's SET and DEL. The second pass writes every other key
 * of the set. Redis refuses only a script's first write when it is out of
 * memory (later writes of a script that has written go through, so that a
 * script is never cut in half): that refusal fails the set, and leaves
 * nothing held.
 *
 * ARGV: processHash, lockTtlMs, "1" when the last key is the caller's own
 * liveness key (a single Redis; on a cluster it lives in another slot) or "";
 * then per set its head "n|waitFlagMs|seq|traceField" (waitFlagMs "" for no
 * flags; traceField last: a trace may hold "|") and, per key of the set, the
 * dead holder to take over as "processHash|seq", or "" for none. A set with
 * no flags and no holder to take over (most sets) takes the short form
 * instead: the head ":n||seq|traceField" alone, and its keys without flags
 * (a client library's cost, and Redis's parsing, grow with every argument).
 * KEYS: per set, per key its key and its wait flag (the short form: its key
 * only); then the liveness key.
 * Returns {-2} when the caller's own liveness record is gone (nothing taken);
 * otherwise TIME in µs, then per set: 1 and one token per key when all were
 * taken (each max(TIME in µs, previous token + 1), as in scripts/acquire.ts);
 * 0, m and m pairs (index, value) for the m keys someone else holds; or -3,
 * index, error when Redis refused to read a key (a value of another type).
 */
export const ACQUIRE_ALL: LuaScript = {
  name: "acquire-all",
  source: compactLua(`${LUA_RECORD_LAYOUT}
local processHash, lockTtlMs = ARGV[1], ARGV[2]

-- Our own liveness record is gone (Redis lost data): locks taken now would look abandoned at once.
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[#KEYS]) == 0 then return {-2} end

-- One TIME for the whole call: every token of a set that is free (µs), and acquiredAt and extendedAt (ms).
local time = redis.call('TIME')
local nowUs = time[1] * 1000000 + time[2]
local nowMs = string.format('%.0f', math.floor(nowUs / 1000))
${LUA_CLAIM}
${LUA_RAISE_FLAG}
local replies = {nowUs}

-- Takes one set: its n keys from KEYS[keyBase + 1], every stride-th (2: each key is followed by its wait flag), and
-- its n victims from ARGV[argBase + 1], or none when argBase is nil (the short form).
local function takeSet(n, waitFlagMs, seq, traceField, keyBase, argBase, stride)
  local ownOwner = processHash .. '|' .. seq
  local tail = seq .. '|' .. traceField
  -- First pass: a free key gets its record at once (SET NX GET: one command, not a GET and a SET), written[] keeps
  -- them so that a refused set can delete them again (they were free); any other key's previous token goes to
  -- previous[] for the second pass, or the key is someone else's.
  local previous = {}
  local written = {}
  local refused = {}
  local failed
  for i = 1, n do
    local lockKey = KEYS[keyBase + stride * i - stride + 1]
    local current, claimed = claim(lockKey, tail)
    if type(current) == 'table' then
      -- Redis refused a command on this key (a value of another type; out of memory before the call's first write).
      failed = {i, current.err}
      break
    end
    if not current then
      if claimed then
        written[#written + 1] = lockKey
      else
        previous[i] = 0
      end
    else
      local tombstone = tombstoneToken(current)
      if tombstone then
        previous[i] = tombstone
      else
        local token, owner = recordOwner(current)
        if token and (owner == ownOwner or (argBase and owner == ARGV[argBase + i])) then
          -- The dead holder we named, or our own record from a first run of this very call.
          previous[i] = tonumber(token)
        else
          -- Held: flag it for our waiter (a pulselock record only: nothing would release anything else). Only the
          -- full form has flags (stride 2).
          if token and waitFlagMs ~= '' then raiseFlag(KEYS[keyBase + 2 * i], waitFlagMs) end
          refused[#refused + 1] = i
          refused[#refused + 1] = current
        end
      end
    end
  end
  if failed or #refused > 0 then
    -- All or nothing: what this set wrote goes again (those keys were free), and the set answers why.
    if #written > 0 then redis.call('DEL', unpack(written)) end
    if failed then
      replies[#replies + 1] = -3
      replies[#replies + 1] = failed[1]
      replies[#replies + 1] = failed[2]
    else
      replies[#replies + 1] = 0
      replies[#replies + 1] = #refused / 2
      for _, v in ipairs(refused) do replies[#replies + 1] = v end
    end
    return
  end
  -- Second pass: every key of the set is takeable. A key that held something (or every key, without SET NX GET) is
  -- written now, with a token past the one it held.
  replies[#replies + 1] = 1
  for i = 1, n do
    local token = nowUs
    if previous[i] then
      token = math.max(nowUs, previous[i] + 1)
      redis.call('SET', KEYS[keyBase + stride * i - stride + 1], ownRecord(token, tail), 'PX', lockTtlMs)
    end
    replies[#replies + 1] = token
  end
end

local argIndex, keyBase = 4, 0
local lastArg = #ARGV
while argIndex <= lastArg do
  -- The short form (":" first) has no flags and no victims: its keys come alone, and no victim arguments follow.
  local short, n, waitFlagMs, seq, traceField = string.match(ARGV[argIndex], '^(:?)(%d+)|(%d*)|(%d+)|(.*)$')
  n = tonumber(n)
  local stride = short == ':' and 1 or 2
  takeSet(n, waitFlagMs, seq, traceField, keyBase, stride == 2 and argIndex or nil, stride)
  argIndex = argIndex + 1 + (stride - 1) * n
  keyBase = keyBase + stride * n
end
return replies`),
  sha: "e1f053369a1058ce3bfe7b83f22ac2fd9bdaef7a",
};

/** One set of an ACQUIRE_ALL call: its Redis keys (one slot on a cluster), who asks, and the dead holder to take over per key. */
export interface AcquireAllRequest {
  redisKeys: readonly string[];
  processHash: string;
  seq: string;
  trace: string | undefined;
  /** Per key (same index), the dead holder to take over, or undefined. */
  victims: readonly (Owner | undefined)[];
  /** How long a held key's wait flag lives (ms), or "" for no flags. */
  waitFlagMs: string;
}

/**
 * The KEYS and ARGV of one ACQUIRE_ALL call for `sets`, all asked by sets[0].processHash; `livenessKey` is that
 * process's liveness record, to check in the same script (a single Redis), or undefined (a cluster).
 */
export function acquireAllCall(sets: readonly AcquireAllRequest[], lockTtlMs: string, livenessKey: string | undefined): { keys: string[]; args: string[] } {
  const keys: string[] = [];
  const args = [sets[0]!.processHash, lockTtlMs, livenessKey === undefined ? "" : "1"];
  for (const set of sets) {
    const traceField = encodeTraceField(set.trace);
    if (set.waitFlagMs === "" && !set.victims.some(Boolean)) {
      // The short form: no flag to set and no holder to take over, so neither flag keys nor victims go.
      args.push(`:${set.redisKeys.length}||${set.seq}|${traceField}`);
      for (const redisKey of set.redisKeys) keys.push(redisKey);
      continue;
    }
    args.push(`${set.redisKeys.length}|${set.waitFlagMs}|${set.seq}|${traceField}`);
    set.redisKeys.forEach((redisKey, i) => {
      keys.push(redisKey, waitFlagKey(redisKey));
      const victim = set.victims[i];
      args.push(victim ? `${victim.processHash}|${victim.seq}` : "");
    });
  }
  if (livenessKey !== undefined) keys.push(livenessKey);
  return { keys, args };
}

/** What ACQUIRE_ALL did with one set: nothing (lapsed, or keys held, by index), or took every key with these tokens. */
export type AcquireAllOutcome =
  { kind: "lapsed" } | { kind: "held"; held: { index: number; record: string }[] } | { kind: "taken"; tokens: number[]; ms: number };

const LAPSED: AcquireAllOutcome = Object.freeze({ kind: "lapsed" });

const isToken = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n > 1;
const isIndex = (n: unknown, count: number): n is number => typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= count;

/**
 * Splits an ACQUIRE_ALL reply into one outcome per set (`counts`: each set's number of keys). A reply of the wrong
 * shape throws BAD_RESPONSE; a set's {-3, i, error} is that set's own RedisCommandError.
 */
export function decodeAcquireAllReply(reply: unknown, counts: readonly number[]): (AcquireAllOutcome | Error)[] {
  if (!Array.isArray(reply)) throw malformedReply("acquire-all", reply);
  if (reply.length === 1 && reply[0] === -2) return counts.map(() => LAPSED);
  const r = reply as unknown[];
  const nowUs = r[0];
  if (!isToken(nowUs)) throw malformedReply("acquire-all", reply);
  const ms = Math.floor(nowUs / 1000);
  const out: (AcquireAllOutcome | Error)[] = [];
  let at = 1;
  for (const count of counts) {
    const kind = r[at];
    if (kind === 1) {
      const tokens = r.slice(at + 1, at + 1 + count);
      if (tokens.length !== count || !tokens.every(isToken)) throw malformedReply("acquire-all", reply);
      out.push({ kind: "taken", tokens: tokens as number[], ms });
      at += 1 + count;
    } else if (kind === 0) {
      const m = r[at + 1];
      if (!isIndex(m, count)) throw malformedReply("acquire-all", reply);
      const held: { index: number; record: string }[] = [];
      for (let j = 0; j < m; j++) {
        const [index, record] = [r[at + 2 + 2 * j], r[at + 3 + 2 * j]];
        if (!isIndex(index, count) || typeof record !== "string") throw malformedReply("acquire-all", reply);
        held.push({ index: index - 1, record });
      }
      out.push({ kind: "held", held });
      at += 2 + 2 * m;
    } else if (kind === -3 && isIndex(r[at + 1], count)) {
      out.push(keyError("acquire-all", [-3, r[at + 2]]) ?? malformedReply("acquire-all", reply));
      at += 3;
    } else {
      throw malformedReply("acquire-all", reply);
    }
  }
  if (at !== r.length) throw malformedReply("acquire-all", reply);
  return out;
}
