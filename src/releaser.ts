import { backoffMs } from "./backoff";
import type { DatabaseHandle } from "./database-handle";
import { DEFAULTS } from "./defaults";
import type { HeldLocks } from "./held-locks";
import { formatOwnerHash, type Owner, type OwnerParts } from "./lock-record";
import type { Liveness } from "./liveness";
import { releaseResult } from "./scripts/release";
import { toRedisCommandError } from "./redis-errors";
import type { ReleaseResult } from "./results";
import { LockStatus } from "./statuses";
import { sleep } from "./timers";

export interface ReleaserParams {
  database: DatabaseHandle;
  liveness: Liveness;
  held: HeldLocks;
  lockTtlMs: number;
  lockRecheckMs: number;
  /** A transient error that a retry may still get past, or a quiet release's failure. */
  onError: (error: unknown) => void;
}

/**
 * Frees locks this Locker wrote: a compare-and-delete on the owner's process
 * hash and seq, so a retry, or a release that lands late, never frees
 * anybody else's lock. Transient errors are retried until lockTtlMs, when the
 * lock has expired anyway.
 */
export class Releaser {
  constructor(private readonly p: ReleaserParams) {}

  /**
   * Releases with retries of transient errors: `attempts` of them, or until lockTtlMs has passed. When `heldAt`
   * says the lock was still certainly ours as the first try left, a retry that finds it gone or taken is a SUCCESS:
   * the first try may have deleted it before its reply was lost. `onSent` runs right after the first try was
   * handed to the transport, so that what it sends follows the release in the same request.
   */
  async release(key: string, owner: Owner, attempts: number, heldAt?: (sentAt: number) => boolean, onSent?: () => void): Promise<ReleaseResult> {
    const db = this.p.database.known ?? (await this.p.database.get());
    const redisKey = db.lockKey(key);
    const request = { key, redisKey, owner };
    const batches = this.p.database.batches(db);
    return this.retrying(
      "release",
      (first) => batches.release(request, first ? { after: onSent } : undefined),
      (reply) => releaseResult(key, redisKey, reply),
      attempts,
      heldAt,
    );
  }

  /**
   * Releases the locks of a set (`keys`, one owner), all sent at once, each as {@link release} releases one:
   * the first tries share a batch (one script call on a single Redis), and only a key whose first try failed
   * goes on to retries of its own. `onSent(i)` runs once key i's first try was handed to the transport.
   * Resolves with one outcome per key, in the order of `keys`.
   */
  async releaseAll(
    keys: readonly string[],
    owner: Owner,
    attempts: number,
    heldAt: (sentAt: number) => boolean,
    onSent?: (index: number) => void,
  ): Promise<PromiseSettledResult<ReleaseResult>[]> {
    const db = this.p.database.known ?? (await this.p.database.get());
    const batches = this.p.database.batches(db);
    const start = this.p.liveness.now();
    const oursAtStart = heldAt(start);
    return Promise.allSettled(
      keys.map((key, i) => {
        const redisKey = db.lockKey(key);
        const request = { key, redisKey, owner };
        // Decoded outside the retries, as in retrying(): a reply that cannot be read fails its own key.
        const decode = (reply: unknown) => releaseResult(key, redisKey, reply);
        return batches
          .release(request, onSent && { after: () => onSent(i) })
          .then(decode, (error: unknown) => this.#retries("release", () => batches.release(request), decode, attempts, start, oursAtStart, error));
      }),
    );
  }

  /**
   * The retries of any release (a lock's, a semaphore permit's): `send` makes one try (`first` for the first),
   * `decode` reads its reply outside the retries (a reply that cannot be read is not transient).
   */
  async retrying(
    operation: string,
    send: (first: boolean) => Promise<unknown>,
    decode: (reply: unknown) => ReleaseResult,
    attempts: number,
    heldAt?: (sentAt: number) => boolean,
  ): Promise<ReleaseResult> {
    const start = this.p.liveness.now();
    const oursAtStart = heldAt?.(start) ?? false;
    let reply: unknown;
    try {
      // Bounded: a release that times out and lands later is harmless (it is a compare-and-delete).
      reply = await send(true);
    } catch (error) {
      return this.#retries(operation, () => send(false), decode, attempts, start, oursAtStart, error);
    }
    // Decoded outside the retries: a reply that is not a release's answer, or a corrupt record, is not transient.
    return decode(reply);
  }

  /**
   * What follows a first try that failed with `error`: more tries while the error is transient, up to `attempts`
   * in all or until lockTtlMs has passed since `start`. A retry that finds the lock gone or taken is a SUCCESS when
   * the lock was still certainly ours as the first try left (`oursAtStart`): that try may have deleted it.
   */
  async #retries(
    operation: string,
    send: () => Promise<unknown>,
    decode: (reply: unknown) => ReleaseResult,
    attempts: number,
    start: number,
    oursAtStart: boolean,
    error: unknown,
  ): Promise<ReleaseResult> {
    for (let attempt = 1; ; attempt++) {
      const e = toRedisCommandError(operation, error);
      if (!e.transient || attempt >= attempts || this.p.liveness.now() - start >= this.p.lockTtlMs) throw e;
      this.p.onError(e);
      await sleep(backoffMs(attempt - 1, DEFAULTS.mutexRecheckMs, this.p.lockRecheckMs));
      let reply: unknown;
      try {
        reply = await send();
      } catch (next) {
        error = next;
        continue;
      }
      const result = decode(reply);
      return result.status !== LockStatus.SUCCESS && oursAtStart ? { status: LockStatus.SUCCESS, lockData: null } : result;
    }
  }

  /**
   * One try to free a lock we may have written but do not hold. Should it fail, the lock stays releasable by its
   * lockData (a refusal shows it) until it expires.
   */
  quietly(owner: OwnerParts): Promise<unknown> {
    return this.release(owner.key, owner, 1).catch((error: unknown) => {
      this.p.held.orphaned(formatOwnerHash(owner), { key: owner.key, owner });
      this.p.onError(error);
    });
  }
}
