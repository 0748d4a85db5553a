import { CorruptRecordError } from "./errors";
import type { LockData } from "./lock-data";
import { compactLua } from "./scripts/script";

/*
 * The lock record, defined here once. A lock is one Redis string, so that one
 * key per held lock is all a lock costs:
 *
 *   pl1|<fencingToken>|<acquiredAtMs>|<extendedAtMs>|<processHash>|<seq>|<traceField>
 *
 *   fencingToken  Redis TIME in µs when taken, or past the previous token (scripts/acquire.ts)
 *   acquiredAtMs  Redis TIME in ms when taken; extendedAtMs when last extended (both acquiredAtMs at first)
 *   processHash   32 hex digits: the holder's liveness record is <prefix>…<processHash> (keys.ts)
 *   seq           the holder's count of acquisitions, which tells its locks apart
 *   traceField    empty for no trace, "#<trace>" otherwise (encodeTraceField); last, since a trace may hold "|"
 *
 * The key is not stored (it is the Redis key), and the owner hash is derived
 * from key, processHash, seq and trace. A release may leave a tombstone
 * instead (TOMBSTONE below). The scripts read and write the layout through
 * LUA_RECORD_LAYOUT below, spliced into their text; TypeScript reads it
 * through decodeLockRecord(). Only the scripts write records.
 */
/**
 * What a release leaves, instead of deleting, when TIME has not yet passed the
 * lock's token (scripts/release.ts): `pl1t|<token>`, for a millisecond or so.
 * Every reader treats it as no key; the next acquire takes its token as the
 * previous one.
 */
export const TOMBSTONE = /^pl1t\|\d+$/;

