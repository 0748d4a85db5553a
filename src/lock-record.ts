import { CorruptRecordError } from "./errors";
import type { LockData } from "./lock-data";

/*
 * A lock record is one Redis string, so that one key per held lock is all a
 * lock costs:
 *
 *   pl1|<fencingToken>|<acquiredAtMs>|<extendedAtMs>|<processHash>|<seq>|<trace>
 *
 * The key is not stored (it is the Redis key), and the owner hash is derived
 * from key, processHash, seq and trace. The Lua scripts match the same layout
 * (src/scripts/*.ts); the trace is last because it may contain any character.
 */
const RECORD = /^pl1\|(\d{1,16})\|(\d{1,15})\|(\d{1,15})\|([0-9a-f]{32})\|(\d{1,16})\|((?:#[\s\S]*)?)$/;

/** The part of the owner hash after the key: `@<processHash>.<seq>[#trace]`. */
const OWNER_SUFFIX = /@([0-9a-f]{32})\.(\d+)(?:#([\s\S]*))?$/;

export interface OwnerParts {
  key: string;
  processHash: string;
  seq: string;
  trace?: string;
}

export function formatOwnerHash({ key, processHash, seq, trace }: OwnerParts): string {
  return `${key}@${processHash}.${seq}` + (trace === undefined ? "" : `#${trace}`);
}

/** Parses `@<processHash>.<seq>[#trace]`, the part of an owner hash after its key. */
function parseSuffix(key: string, suffix: string): OwnerParts | undefined {
  const m = OWNER_SUFFIX.exec(suffix);
  if (!m || m.index !== 0) return undefined;
  const [, processHash, seq, trace] = m as unknown as [string, string, string, string | undefined];
  return { key, processHash, seq, ...(trace === undefined ? {} : { trace }) };
}

/**
 * Every way to split an owner hash into key and suffix, shortest key first.
 * Usually there is one; a key that itself contains `@<32 hex>.<digits>` gives
 * more, and the caller tells them apart by reading Redis.
 */
export function parseOwnerHashCandidates(ownerHash: unknown): OwnerParts[] {
  if (typeof ownerHash !== "string") return [];
  const out: OwnerParts[] = [];
  for (let at = ownerHash.indexOf("@", 1); at > 0; at = ownerHash.indexOf("@", at + 1)) {
    const parts = parseSuffix(ownerHash.slice(0, at), ownerHash.slice(at));
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
  return parseSuffix(key, ownerHash.slice(key.length));
}

/** Parses a lock record read from `redisKey` for lock name `key`. Throws CorruptRecordError on anything else. */
export function decodeLockRecord(key: string, redisKey: string, raw: unknown): LockData {
  const m = typeof raw === "string" ? RECORD.exec(raw) : null;
  // Times have at most 15 digits, always a valid Date; the token must fit a double exactly.
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw new CorruptRecordError(redisKey, raw);
  const [, token, acquiredMs, extendedMs, processHash, seq, traceField] = m as unknown as string[];
  // An empty trace field means "no trace"; a given trace is stored with a leading "#".
  const trace = traceField!.length > 0 ? traceField!.slice(1) : undefined;
  const acquiredAt = new Date(Number(acquiredMs)).toISOString();
  const lockData: LockData = {
    ownerHash: formatOwnerHash({ key, processHash: processHash!, seq: seq!, trace }),
    processHash: processHash!,
    acquiredAt,
    extendedAt: acquiredMs === extendedMs ? acquiredAt : new Date(Number(extendedMs)).toISOString(),
    fencingToken: Number(token),
  };
  if (trace !== undefined) lockData.trace = trace;
  return lockData;
}

/** The trace as the record's last field: empty for none, `#trace` otherwise. */
export function encodeTraceField(trace: string | undefined): string {
  return trace === undefined ? "" : `#${trace}`;
}
