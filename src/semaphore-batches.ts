import type { Batcher, SendHooks } from "./batcher";
import type { RedisDatabase } from "./database";
import type { Ended } from "./ended";
import { publishMode } from "./lock-batches";
import {
  SEMAPHORE_ACQUIRE,
  decodeSemaphoreAcquireReply,
  semaphoreAcquireCall,
  type SemaphoreAcquireOutcome,
  type SemaphoreAcquireRequest,
} from "./scripts/semaphore-acquire";
import { SEMAPHORE_RELEASE, decodeSemaphoreReleaseReply, semaphoreReleaseCall, type SemaphoreReleaseRequest } from "./scripts/semaphore-release";
import { boundedRelease, scriptBatcher } from "./script-batcher";

/**
 * A Locker's permit acquisitions and releases, sent in batches of one script call each, as its lock calls are
 * (src/lock-batches.ts; one permit per call on a cluster, where semaphores of several slots cannot share a script).
 * The wire format is spelled in src/scripts/semaphore-acquire.ts and src/scripts/semaphore-release.ts.
 */
export class SemaphoreBatches {
  readonly #acquire: Batcher<SemaphoreAcquireRequest, SemaphoreAcquireOutcome>;
  readonly #release: Batcher<SemaphoreReleaseRequest, unknown>;

  /** `stop`: see scriptBatcher (acquisitions only, as in LockBatches). */
  constructor(db: RedisDatabase, options: { lockTtlMs: number; lockRecheckMs: number; requestScoped: boolean; stop?: Ended }) {
    const cluster = !!db.transport.isCluster;
    this.#acquire = scriptBatcher<SemaphoreAcquireRequest, SemaphoreAcquireOutcome>(
      db,
      options.requestScoped,
      async (requests) => {
        // On a single Redis the script also checks our liveness record (a cluster cannot: another slot).
        const { keys, args } = semaphoreAcquireCall(requests, options.lockTtlMs, cluster ? undefined : db.processKey(requests[0]!.owner.processHash));
        return decodeSemaphoreAcquireReply(await db.run(SEMAPHORE_ACQUIRE, keys, args), requests.length);
      },
      (first, r) => r.owner.processHash === first.owner.processHash,
      { stop: options.stop },
    );
    this.#release = scriptBatcher<SemaphoreReleaseRequest, unknown>(
      db,
      options.requestScoped,
      async (requests) => {
        const { keys, args } = semaphoreReleaseCall(requests, publishMode(db));
        return decodeSemaphoreReleaseReply(await boundedRelease(db, SEMAPHORE_RELEASE, keys, args, options.lockRecheckMs), requests.length);
      },
      () => true,
    );
  }

  /** One permit of an acquire batch; rejects with its own error when Redis refused its key, with the batch's when the call failed. */
  acquire(request: SemaphoreAcquireRequest, hooks?: SendHooks): Promise<SemaphoreAcquireOutcome> {
    return this.#acquire.call(request, hooks);
  }

  /** One permit's release; its answer is for semaphoreReleaseResult() to read. `after`: runs once the batch is handed to the transport. */
  release(request: SemaphoreReleaseRequest, after?: () => void): Promise<unknown> {
    return this.#release.call(request, after ? { after } : undefined);
  }
}
