/*
 * Held locks as `pulselock inspect` shows them: which keys are lock records
 * (the SCAN pattern), and what one row says about each. The lock record is
 * read with src/lock-record.ts's own decoder; a tombstone (a lock released in
 * this very millisecond) or a foreign value under a lock key is no lock and
 * is counted apart.
 *
 * A record kind is what inspect is made of (RECORD_KINDS in inspect.ts):
 * semaphore permits bring their own pattern and rows (semaphore-kind.ts), and
 * inspect lists them with the locks.
 */
import { escapeLockName } from "../../src/keys";
import type { LockData } from "../../src/lock-data";
import { TOMBSTONE, decodeLockRecord, ownerOf } from "../../src/lock-record";
import { runScript } from "../../src/run-script";
import { INSPECT, decodeInspectReply, inspectKeys } from "../../src/scripts/inspect";
import { waitFlagKey } from "../../src/wait-flag-key";
import { CliError } from "./args";
import { CHUNK, type Store } from "./store";

type LockReads = { value: string | null; pttl: number; flagged: boolean }[];

/**
 * Value, PTTL and wait flag of each key: one INSPECT script call per chunk on a single Redis or Upstash; on a
 * cluster, whose chunks span slots, three plain reads per key, pipelined per node by the client.
 */
async function readLocks(store: Store, keys: string[]): Promise<LockReads> {
  if (!store.isCluster) {
    try {
      return decodeInspectReply(await runScript(store.transport, INSPECT, inspectKeys(keys), []), keys.length);
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`reading the locks at ${store.where} failed: ${(error as Error).message}`);
    }
  }
  const replies = await store.run(
    keys.flatMap((k) => [
      ["GET", k],
      ["PTTL", k],
      ["EXISTS", waitFlagKey(k)],
    ]),
  );
  return keys.map((_, j) => {
    const [value, pttl, flag] = replies.slice(3 * j, 3 * j + 3);
    return { value: typeof value === "string" ? value : null, pttl: typeof pttl === "number" ? pttl : -2, flagged: flag === 1 };
  });
}

/** One held lock, or one held semaphore permit (cli/ops/semaphore-kind.ts), as --json prints it. */
export interface Row {
  /** A lock, or one permit of a semaphore (a semaphore with several holders has a row per permit). */
  kind: "lock" | "permit";
  /** The lock (or semaphore) name, as the application passes it to acquireAndRun() (or locker.semaphore()). */
  key: string;
  redisKey: string;
  owner: {
    processHash: string;
    /** The owner's count of acquisitions: with processHash, the exact acquisition that holds the lock. */
    seq: string;
    trace?: string;
    /** What the owner's liveness record says about it ("host:pid" on Node and Bun); absent when the record is gone. */
    process?: string;
  };
  /**
   * The owner's liveness record exists: its process was alive within reportTtlMs; false when it is gone (the owner is
   * dead); null when its liveness key holds a value of another type, which pulselock never writes (unknown).
   */
  alive: boolean | null;
  acquiredAt: string;
  extendedAt: string;
  heldForMs: number;
  /** Time since the last extension (acquiredAt counts as the first). */
  sinceExtendedMs: number;
  /** PTTL of the lock record: when Redis drops it unless it is extended (a dead owner's lock is free for takeover at once anyway). */
  expiresInMs: number | null;
  fencingToken: number;
  /** A mutex() waiter on a runtime with pub/sub flagged the lock to be woken by its release; polling waiters (HTTP, edge) leave no trace. */
  waiters: boolean;
}

/** What one kind contributes to an inspection. */
export interface RecordKind {
  /** The SCAN MATCH pattern of this kind's keys under `prefix`, for lock names matching the glob `names`. */
  pattern(prefix: string, names: string): string;
  /** Reads `keys` (pipelined) and returns the rows of those that are this kind's records; `skipped`: keys whose value is not. */
  read(store: Store, prefix: string, keys: string[], nowMs: number): Promise<{ rows: Row[]; skipped: number; processHashes: string[] }>;
}

/** Redis glob metacharacters in the prefix match themselves only. */
export const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, "\\$&");

/** The name inside `<prefix><kind>{<escaped name>}` (kind "pl:" for a lock, "pl:sem:" for a semaphore), or undefined for another key. */
export function lockNameOf(prefix: string, redisKey: string, kind = "pl:"): string | undefined {
  const head = `${prefix}${kind}{`;
  if (!redisKey.startsWith(head) || !redisKey.endsWith("}")) return undefined;
  return redisKey.slice(head.length, -1).replace(/%(25|7B|7D)/g, (m) => decodeURIComponent(m));
}

/** One row for the hold `lockData` of `name` (its owner not yet known alive: inspect reads liveness for all rows at once). */
export function rowOf(kind: Row["kind"], name: string, redisKey: string, lockData: LockData, nowMs: number, expiresInMs: number | null, waiters: boolean): Row {
  const owner = ownerOf(name, lockData.ownerHash)!;
  return {
    kind,
    key: name,
    redisKey,
    owner: { processHash: owner.processHash, seq: owner.seq, ...(owner.trace === undefined ? {} : { trace: owner.trace }) },
    alive: false,
    acquiredAt: lockData.acquiredAt,
    extendedAt: lockData.extendedAt,
    heldForMs: Math.max(0, nowMs - Date.parse(lockData.acquiredAt)),
    sinceExtendedMs: Math.max(0, nowMs - Date.parse(lockData.extendedAt)),
    expiresInMs,
    fencingToken: lockData.fencingToken,
    waiters,
  };
}

export const lockKind: RecordKind = {
  // The escaping of names (keys.ts) leaves glob characters alone, so `report-*` still matches every report lock.
  pattern: (prefix, names) => `${escapeGlob(prefix)}pl:{${escapeLockName(names)}}`,

  async read(store, prefix, keys, nowMs) {
    const rows: Row[] = [];
    let skipped = 0;
    const processHashes = new Set<string>();
    for (let i = 0; i < keys.length; i += CHUNK) {
      const chunk = keys.slice(i, i + CHUNK);
      const reads = await readLocks(store, chunk);
      chunk.forEach((redisKey, j) => {
        const { value: raw, pttl, flagged } = reads[j]!;
        const key = lockNameOf(prefix, redisKey);
        // Gone since the SCAN (null with PTTL -2) is no lock and nothing odd; anything else that is no record is counted.
        if (key === undefined || raw === null || TOMBSTONE.test(raw)) return void (raw === null && pttl === -2 ? 0 : skipped++);
        let lockData;
        try {
          lockData = decodeLockRecord(key, redisKey, raw);
        } catch {
          return void skipped++; // a foreign value under a lock key: not ours to show as a lock
        }
        processHashes.add(lockData.processHash);
        rows.push(rowOf("lock", key, redisKey, lockData, nowMs, pttl >= 0 ? pttl : null, flagged));
      });
    }
    return { rows, skipped, processHashes: [...processHashes] };
  },
};
