import type { Acquirer } from "./acquirer";
import type { Batcher } from "./batcher";
import type { RedisDatabase } from "./database";
import type { DatabaseHandle } from "./database-handle";
import { LivenessError } from "./errors";
import type { HeldLocks } from "./held-locks";
import type { LockData } from "./lock-data";
import { decodeLockRecord, formatOwnerHash, ownLockData, ownerOf, type Owner } from "./lock-record";
import { isProcessAlive } from "./lock-reads";
import { inOrderWithCalls, type Identity, type Liveness } from "./liveness";
import { slotGroups } from "./multi-lock-keys";
import type { ProcessIdentity } from "./process-identity";
import { identityOf, withFirstWrite } from "./first-write";
import { freeWhatMayHaveRun } from "./redis-errors";
import type { Releaser } from "./releaser";
import type { WaitUntil } from "./results";
import { scriptBatcher } from "./script-batcher";
import { ACQUIRE_ALL, acquireAllCall, decodeAcquireAllReply, type AcquireAllOutcome, type AcquireAllRequest } from "./scripts/acquire-all";
import { LockStatus } from "./statuses";

/** One key of a held set: its record, and when the call that took it was sent (its first extension, for self-fencing). */
export interface TakenKey {
  key: string;
  lockData: LockData;
  sentAt: number;
}

/** What a multi-key acquisition found: every key is ours (one seq, one identity), or `key` is someone else's and nothing is held. */
export type AcquiredAll =
  | { status: LockStatus.SUCCESS; locks: TakenKey[]; identity: Identity; seq: string }
  | { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; key: string; lockData: LockData };

type GroupAttempt =
  { status: LockStatus.SUCCESS; locks: TakenKey[] } | { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK; key: string; lockData: LockData } | { status: "LAPSED" };

/** `taken` (the keys of a set, in the order they were taken) in the order of `keys`. */
function inOrderOf(keys: readonly string[], taken: TakenKey[]): TakenKey[] {
  const byKey = new Map(taken.map((t) => [t.key, t]));
  return keys.map((key) => byKey.get(key)!);
}

/** A failed rollback is retried this many times (backoff as every release): a call must not hang for lockTtlMs on it. */
const ROLLBACK_ATTEMPTS = 3;

/**
 * Concurrent sets share one ACQUIRE_ALL call (as single acquisitions share one ACQUIRE, src/lock-batches.ts), counted
 * by their keys: at most as many keys as a batch of single locks has locks (MAX_BATCH), which bounds one call's Redis
 * time the same way, but at least one set (of up to 100 keys); 2 calls in flight.
 */
const setKeys = (set: AcquireAllRequest): number => set.redisKeys.length;

export interface MultiLockAcquirerParams {
  database: DatabaseHandle;
  liveness: Liveness;
  identity: ProcessIdentity;
  held: HeldLocks;
  releaser: Releaser;
  acquirer: Acquirer;
  lockTtlMs: number;
  /** Batches hold the calls of one request only (Cloudflare Workers; see Batcher). */
  requestScoped: boolean;
  assertOpen: () => void;
  isTerminated: () => boolean;
  onError: (error: unknown) => void;
}

/**
 * Takes a set of locks all or nothing (docs/decisions.md, "Multi-key locks").
 * A single Redis takes the whole set in one script call. A cluster takes it
 * slot group by slot group, in one global order (slot, then name), each group
 * in one call; when a later group is held, the groups taken so far are
 * released before the call returns. Nobody ever waits while holding part of
 * a set, so overlapping sets cannot deadlock.
 */
export class MultiLockAcquirer {
  #batches: { db: RedisDatabase; batcher: Batcher<AcquireAllRequest, AcquireAllOutcome> } | undefined;

  constructor(private readonly p: MultiLockAcquirerParams) {}

  /** The ACQUIRE_ALL batches of `db` (one set per call on a cluster, where sets of several slots cannot share a script). */
  #batcher(db: RedisDatabase): Batcher<AcquireAllRequest, AcquireAllOutcome> {
    if (this.#batches?.db === db) return this.#batches.batcher;
    const cluster = !!db.transport.isCluster;
    const ttl = String(this.p.lockTtlMs);
    const batcher = scriptBatcher<AcquireAllRequest, AcquireAllOutcome>(
      db,
      this.p.requestScoped,
      async (sets) => {
        // On a single Redis the script also checks our liveness record (a cluster cannot: another slot).
        const { keys, args } = acquireAllCall(sets, ttl, cluster ? undefined : db.processKey(sets[0]!.processHash));
        const reply = await db.run(ACQUIRE_ALL, keys, args);
        return decodeAcquireAllReply(
          reply,
          sets.map((set) => set.redisKeys.length),
        );
      },
      (first, set) => set.processHash === first.processHash,
      { sizeOf: setKeys, stop: this.p.database.ended },
    );
    this.#batches = { db, batcher };
    return batcher;
  }

