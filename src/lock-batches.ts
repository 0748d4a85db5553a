import { Batcher, type SendHooks } from "./batcher";
import type { RedisDatabase } from "./database";
import { RedisCommandError } from "./errors";
import { ACQUIRE, acquireCall, decodeAcquireReply, type AcquireOutcome, type AcquireRequest } from "./scripts/acquire";
import { RELEASE, decodeReleaseReply, releaseCall, type ReleaseRequest } from "./scripts/release";
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
  readonly #release: Batcher<ReleaseRequest, unknown>;

  constructor(db: RedisDatabase, options: { lockTtlMs: number; lockRecheckMs: number; requestScoped: boolean }) {
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
    this.#release = new Batcher<ReleaseRequest, unknown>(
      async (locks) => {
        // Bounded, one timer per batch: a release that times out and lands later is harmless (a compare-and-delete).
        const { keys, args } = releaseCall(locks, publishMode(db));
        const reply = await withTimeout(
          db.run(RELEASE, keys, args),
          timeoutMs,
          () => new RedisCommandError("release", "TIMEOUT", true, `no reply within ${timeoutMs} ms`),
        );
        return decodeReleaseReply(reply, locks.length);
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
}
