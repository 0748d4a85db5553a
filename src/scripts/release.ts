import { LUA_RECORD_LAYOUT, decodeLockRecord } from "../lock-record";
import { keyError, malformedReply } from "../malformed-reply";
import type { ReleaseResult } from "../results";
import { LockStatus } from "../statuses";
import { waitFlagKey } from "../wait-flag-key";
import { compactLua, type LuaScript } from "./script";

/**
 * Deletes a batch of locks that the caller still owns, each with its wait
 * flag. Concurrent releases of one Locker travel together (one script call
 * per batch), and the script makes a fixed number of nested commands per
 * batch (one MGET, one TIME, one DEL), not per lock: in Redis a nested
 * command costs several times the Lua around it. When a flag was there (a mutex() waiter listens), it publishes
 * on a channel named like the lock key, which wakes the waiters at once; on a
 * cluster by sharded pub/sub, whose channel hashes to the lock's own slot.
 * Without a flag there is nobody to wake, so an uncontended release costs no
 * PUBLISH. A PUBLISH that Redis refuses (an ACL without the channel, say) is
 * ignored: the waiters poll anyway, and the deletes of the batch must stand.
 *
 * KEYS: per lock its key and its wait flag. ARGV: publish ("0" none, "1"
 * PUBLISH, "2" SPUBLISH), the processHash of every lock of the call (the
 * batches group by it), then per lock its seq: the owner is "processHash|seq".
 * Returns one reply per lock, flat: 1 released, -1 when the key is gone, a
 * string (the current value) when someone else holds it, {-3, error} when
 * Redis refused to read the key (a foreign value of another type). The owner
 * is compared as a plain string: a pattern built from it could be made to
 * match someone else's record.
 *
 * Tombstones: the next acquire's token is max(TIME, previous + 1) only while
 * a previous record is there to read. A release in the same microsecond as
 * its lock's token (or with a token that takeovers pushed ahead of TIME)
 * therefore leaves `pl1t|<token>` instead of deleting, for just as long as
 * TIME needs to pass the token: whole ms, plus one because Redis 7.2+ counts
 * a PX from the script's start, which may fall in the millisecond before
 * TIME was read (docs/model.md, Findings); every other release
 * deletes, since any later TIME is already past the token. Every script and
 * reader treats a tombstone as no key. Without it, acquire, release and
 * acquire inside one microsecond would repeat a token (docs/model.md).
 */
export const RELEASE: LuaScript = {
  name: "release",
  source: compactLua(`${LUA_RECORD_LAYOUT}
-- ARGV[1] how to announce a release that a waiter flagged: '0' not at all, '1' PUBLISH, '2' SPUBLISH.
-- ARGV[2] the owners' processHash: every lock of a batch is one process's.
local publishMode, processHash = ARGV[1], ARGV[2]
local replies = {}
-- Every lock and flag of the batch in one read: a nested command costs far more than the Lua around it.
-- MGET answers nil for a value of another type too; such a key is read again on its own (below).
local values = redis.call('MGET', unpack(KEYS))
-- What one DEL removes at the end (our records, and the flags that are there), and the flagged locks to announce.
local deletes = {}
local flagged = {}
-- Redis TIME in microseconds, read once for the batch and only when a lock of ours is found.
local nowUs

for i = 1, #KEYS / 2 do
  local lockKey = KEYS[2 * i - 1]
  local current = values[2 * i - 1]
  -- ARGV[i + 2] is the lock's seq; its owner is "processHash|seq".
  local owner = processHash .. '|' .. ARGV[i + 2]

  if not current then
    -- Gone, or a value of another type: only the second needs a read of its own, and fails this lock alone.
    local read = redis.pcall('GET', lockKey)
    if type(read) == 'table' then replies[i] = {-3, read.err} else replies[i] = -1 end
  else
    -- Our own record first, the common case: a tombstone is looked for only in a value that is not ours (one
    -- string.match per lock instead of two).
    local token, currentOwner = recordOwner(current)
    if currentOwner ~= owner then
      -- A tombstone holds no lock; anything else is someone else's (or not a pulselock record): touch nothing,
      -- answer with what is there.
      if tombstoneToken(current) then replies[i] = -1 else replies[i] = current end
    else
      if not nowUs then
        local time = redis.call('TIME')
        nowUs = time[1] * 1000000 + time[2]
      end
      token = tonumber(token)
      if nowUs > token then
        -- TIME is past the token: any later acquire's token will be too, so the record can go.
        deletes[#deletes + 1] = lockKey
      else
        -- TIME has not passed the token yet: leave a tombstone of it until it has (whole ms, plus one: Redis
        -- 7.2+ counts PX from the script's start), so that the next acquire's token still grows.
        redis.call('SET', lockKey, formatTombstone(token), 'PX', math.floor((token - nowUs) / 1000) + 2)
      end
      -- A waiter flagged the lock: the flag goes, and the release is announced.
      if values[2 * i] then
        deletes[#deletes + 1] = KEYS[2 * i]
        flagged[#flagged + 1] = lockKey
      end
      replies[i] = 1
    end
  end
end
if #deletes > 0 then redis.call('DEL', unpack(deletes)) end
-- Wake the waiters of flagged locks (a refused PUBLISH is ignored, the waiters poll anyway).
for _, lockKey in ipairs(flagged) do
  if publishMode == '1' then redis.pcall('PUBLISH', lockKey, '')
  elseif publishMode == '2' then redis.pcall('SPUBLISH', lockKey, '') end
end
return replies`),
  sha: "a424f76d9fa831fdda52c71c43e1d68c115748bd",
};

/** Our own lock to release: its name, its Redis key, and who holds it. */
export interface ReleaseRequest {
  key: string;
  redisKey: string;
  owner: { processHash: string; seq: string };
}

/** The KEYS and ARGV of one RELEASE call for `locks` (plain loops: this runs for every lock). */
export function releaseCall(locks: readonly ReleaseRequest[], publishMode: string): { keys: string[]; args: string[] } {
  const keys: string[] = [];
  const processHash = locks[0]!.owner.processHash;
  // The processHash goes once (a client library's cost grows with every byte and argument); the batches group by it.
  const args = [publishMode, processHash];
  for (const lock of locks) {
    if (lock.owner.processHash !== processHash) throw new Error("pulselock: one RELEASE call holds the locks of one processHash");
    keys.push(lock.redisKey, waitFlagKey(lock.redisKey));
    args.push(lock.owner.seq);
  }
  return { keys, args };
}

/**
 * Splits the RELEASE reply into one answer per lock: 1, -1, the current value
 * as it is, or the lock's own RedisCommandError for {-3, error}. A reply of
 * the wrong length throws.
 */
export function decodeReleaseReply(reply: unknown, count: number): unknown[] {
  if (!Array.isArray(reply) || reply.length !== count) throw malformedReply("release", reply);
  return reply.map((entry: unknown) => keyError("release", entry) ?? entry);
}

/**
 * One lock's RELEASE answer for lock `key` at `redisKey`: 1 released, -1 no
 * key, a string the current holder's record. Throws CorruptRecordError for a
 * value that is not a record, BAD_RESPONSE for an answer of another shape.
 */
export function releaseResult(key: string, redisKey: string, answer: unknown): ReleaseResult {
  if (answer === 1) return { status: LockStatus.SUCCESS, lockData: null };
  if (answer === -1) return { status: LockStatus.NO_KEY, lockData: null };
  if (typeof answer !== "string") throw malformedReply("release", answer);
  return { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, lockData: decodeLockRecord(key, redisKey, answer) };
}