  /** `keys` are checked (assertKeySet) by the caller. The result lists the keys in the caller's order. */
  async acquireAll(keys: readonly string[], trace: string | undefined, waitFlagMs: string, waitUntil: WaitUntil | undefined): Promise<AcquiredAll> {
    this.p.assertOpen();
    this.p.held.acquireStarted();
    try {
      // Known values are not awaited: each await costs a promise and a microtask on every set (as in Acquirer).
      const db = this.p.database.known ?? (await this.p.database.get());
      const seq = this.p.acquirer.nextSeq();
      for (let attempt = 0; ; attempt++) {
        // A new identity's first write goes out with the set's call, as with a single lock (Acquirer): where
        // inOrderWithCalls holds there is no cluster, so the set is one group.
        const next = this.p.identity.live(inOrderWithCalls(this.p.liveness, db));
        const known = identityOf(next);
        const identity = known instanceof Promise ? await known : known;
        const taken: TakenKey[] = [];
        let refused: GroupAttempt | undefined;
        for (const group of slotGroups(db, keys)) {
          let res: GroupAttempt;
          try {
            res = await withFirstWrite(
              next,
              (before) => this.#tryGroup(db, group, identity, seq, trace, waitFlagMs, before),
              (held) => this.#rollback(held.locks, identity, seq, trace),
            );
          } catch (error) {
            await this.#rollback(taken, identity, seq, trace);
            throw error;
          }
          if (res.status !== LockStatus.SUCCESS) {
            refused = res;
            break;
          }
          for (const lock of res.locks) taken.push(lock);
        }
        if (refused?.status === LockStatus.SOMEONE_ELSE_HOLDS_LOCK) {
          await this.#rollback(taken, identity, seq, trace);
          return refused;
        }
        if (!refused && !this.p.isTerminated() && this.p.identity.isAlive(identity)) {
          try {
            if (db.waitForReplicas > 0) for (const { key } of taken) await db.replicated("acquire", db.lockKey(key));
          } catch (error) {
            // Not on enough replicas: a failover could lose it, so the set does not count as held.
            await this.#rollback(taken, identity, seq, trace);
            throw error;
          }
          // In the caller's order (a cluster's groups are in slot order, each sorted; one group on a single Redis is the caller's order).
          const locks = taken.length === 1 || !db.transport.isCluster ? taken : inOrderOf(keys, taken);
          const owner = { processHash: identity.processHash, seq };
          for (const { key, lockData } of locks) this.p.held.hold(lockData.ownerHash, { key, owner }, true, waitUntil);
          return { status: LockStatus.SUCCESS, locks, identity, seq };
        }
        // Our liveness record was gone in Redis, or lapsed while we took the set: nothing taken under it may stay.
        await this.#rollback(taken, identity, seq, trace);
        this.p.assertOpen();
        this.p.identity.lapse(identity.generation, "this process's liveness record was lost or lapsed");
        if (attempt) throw new LivenessError("pulselock: this process's liveness record vanished again right after it was written");
      }
    } finally {
      this.p.held.acquireEnded(waitUntil);
    }
  }

  /**
   * One slot group, all or nothing: 1 call when every key is free, 2 more (liveness reads of the holders, then a
   * compare-and-set on them) when each held key's holder is dead. `before`: sends the identity's first write ahead.
   */
  async #tryGroup(
    db: RedisDatabase,
    group: string[],
    identity: Identity,
    seq: string,
    trace: string | undefined,
    waitFlagMs: string,
    before?: () => void,
  ): Promise<GroupAttempt> {
    const redisKeys = group.map((key) => db.lockKey(key));
    let victims: (Owner | undefined)[] = [];
    for (let round = 0; ; round++) {
      const sentAt = this.p.liveness.now();
      let reply;
      try {
        reply = await this.#batcher(db).call({ redisKeys, processHash: identity.processHash, seq, trace, victims, waitFlagMs }, before && { before });
      } catch (error) {
        // The script may have run although no reply says so: free what it may have taken (a compare-and-delete on our seq).
        await freeWhatMayHaveRun(error, () =>
          this.#rollback(
            group.map((key) => ({ key })),
            identity,
            seq,
            trace,
          ),
        );
        throw error;
      }
      if (reply.kind === "lapsed") return { status: "LAPSED" };
      if (reply.kind === "taken") {
        const locks = group.map((key, i) => ({
          key,
          sentAt,
          lockData: ownLockData({ key, processHash: identity.processHash, seq, trace }, reply.tokens[i]!, reply.ms),
        }));
        return { status: LockStatus.SUCCESS, locks };
      }
      const held = reply.held.map(({ index, record }) => ({ index, key: group[index]!, lockData: decodeLockRecord(group[index]!, redisKeys[index]!, record) }));
      // Held by ourselves (another run of this process) or, after one takeover try, by anyone: refused.
      const live = round > 0 ? held[0] : held.find((h) => h.lockData.processHash === identity.processHash);
      if (live) return { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, key: live.key, lockData: live.lockData };
      const hashes = [...new Set(held.map((h) => h.lockData.processHash))];
      const alive = new Set((await Promise.all(hashes.map(async (hash) => ((await isProcessAlive(db, hash)) ? hash : undefined)))).filter(Boolean));
      const blocker = held.find((h) => alive.has(h.lockData.processHash));
      if (blocker) return { status: LockStatus.SOMEONE_ELSE_HOLDS_LOCK, key: blocker.key, lockData: blocker.lockData };
      // Every holder is dead: name them, and take the group over them in one compare-and-set.
      victims = group.map(() => undefined);
      for (const h of held) victims[h.index] = { processHash: h.lockData.processHash, seq: ownerOf(h.key, h.lockData.ownerHash)!.seq };
    }
  }

  /**
   * Frees keys this call took (or may have taken): a compare-and-delete on our seq, harmless where it was not taken.
   * A rollback that still fails leaves the key releasable by its lockData until it expires, and reports the error.
   */
  async #rollback(taken: { key: string }[], identity: Identity, seq: string, trace: string | undefined): Promise<void> {
    const owner = { processHash: identity.processHash, seq };
    await Promise.all(
      taken.map(({ key }) =>
        this.p.releaser.release(key, owner, ROLLBACK_ATTEMPTS).catch((error: unknown) => {
          this.p.held.orphaned(formatOwnerHash({ key, ...owner, trace }), { key, owner });
          this.p.onError(error);
        }),
      ),
    );
  }
}
