import { CorruptRecordError } from "./errors";
import type { LockData } from "./lock-data";
import { LUA_RECORD_LAYOUT, decodeLockRecord, type Owner } from "./lock-record";
import { compactLua } from "./scripts/script";

/*
 * A semaphore is one Redis hash (keys.ts: <prefix>pl:sem:{<name>}), so that one key, in one cluster slot, holds all
 * its permits and the scripts see them in one atomic step:
 *
 *   field "<processHash>|<seq>"  one held permit: "<expiresAtMs>|" then a lock record (src/lock-record.ts)
 *   field "t"                    the last fencing token handed out (a number), kept while the hash lives
 *
 * The field names the holder, so a takeover of a dead holder's permit is an HDEL of that very field: a compare on
 * its processHash and seq, never a blind delete. A permit expires lockTtlMs after its last extension (expiresAtMs,
 * Redis TIME): an acquisition that finds the semaphore at its limit drops the expired ones, and every write keeps
 * the hash's TTL at least lockTtlMs (never shortening it), so the hash outlives its longest permit and expires at
 * most lockTtlMs after its last write: nothing stays in Redis once nothing is held.
 */

/** The Lua side of the permit layout, spliced into the semaphore scripts (with the lock record's helpers). */
export const LUA_PERMIT_LAYOUT = `${LUA_RECORD_LAYOUT}
${compactLua(`-- A permit (src/semaphore-record.ts): "<expiresAtMs>|<lock record>"; its field is "<processHash>|<seq>".
local function permitExpiresAt(value)
  return tonumber(string.match(value, '^(%d+)|pl1|'))
end

local function permitRecord(value)
  return string.match(value, '^%d+|(pl1|.*)$')
end

-- A permit's value: when it expires, then the lock record.
local function formatPermit(expiresAtMs, record)
  return string.format('%.0f', expiresAtMs) .. '|' .. record
end
`)}`;

/** The hash field of `owner`'s permit. */
export function permitField(owner: Owner): string {
  return `${owner.processHash}|${owner.seq}`;
}

const PERMIT = /^\d{1,15}\|(?=pl1\|)/;

/** Parses a permit read from the semaphore `key` at `redisKey`. Throws CorruptRecordError on anything else. */
export function decodePermit(key: string, redisKey: string, raw: unknown): LockData {
  const m = typeof raw === "string" ? PERMIT.exec(raw) : null;
  if (!m) throw new CorruptRecordError(redisKey, raw);
  return decodeLockRecord(key, redisKey, (raw as string).slice(m[0].length));
}
