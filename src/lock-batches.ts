import type { Batcher, SendHooks } from "./batcher";
import type { RedisDatabase } from "./database";
import type { Ended } from "./ended";
import { ACQUIRE, acquireCall, decodeAcquireReply, type AcquireOutcome, type AcquireRequest } from "./scripts/acquire";
import { RELEASE, decodeReleaseReply, releaseCall, type ReleaseRequest } from "./scripts/release";
import { boundedRelease, scriptBatcher } from "./script-batcher";

export { waitFlagKey } from "./wait-flag-key";
export type { AcquireOutcome, AcquireRequest, ReleaseRequest };

/** One lock to release, or a set's locks (one owner) released as one entry: one promise for the set, not one per key. */
type ReleaseEntry = ReleaseRequest | readonly ReleaseRequest[];
const firstOf = (entry: ReleaseEntry): ReleaseRequest => (Array.isArray(entry) ? (entry[0] as ReleaseRequest) : (entry as ReleaseRequest));

/** How a release announces itself: not at all without pub/sub, sharded pub/sub on a cluster. */
export function publishMode(db: RedisDatabase): string {
  return !db.transport.openSubscriber ? "0" : db.transport.isCluster ? "2" : "1";
}

/**
 * The acquire and release calls of one Locker, sent in batches of one script
 * call each (one lock per call on a cluster, where keys of several slots
 * cannot share a script). The wire format is spelled in src/scripts/acquire.ts
 * and src/scripts/release.ts.
 */
export class LockBatches {
  readonly #acquire: Batcher<AcquireRequest, AcquireOutcome>;
  readonly #release: Batcher<ReleaseEntry, unknown>;

  /** `stop`: see scriptBatcher (acquisitions only: a release is bounded, and harmless when it lands late). */
  constructor(db: RedisDatabase, options: { lockTtlMs: number; lockRecheckMs: number; requestScoped: boolean; stop?: Ended }) {
    const cluster = !!db.transport.isCluster;
    const ttl = String(options.lockTtlMs);
    this.#acquire = scriptBatcher<AcquireRequest, AcquireOutcome>(
      db,
      options.requestScoped,
      async (locks) => {
        // On a single Redis the script also checks our liveness record (a cluster cannot: another slot).
        const { keys, args } = acquireCall(locks, ttl, cluster ? undefined : db.processKey(locks[0]!.processHash));
        return decodeAcquireReply(await db.run(ACQUIRE, keys, args), locks.length);
      },
      (first, lock) => lock.processHash === first.processHash,
      { stop: options.stop },
    );
    this.#release = scriptBatcher<ReleaseEntry, unknown>(
      db,
      options.requestScoped,
      async (entries) => {
        const locks: ReleaseRequest[] = [];
        for (const entry of entries) {
          if (Array.isArray(entry)) for (const lock of entry as readonly ReleaseRequest[]) locks.push(lock);
          else locks.push(entry as ReleaseRequest);
        }
        const { keys, args } = releaseCall(locks, publishMode(db));
        const answers = decodeReleaseReply(await boundedRelease(db, RELEASE, keys, args, options.lockRecheckMs), locks.length);
        // No set among the entries (a set holds 2 or more): one answer per entry, as they are.
        if (locks.length === entries.length) return answers;
        // A set's entry gets its keys' answers as one array (some of them may be errors of their own).
        let at = 0;
        return entries.map((entry) => (Array.isArray(entry) ? answers.slice(at, (at += entry.length)) : answers[at++]));
      },
      (first, entry) => firstOf(entry).owner.processHash === firstOf(first).owner.processHash,
      { sizeOf: (entry) => (Array.isArray(entry) ? entry.length : 1) },
    );
  }

  /**
   * One lock of an acquire batch. redisKey = db.lockKey(key). victim = the dead holder to take over (its
   * processHash and seq), when there is one. waitFlagMs "" when none. Rejects with that lock's own error when
   * Redis refused its key, and with the batch's when the call failed. `hooks`: see SendHooks.
   */
  acquire(request: AcquireRequest, hooks?: SendHooks): Promise<AcquireOutcome> {
    return this.#acquire.call(request, hooks);
  }

  /**
   * Compare-and-delete of this owner's lock (one timeout of lockRecheckMs per batch): that lock's answer, for
   * releaseResult() (scripts/release.ts) to read. Rejects with a RedisCommandError when the call failed, or when
   * Redis refused that lock's key; the caller retries by its `transient`. An answer that cannot be read is not
   * a failed call: decoding it outside the retries keeps it from being retried. `hooks`: see SendHooks.
   */
  release(request: ReleaseRequest, hooks?: SendHooks): Promise<unknown> {
    return this.#release.call(request, hooks);
  }

  /**
   * The locks of a set (one owner, 2 or more; not on a cluster, where their slots differ) in one entry of a release
   * batch: one answer per lock, each as release() would resolve or reject (an Error in its place).
   */
  releaseSet(requests: readonly ReleaseRequest[], hooks?: SendHooks): Promise<unknown[]> {
    return this.#release.call(requests, hooks) as Promise<unknown[]>;
  }
}
