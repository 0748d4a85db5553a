import { Batcher } from "./batcher";
import type { Database } from "./database";
import { RedisCommandError } from "./errors";
import type { ReleaseResult } from "./results";
import { ACQUIRE, acquireCall, decodeAcquireReply, type AcquireOutcome, type AcquireRequest } from "./scripts/acquire";
import { RELEASE, decodeReleaseReply, releaseCall, releaseResult, type ReleaseRequest } from "./scripts/release";
import { withTimeout } from "./timers";

export { waitFlagKey } from "./wait-flag-key";
export type { AcquireOutcome, AcquireRequest, ReleaseRequest };

/**
 * Batching (see Batcher): a batch of 100 keeps one script under ~0.5 ms of
 * Redis time, and with 2 batches in flight a second one can leave while the
 * first is out, so that calls do not queue behind a slow HTTP round trip for
 * long. Smaller batches with more in flight were measured and not faster
 * (docs/benchmarks.md).
 */
const MAX_BATCH = 100;
const MAX_BATCHES_IN_FLIGHT = 2;

/** How a release announces itself: not at all without pub/sub, sharded pub/sub on a cluster. */
export function publishMode(db: Database): string {
  return !db.transport.openSubscriber ? "0" : db.transport.isCluster ? "2" : "1";
}

/** The errors of answers that Redis gave but that say no release result (see isUnreadableRelease). */
const unreadable = new WeakSet<object>();

/**
 * Whether a rejection of LockBatches.release() is an answer that came back but
 * cannot be read (a value that is not a lock record, an entry of a wrong
 * shape), rather than a call that failed: retrying would read the same
 * answer, so it is thrown as it is.
 */
export function isUnreadableRelease(error: unknown): boolean {
  return typeof error === "object" && error !== null && unreadable.has(error);
}

/**
 * The acquire and release calls of one Locker, sent in batches of one script
 * call each (one lock per call on a cluster, where keys of several slots
 * cannot share a script). The wire format is spelled in src/scripts/acquire.ts
 * and src/scripts/release.ts.
 */
export class LockBatches {
  readonly #acquire: Batcher<AcquireRequest, AcquireOutcome>;
  readonly #release: Batcher<ReleaseRequest, ReleaseResult>;

  constructor(db: Database, options: { lockTtlMs: number; lockRecheckMs: number; requestScoped: boolean }) {
    const cluster = !!db.transport.isCluster;
    const [size, inFlight] = cluster ? [1, Infinity] : [MAX_BATCH, MAX_BATCHES_IN_FLIGHT];
    const ttl = String(options.lockTtlMs);
    const scope = options.requestScoped ? "request" : "turn";
    this.#acquire = new Batcher<AcquireRequest, AcquireOutcome>(
      async (locks) => {
        // On a single Redis the script also checks our liveness record (a cluster cannot: another slot).
        const { keys, args } = acquireCall(locks, ttl, cluster ? undefined : db.processKey(locks[0]!.processHash));
        return decodeAcquireReply(await db.run(ACQUIRE, keys, args), locks.length);
      },
      (first, lock) => lock.processHash === first.processHash,
      size,
      inFlight,
      scope,
    );
    const timeoutMs = options.lockRecheckMs;
    this.#release = new Batcher<ReleaseRequest, ReleaseResult>(
      async (locks) => {
        // Bounded, one timer per batch: a release that times out and lands later is harmless (a compare-and-delete).
        const { keys, args } = releaseCall(locks, publishMode(db));
        const reply = await withTimeout(
          db.run(RELEASE, keys, args),
          timeoutMs,
          () => new RedisCommandError("release", "TIMEOUT", true, `no reply within ${timeoutMs} ms`),
        );
        const answers = decodeReleaseReply(reply, locks.length);
        const results = new Array<ReleaseResult | Error>(locks.length);
        for (let i = 0; i < locks.length; i++) {
          const answer = answers[i];
          if (answer instanceof Error) {
            results[i] = answer;
            continue;
          }
          try {
            results[i] = releaseResult(locks[i]!.key, locks[i]!.redisKey, answer);
          } catch (error) {
            unreadable.add(error as object);
            results[i] = error as Error;
          }
        }
        return results;
      },
      () => true,
      size,
      inFlight,
      scope,
    );
  }

  /**
   * One lock of an acquire batch. redisKey = db.lockKey(key). victim = the dead holder to take over (its
   * processHash and seq), when there is one. waitFlagMs "" when none. Rejects with that lock's own error when
   * Redis refused its key, and with the batch's when the call failed.
   */
  acquire(request: AcquireRequest): Promise<AcquireOutcome> {
    return this.#acquire.call(request);
  }

  /**
   * Compare-and-delete of this owner's lock (one timeout of lockRecheckMs per batch), decoded to a ReleaseResult
   * for the user key. Rejects with a RedisCommandError when the call failed (retry by its `transient`), or with
   * an error for which isUnreadableRelease() is true when the answer cannot be read (CorruptRecordError, or
   * BAD_RESPONSE for one lock's answer of a wrong shape): thrown as it is, as before.
   */
  release(request: ReleaseRequest): Promise<ReleaseResult> {
    return this.#release.call(request);
  }
}