/** A record as TypeScript reads it: stricter than the scripts (they compare owners; this also checks every field's form). */
const RECORD = /^pl1\|(\d{1,16})\|(\d{1,15})\|(\d{1,15})\|([0-9a-f]{32})\|(\d{1,16})\|((?:#[\s\S]*)?)$/;

/**
 * The layout for the Lua scripts: Lua functions spliced at the top of the
 * scripts that read or write records (acquire, extend, release), so that the
 * patterns above and these stay side by side. Compact, like each script
 * (compactLua(), src/scripts/script.ts), so that a script stays line for line
 * the same whether the build or the module compacts it. A script's SHA is
 * over its whole text, this included (test/unit/scripts.test.ts checks it;
 * after a change here, run `node tools/fill-script-shas.mjs`). Which script uses what:
 * acquire: recordHead (to write), tombstoneToken, parseRecord (a victim's
 * token, processHash and seq); extend: tombstoneToken, parseRecord (every
 * field), recordHead; release: tombstoneToken, recordOwner, formatTombstone.
 * test/integration/script-round-trips.test.ts checks that what the scripts
 * write, decodeLockRecord() reads, and the other way round.
 */
export const LUA_RECORD_LAYOUT = compactLua(`-- The lock record (src/lock-record.ts):
-- pl1|<fencingToken>|<acquiredAtMs>|<extendedAtMs>|<processHash>|<seq>|<traceField>

-- Every field of a record, as strings; nil when the value is not a lock record.
local function parseRecord(value)
  return string.match(value, '^pl1|(%d+)|(%d+)|(%d+)|([^|]*)|(%d+)|(.*)$')
end

-- The token and the owner ("processHash|seq", compared as a plain string) of a record; nil when not one.
local function recordOwner(value)
  return string.match(value, '^pl1|(%d+)|%d+|%d+|([^|]*|%d+)|')
end

-- A record up to its seq: the rest is "<seq>|<traceField>".
local function recordHead(fencingToken, acquiredAtMs, extendedAtMs, processHash)
  return 'pl1|' .. fencingToken .. '|' .. acquiredAtMs .. '|' .. extendedAtMs .. '|' .. processHash .. '|'
end

-- The token that a release's tombstone remembers (a number); nil when the value is not a tombstone.
local function tombstoneToken(value)
  local token = string.match(value, '^pl1t|(%d+)$')
  return token and tonumber(token)
end

-- The tombstone of a released lock's token (a number).
local function formatTombstone(token)
  return 'pl1t|' .. string.format('%.0f', token)
end
`);

export interface OwnerParts {
  key: string;
  processHash: string;
  seq: string;
  trace?: string;
}

/** Who holds a lock: a process identity and the acquisition's seq, all that a compare-and-set or compare-and-delete needs. */
export type Owner = Pick<OwnerParts, "processHash" | "seq">;

export function formatOwnerHash({ key, processHash, seq, trace }: OwnerParts): string {
  return `${key}@${processHash}.${seq}` + (trace === undefined ? "" : `#${trace}`);
}

const HEX = /^[0-9a-f]{32}$/;

/**
 * Parses `@<processHash>.<seq>[#trace]` starting at `at` of `ownerHash`, the
 * key being everything before. By hand, in time independent of the trace's
 * length, so that scanning every "@" of a long hostile string stays linear.
 */
function parseSuffixAt(ownerHash: string, at: number): OwnerParts | undefined {
  if (ownerHash[at] !== "@" || ownerHash[at + 33] !== ".") return undefined;
  const processHash = ownerHash.slice(at + 1, at + 33);
  if (!HEX.test(processHash)) return undefined;
  let end = at + 34;
  while (end < ownerHash.length && ownerHash.charCodeAt(end) >= 48 && ownerHash.charCodeAt(end) <= 57) end++;
  if (end === at + 34 || (end < ownerHash.length && ownerHash[end] !== "#")) return undefined;
  const parts: OwnerParts = { key: ownerHash.slice(0, at), processHash, seq: ownerHash.slice(at + 34, end) };
  if (end < ownerHash.length) parts.trace = ownerHash.slice(end + 1);
  return parts;
}

/**
 * At most this many readings of one owner hash are tried (each costs a Redis
 * read in readOwnerHashStatus()): real keys almost never contain even one
 * `@<32 hex>.<digits>`, and a hostile string must not cost a read per "@".
 */
const MAX_CANDIDATES = 8;

/**
 * Every way to split an owner hash into key and suffix, shortest key first.
 * Usually there is one; a key that itself contains `@<32 hex>.<digits>` gives
 * more, and the caller tells them apart by reading Redis.
 */
export function parseOwnerHashCandidates(ownerHash: unknown): OwnerParts[] {
  if (typeof ownerHash !== "string") return [];
  const out: OwnerParts[] = [];
  for (let at = ownerHash.indexOf("@", 1); at > 0 && out.length < MAX_CANDIDATES; at = ownerHash.indexOf("@", at + 1)) {
    const parts = parseSuffixAt(ownerHash, at);
    if (parts) out.push(parts);
  }
  return out;
}

/** The first reading of an owner hash, or undefined when it is malformed. */
export function parseOwnerHash(ownerHash: unknown): OwnerParts | undefined {
  return parseOwnerHashCandidates(ownerHash)[0];
}

/** The owner parts of `ownerHash` for a known `key`: unambiguous whatever the key contains. */
export function ownerOf(key: string, ownerHash: unknown): OwnerParts | undefined {
  if (typeof ownerHash !== "string" || !ownerHash.startsWith(`${key}@`)) return undefined;
  return parseSuffixAt(ownerHash, key.length);
}

let lastMs: string | number = "";
let lastIso = "";

/** ISO time of ms (as the record spells it, or a number); records decoded together mostly share their ms (a batch shares one TIME), so the last one is kept. */
function isoOf(ms: string | number): string {
  if (ms !== lastMs) {
    lastIso = new Date(Number(ms)).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/** Parses a lock record read from `redisKey` for lock name `key`. Throws CorruptRecordError on anything else. */
export function decodeLockRecord(key: string, redisKey: string, raw: unknown): LockData {
  const m = typeof raw === "string" ? RECORD.exec(raw) : null;
  // Times have at most 15 digits, always a valid Date; the token must fit a double exactly.
  const token = m ? Number(m[1]) : NaN;
  if (!m || !Number.isSafeInteger(token)) throw new CorruptRecordError(redisKey, raw);
  const [, , acquiredMs, extendedMs, processHash, seq, traceField] = m as unknown as string[];
  // An empty trace field means "no trace"; a given trace is stored with a leading "#".
  return lockDataOf(
    { key, processHash: processHash!, seq: seq!, trace: traceField!.length > 0 ? traceField!.slice(1) : undefined },
    token,
    acquiredMs!,
    extendedMs!,
  );
}

/** The record the acquire script just wrote for us, from what we asked for and its token and time: no record to parse on the hot path. */
export function ownLockData(owner: OwnerParts, token: number, ms: string | number): LockData {
  return lockDataOf(owner, token, ms, ms);
}

function lockDataOf(owner: OwnerParts, fencingToken: number, acquiredMs: string | number, extendedMs: string | number): LockData {
  const lockData: LockData = {
    ownerHash: formatOwnerHash(owner),
    processHash: owner.processHash,
    acquiredAt: isoOf(acquiredMs),
    extendedAt: isoOf(extendedMs),
    fencingToken,
  };
  if (owner.trace !== undefined) lockData.trace = owner.trace;
  return lockData;
}

/** The trace as the record's last field: empty for none, `#trace` otherwise. */
export function encodeTraceField(trace: string | undefined): string {
  return trace === undefined ? "" : `#${trace}`;
}
